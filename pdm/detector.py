"""The explainable per-machine detector: vibration against the machine's own baseline.

Every machine is scored on its own history, all machines at once (numpy arrays), one
feature window (:class:`pdm.features.Buckets`) at a time:

- **baseline**: a low quantile (``baseline_q``) of the machine's running vibration RMS
  (and crest factor) over its last ``baseline_h`` running hours: its healthy level;
- **level**: an EWMA (time constant ``fast_h`` running hours) of the RMS, as a ratio to the
  baseline (``vib_ratio``);
- **trend**: the gap between that EWMA and a slower one (``slow_h``), which for a steady
  rise equals the rise over ``slow_h - fast_h`` hours: ``trend_per_day`` is the ratio's
  rise per running day;
- **crest**: the EWMA of the crest factor over its baseline (``crest_ratio``).

Each becomes an evidence in 0..1 (0 at the baseline, 1 at ``*_full``); the score is their
weighted sum. ``alert`` starts when the score reaches ``threshold`` and holds until it
falls below ``threshold - hysteresis`` (so a score hovering at the threshold is one
alert, not many). A stop for a fault or maintenance restarts both EWMAs from the first
running window after it (a repaired component vibrates differently), never the baseline;
while the machine is down its last score and alert hold, so a machine repaired for
something else than its worn part alerts on without a second alert. A machine is not
scored before it has run ``warmup_h`` hours. Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields

import numpy as np

from pdm.features import Buckets


class DetectorConfigError(ValueError):
    """A detector setting out of range; the message names it and what is allowed."""


@dataclass(frozen=True)
class DetectorConfig:
    bucket_s: float = 300.0  # one feature window = one evaluation
    baseline_h: float = 168.0  # running hours of history the baseline is drawn from
    baseline_q: float = 0.25  # the quantile of that history taken as the healthy level
    warmup_h: float = 12.0  # running hours before a machine is scored
    fast_h: float = 2.0  # EWMA time constant of the level (running hours)
    slow_h: float = 8.0  # the slower EWMA the trend is measured against
    level_full: float = 1.5  # vibration ratio at which the level evidence is 1
    trend_full: float = 0.5  # ratio rise per running day at which the trend evidence is 1
    crest_full: float = 1.5  # crest ratio at which the crest evidence is 1
    w_level: float = 0.6
    w_trend: float = 0.25
    w_crest: float = 0.15
    threshold: float = 0.5
    hysteresis: float = 0.1  # an alert ends when the score falls below threshold - this
    horizon_h: float = 192.0  # "failure expected within horizon_h hours" when alerting
    rebase_h: float = 2.0  # how often the baseline quantile is recomputed (running hours)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v >= 0):
                raise DetectorConfigError(f"detector {f.name} = {v!r}: must be a number >= 0")
        if self.bucket_s <= 0 or self.horizon_h <= 0:
            raise DetectorConfigError("detector bucket_s and horizon_h must be > 0")
        if not 0 < self.baseline_q < 1:
            raise DetectorConfigError(f"detector baseline_q = {self.baseline_q}: must be "
                                      "between 0 and 1")
        if not 0 < self.fast_h < self.slow_h:
            raise DetectorConfigError(f"detector fast_h = {self.fast_h}, slow_h = "
                                      f"{self.slow_h}: need 0 < fast_h < slow_h")
        if self.baseline_h * 3600 < self.bucket_s or self.warmup_h > self.baseline_h:
            raise DetectorConfigError("detector baseline_h must hold warmup_h and at least "
                                      "one bucket")
        if min(self.level_full, self.crest_full) <= 1 or self.trend_full <= 0:
            raise DetectorConfigError("detector level_full and crest_full must be > 1, "
                                      "trend_full > 0")
        if not 0 < self.threshold <= 1:
            raise DetectorConfigError(f"detector threshold = {self.threshold}: must be in "
                                      "(0, 1]")
        if self.hysteresis >= self.threshold:
            raise DetectorConfigError(f"detector hysteresis = {self.hysteresis}: must be "
                                      "below the threshold")

    def buckets_in(self, hours: float) -> int:
        return max(1, round(hours * 3600 / self.bucket_s))


@dataclass
class Verdict:
    """The detector's output for one window, one entry per machine."""

    score: np.ndarray  # 0..1 (0 in warm-up; held while down)
    alert: np.ndarray  # bool (held while down)
    scored: np.ndarray  # bool: past warm-up, running data since the last stop
    vib_ratio: np.ndarray  # NaN while not scored
    trend_per_day: np.ndarray
    crest_ratio: np.ndarray  # NaN without crest data
    baseline_mm_s: np.ndarray
    evidence: np.ndarray  # (3, n): level, trend, crest contributions to the score
    running_h: np.ndarray  # running hours seen (for the warm-up message)
    down: np.ndarray  # bool: stopped for a fault or maintenance, no running data since


