"""Sparkplug B vs JSON: encode (simulator) and decode (collector) rates in the same run.

The same model frames are encoded both ways: JSON with the simulator's Encoder (one
message per kind and machine, templated) and Sparkplug with SparkplugEncoder (one
DDATA/NDATA per device/edge node per tick, protobuf, aliases). Decoding is the
collector's mapping of those payloads to line protocol: Mapper.map per JSON message,
SparkplugMapper.map per Sparkplug message (births first, untimed). Figures are points
(= JSON messages) per CPU-second, single thread, median of --repeat rounds; also bytes
per point on the wire. Usage:
    .venv/bin/python benchmarks/bench_sparkplug.py [--scale 4] [--ticks 120] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from collector.mapping import Mapped, Mapper
from collector.sparkplug import SparkplugMapper
from simulator.cli import REPRODUCIBLE_START, parse_time_ms
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from simulator.sparkplug import SparkplugEncoder
from telemetry.sparkplug import seq_suffix


def one_round(scale: int, ticks: int) -> dict[str, float]:
    plant = load_plant(scale=scale)
    model = PlantModel(plant, 1, parse_time_ms(REPRODUCIBLE_START, "start"),
                       Intervals.from_seconds(5.0))
    sp_enc = SparkplugEncoder(model)
    json_msgs: list[tuple[str, str, bytes]] = []
    sp_msgs: list[tuple[str, str, bytes]] = []
    births = [m for nid in sp_enc.nodes for m in sp_enc.births(nid, 0, model.now_ms)]
    t_json = t_sp = 0.0
    frame = model.initial_frame()
    for k in range(ticks + 1):
        t0 = time.process_time()
        json_msgs += Encoder.encoded(sp_enc, frame)  # the JSON path on the same encoder
        t1 = time.process_time()
        sp_msgs += sp_enc.encoded(frame)
        t2 = time.process_time()
        t_json += t1 - t0
        t_sp += t2 - t1
        model.after_emit(frame)
        if k < ticks:
            frame = model.step()
    # meta travels in the (untimed) births on the Sparkplug side: compare the rest
    json_msgs = [m for m in json_msgs if m[0] != "meta"]
    points = len(json_msgs)

    mapper = Mapper()
    t0 = time.process_time()
    json_lines = sum(isinstance(mapper.map(t, p, 0), Mapped) for _, t, p in json_msgs)
    t_json_dec = time.process_time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        sp_mapper = SparkplugMapper(None, Path(tmp) / "spool.sqlite3")
        seqs: dict[str, int] = {}

        def with_seq(topic: str, body: bytes, birth: bool) -> bytes:
            node = topic.split("/")[3]
            seqs[node] = 0 if birth and "/NBIRTH/" in topic else (seqs[node] + 1) % 256
            return body + seq_suffix(seqs[node])

        for _, t, p in births:
            sp_mapper.map(t, with_seq(t, p, True), 0)
        framed = [(t, with_seq(t, p, False)) for _, t, p in sp_msgs]
        t0 = time.process_time()
        results: list[Any] = [sp_mapper.map(t, p, 0) for t, p in framed]
        t_sp_dec = time.process_time() - t0
        sp_mapper.close()
    sp_lines = sum(r.line.count("\n") + 1 for r in results if isinstance(r, Mapped))
    if sp_lines != json_lines:
        raise SystemExit(f"decoded {sp_lines} Sparkplug points but {json_lines} JSON points")
    return {
        "machines": len(plant.machines), "points": points, "sp_messages": len(sp_msgs),
        "json_bytes": sum(len(p) + len(t) for _, t, p in json_msgs) / points,
        "sp_bytes": sum(len(p) + len(t) for _, t, p in sp_msgs) / points,
        "json_enc": points / t_json, "sp_enc": points / t_sp,
        "json_dec": json_lines / t_json_dec, "sp_dec": sp_lines / t_sp_dec,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=4, help="plant scale (default 4)")
    ap.add_argument("--ticks", type=int, default=120, help="ticks (default 120 = 10 min)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds, median reported")
    args = ap.parse_args()
    rounds = [one_round(args.scale, args.ticks) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(f"plant: default x{args.scale} = {med['machines']:.0f} machines, {args.ticks} ticks: "
          f"{med['points']:,.0f} points = JSON messages, {med['sp_messages']:,.0f} Sparkplug "
          f"messages; median of {args.repeat} rounds, points per CPU-second")
    print(f"wire bytes per point (payload + topic): JSON {med['json_bytes']:.1f}, "
          f"Sparkplug {med['sp_bytes']:.1f} ({med['sp_bytes'] / med['json_bytes']:.0%})")
    for what, j, s in (("encode (simulator)", "json_enc", "sp_enc"),
                       ("decode to line protocol (collector)", "json_dec", "sp_dec")):
        lo = min(r[s] / r[j] for r in rounds)
        hi = max(r[s] / r[j] for r in rounds)
        print(f"{what}: JSON {med[j]:,.0f} points/s, Sparkplug {med[s]:,.0f} points/s "
              f"(Sparkplug/JSON {med[s] / med[j]:.2f}, rounds {lo:.2f}-{hi:.2f})")


if __name__ == "__main__":
    main()