class Detector:
    """Per-machine state for ``n`` machines; :meth:`update` takes one window."""

    def __init__(self, n: int, config: DetectorConfig | None = None) -> None:
        self.n = n
        self.cfg = cfg = config or DetectorConfig()
        self.hist_len = cfg.buckets_in(cfg.baseline_h)
        self.hist_v = np.full((n, self.hist_len), np.nan, np.float32)
        self.hist_c = np.full((n, self.hist_len), np.nan, np.float32)
        self.count = np.zeros(n, np.int64)  # valid windows seen
        self.base_v = np.full(n, np.nan)
        self.base_c = np.full(n, np.nan)
        self._rebased_at = np.full(n, -1, np.int64)
        self.ewma_f = np.full(n, np.nan)
        self.ewma_s = np.full(n, np.nan)
        self.ewma_c = np.full(n, np.nan)
        self.down = np.zeros(n, bool)
        self.alerting = np.zeros(n, bool)
        self.score = np.zeros(n)
        self.a_fast = 1 - np.exp(-cfg.bucket_s / (cfg.fast_h * 3600))
        self.a_slow = 1 - np.exp(-cfg.bucket_s / (cfg.slow_h * 3600))
        self.rebase_every = cfg.buckets_in(cfg.rebase_h)
        self.warmup = cfg.buckets_in(cfg.warmup_h)

    def copy(self) -> Detector:
        """An independent copy (to run ahead and keep or drop)."""
        new = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(new, name, value.copy())
        return new

    # -- state -------------------------------------------------------------------------
    def update(self, b: Buckets) -> Verdict:
        """Take one feature window (all machines) and score it."""
        cfg = self.cfg
        reset = b.reset & ~b.valid
        self.ewma_f[reset] = self.ewma_s[reset] = self.ewma_c[reset] = np.nan
        self.down |= reset
        v = b.valid & np.isfinite(b.vib) & (b.vib > 0)
        if v.any():
            idx = np.flatnonzero(v)
            x = b.vib[idx]
            slot = self.count[idx] % self.hist_len
            self.hist_v[idx, slot] = x
            c = b.crest[idx]
            self.hist_c[idx, slot] = c  # NaN where the machine sends no crest factor
            self.count[idx] += 1
            self.down[idx] = False
            self._ewma(self.ewma_f, idx, x, self.a_fast)
            self._ewma(self.ewma_s, idx, x, self.a_slow)
            ci = np.isfinite(c)
            self._ewma(self.ewma_c, idx[ci], c[ci], self.a_fast)
            due = (self._rebased_at < 0) | (self.count - self._rebased_at >= self.rebase_every)
            self._rebase(np.flatnonzero(v & due))
        return self._verdict(cfg)

    @staticmethod
    def _ewma(acc: np.ndarray, idx: np.ndarray, x: np.ndarray, alpha: float) -> None:
        prev = acc[idx]
        acc[idx] = np.where(np.isfinite(prev), prev + alpha * (x - prev), x)

    def _rebase(self, idx: np.ndarray) -> None:
        if not idx.size:
            return
        q = self.cfg.baseline_q
        self.base_v[idx] = row_quantile(self.hist_v[idx], q)
        self.base_c[idx] = row_quantile(self.hist_c[idx], q)
        self._rebased_at[idx] = self.count[idx]

    def _verdict(self, cfg: DetectorConfig) -> Verdict:
        scored = (self.count >= self.warmup) & np.isfinite(self.ewma_f) & (self.base_v > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(scored, self.ewma_f / self.base_v, np.nan)
            trend = np.where(scored, (self.ewma_f - self.ewma_s) / self.base_v
                             / ((cfg.slow_h - cfg.fast_h) / 24), np.nan)
            crest = np.where(scored & (self.base_c > 0), self.ewma_c / self.base_c, np.nan)
        level_e = np.clip((ratio - 1) / (cfg.level_full - 1), 0, 1)
        trend_e = np.clip(trend / cfg.trend_full, 0, 1)
        crest_e = np.clip((crest - 1) / (cfg.crest_full - 1), 0, 1)
        evidence = np.nan_to_num(np.stack([cfg.w_level * level_e, cfg.w_trend * trend_e,
                                           cfg.w_crest * crest_e]))
        fresh = np.clip(evidence.sum(axis=0), 0, 1)
        level = np.where(self.alerting, cfg.threshold - cfg.hysteresis, cfg.threshold)
        self.alerting = np.where(scored, fresh >= level, self.alerting & self.down)
        self.score = np.where(scored, fresh, np.where(self.down, self.score, 0.0))
        score = self.score.copy()
        return Verdict(score=score, alert=self.alerting.copy(), scored=scored,
                       vib_ratio=ratio, trend_per_day=trend, crest_ratio=crest,
                       baseline_mm_s=self.base_v.copy(), evidence=evidence,
                       running_h=self.count * cfg.bucket_s / 3600, down=self.down.copy())


def row_quantile(a: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile of each row's finite values (linear, as ``np.nanquantile``;
    NaN for a row without any)."""
    s = np.sort(a, axis=1).astype(np.float64)  # NaN sorts last
    cnt = np.isfinite(s).sum(axis=1)
    pos = q * np.maximum(cnt - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0))
    rows = np.arange(len(s))
    out = s[rows, lo] + (pos - lo) * (s[rows, hi] - s[rows, lo])
    return np.where(cnt > 0, out, np.nan)


def reason(v: Verdict, i: int, cfg: DetectorConfig) -> str:
    """Why machine ``i`` scored what it did, in one line (the strongest evidence first)."""
    verdict = "alert" if v.alert[i] else "normal"
    if v.down[i]:
        return (f"{verdict} (score {v.score[i]:.2f}, held): stopped for a fault or "
                "maintenance, waiting for running data")
    if not v.scored[i]:
        return (f"warming up: {v.running_h[i]:.1f} of {cfg.warmup_h:g} running hours "
                "for a baseline")
    parts = [
        (v.evidence[0, i], f"vibration {v.vib_ratio[i]:.2f}x its baseline "
                           f"{v.baseline_mm_s[i]:.2f} mm/s"),
        (v.evidence[1, i], f"{'rising' if v.trend_per_day[i] >= 0 else 'falling'} "
                           f"{abs(v.trend_per_day[i]):.2f}x per running day"),
    ]
    if np.isfinite(v.crest_ratio[i]):
        parts.append((v.evidence[2, i], f"crest factor {v.crest_ratio[i]:.2f}x its baseline"))
    parts.sort(key=lambda p: -p[0])
    return f"{verdict} (score {v.score[i]:.2f}): " + ", ".join(text for _, text in parts)
