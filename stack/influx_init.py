"""InfluxDB 2 set-up that heals itself: ``python -m stack.influx_init`` (compose ``influxdb-init``).

A one-shot run on every ``docker compose up`` (so on every ``make demo``), after the
server answers. With the admin token from ``.env`` it creates whatever is missing and
leaves alone what is right, so a lost volume or a failed first start heals by starting
again:

1. the initial set-up (org, bucket, admin user with the admin token) when the server was
   never set up (a fresh or wiped data volume);
2. the bucket, with the retention ``INFLUX_RETENTION`` (changed when it differs);
3. the InfluxQL mapping database = bucket, retention policy ``autogen`` (the dashboards,
   the terminal overview and the backfill's gap check speak InfluxQL);
4. a write-only token (collector, backfill) and a read-only token (Grafana, the backfill's
   gap check) for the bucket, each in a file on its own volume. A file that holds a token
   the server knows, active and with exactly that permission, is kept; otherwise a new
   token is created (InfluxDB 2 cannot take a token value chosen in advance,
   influxdata/influxdb#21385) and the stale ones of ours are revoked.

Settings come from the environment: ``FACTORY_INFLUX_URL``, ``INFLUX_ADMIN_TOKEN``,
``INFLUX_ADMIN_USER``, ``INFLUX_ADMIN_PASSWORD``, ``INFLUX_ORG``, ``INFLUX_BUCKET``,
``INFLUX_RETENTION`` (``30d``, ``72h``, ``1w``; ``0`` = forever),
``FACTORY_WRITER_TOKEN_FILE``, ``FACTORY_READER_TOKEN_FILE``. It prints one line per
step (never a token) and, on failure, one line saying what failed (exit 1).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry.endpoints import redact

UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class InitError(RuntimeError):
    """A setting or a server answer that stops the set-up; the message is one line."""


def retention_seconds(text: str) -> int:
    """``30d`` / ``72h`` / ``1w2d`` / ``0`` -> seconds (0 = keep forever)."""
    t = text.strip().lower()
    if t in ("0", "inf", "infinite"):
        return 0
    parts = re.findall(r"(\d+)([smhdw])", t)
    if not parts or "".join(n + u for n, u in parts) != t:
        raise InitError(f"INFLUX_RETENTION={text!r}: use e.g. 30d, 72h, 1w (0 = forever)")
    return sum(int(n) * UNITS_S[u] for n, u in parts)


@dataclass(frozen=True)
class Settings:
    url: str
    admin_token: str
    admin_user: str
    admin_password: str
    org: str
    bucket: str
    retention_s: int
    writer_file: Path
    reader_file: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        missing = [k for k in ("INFLUX_ADMIN_TOKEN", "INFLUX_ADMIN_PASSWORD") if not env.get(k)]
        if missing:
            raise InitError(f"{', '.join(missing)} not set: run scripts/init-env to create .env")
        return cls(url=env.get("FACTORY_INFLUX_URL", "http://influxdb:8086"),
                   admin_token=env["INFLUX_ADMIN_TOKEN"],
                   admin_user=env.get("INFLUX_ADMIN_USER") or "admin",
                   admin_password=env["INFLUX_ADMIN_PASSWORD"],
                   org=env.get("INFLUX_ORG") or "factory",
                   bucket=env.get("INFLUX_BUCKET") or "factory",
                   retention_s=retention_seconds(env.get("INFLUX_RETENTION") or "30d"),
                   writer_file=Path(env.get("FACTORY_WRITER_TOKEN_FILE",
                                            "/tokens/writer/influx-write.token")),
                   reader_file=Path(env.get("FACTORY_READER_TOKEN_FILE",
                                            "/tokens/reader/influx-read.token")))


def _token_desc(s: Settings, action: str) -> str:
    who = "collector + backfill" if action == "write" else "grafana + backfill gap check"
    return f"factory {who}: {action} bucket {s.bucket} only"


def _write_file(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # read by another service's user; the volume is its only reach
        tmp.replace(path)
    except OSError as exc:
        raise InitError(f"cannot write {path} ({exc.strerror}): a token volume made by an "
                        "older version belongs to root; remove it (make demo-down, then "
                        "docker volume rm factory_influx-writer-token "
                        "factory_influx-reader-token) and run make demo again") from exc


def _read_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _library() -> Any:
    """The influxdb-client classes the init uses (an untyped library: used as Any)."""
    import importlib  # noqa: PLC0415
    from types import SimpleNamespace  # noqa: PLC0415

    names = {"InfluxDBClient": "", "Authorization": "", "BucketRetentionRules": "",
             "Permission": "", "PermissionResource": "",
             "DBRPCreate": ".domain.dbrp_create", "OnboardingRequest": ".domain.onboarding_request",
             "DBRPsService": ".service.dbr_ps_service", "SetupService": ".service.setup_service"}
    return SimpleNamespace(**{n: getattr(importlib.import_module(f"influxdb_client{m}"), n)
                              for n, m in names.items()})


def ensure(s: Settings, say: Any = print) -> None:
    """Bring the server to the wanted state (idempotent)."""
    lib = _library()
    InfluxDBClient, Authorization = lib.InfluxDBClient, lib.Authorization  # noqa: N806
    BucketRetentionRules, DBRPCreate = lib.BucketRetentionRules, lib.DBRPCreate  # noqa: N806
    Permission, PermissionResource = lib.Permission, lib.PermissionResource  # noqa: N806
    OnboardingRequest, SetupService = lib.OnboardingRequest, lib.SetupService  # noqa: N806
    DBRPsService = lib.DBRPsService  # noqa: N806

    with InfluxDBClient(url=s.url, token=s.admin_token, org=s.org, timeout=30_000) as client:
        setup = SetupService(client.api_client)
        if setup.get_setup().allowed:
            setup.post_setup(onboarding_request=OnboardingRequest(
                username=s.admin_user, password=s.admin_password, org=s.org, bucket=s.bucket,
                retention_period_seconds=s.retention_s, token=s.admin_token))
            say(f"influx-init: first set-up done (org {s.org!r}, bucket {s.bucket!r}, "
                f"admin {s.admin_user!r})")
        orgs = client.organizations_api().find_organizations(org=s.org)
        if not orgs:
            raise InitError(f"organisation {s.org!r} does not exist and the server is "
                            "already set up: fix INFLUX_ORG in .env")
        org_id = orgs[0].id
        buckets = client.buckets_api()
        bucket = buckets.find_bucket_by_name(s.bucket)
        rules = [BucketRetentionRules(type="expire", every_seconds=s.retention_s)]
        if bucket is None:
            bucket = buckets.create_bucket(bucket_name=s.bucket, org=orgs[0],
                                           retention_rules=rules)
            say(f"influx-init: bucket {s.bucket!r} created")
        current = [r.every_seconds for r in (bucket.retention_rules or [])]
        if (current or [0])[0] != s.retention_s:
            bucket.retention_rules = rules
            bucket = buckets.update_bucket(bucket)
            say(f"influx-init: bucket {s.bucket!r} retention set to {s.retention_s} s")
        dbrps = DBRPsService(client.api_client)
        mapped = dbrps.get_dbr_ps(org_id=org_id, bucket_id=bucket.id).content or []
        if not any(d.database == s.bucket for d in mapped):
            dbrps.post_dbrp(dbrp_create=DBRPCreate(org_id=org_id, bucket_id=bucket.id,
                                                   database=s.bucket,
                                                   retention_policy="autogen", default=True))
            say(f"influx-init: InfluxQL database {s.bucket!r} (rp autogen) mapped to the "
                "bucket")
        auths_api = client.authorizations_api()
        auths = auths_api.find_authorizations(org_id=org_id) or []
        for action, path in (("write", s.writer_file), ("read", s.reader_file)):
            want = {(action, "buckets", bucket.id)}
            desc = _token_desc(s, action)

            def perms(a: Any) -> set[tuple[str, str, str]]:
                return {(p.action, p.resource.type, p.resource.id) for p in a.permissions or []}

            held = _read_file(path)
            if held and any(a.token == held and a.status == "active" and perms(a) == want
                            for a in auths):
                say(f"influx-init: {action} token in {path} is valid, kept")
                continue
            new = auths_api.create_authorization(authorization=Authorization(
                org_id=org_id, description=desc, permissions=[Permission(
                    action=action, resource=PermissionResource(type="buckets", id=bucket.id,
                                                               org_id=org_id))]))
            _write_file(path, new.token)
            for a in auths:
                if a.description == desc and a.id != new.id:
                    auths_api.delete_authorization(a)
            say(f"influx-init: new {action}-only token for bucket {s.bucket!r} in {path}"
                f"{' (was missing)' if not held else ' (the old one was unknown or wrong)'}")


def main(argv: list[str] | None = None) -> int:
    del argv
    try:
        settings = Settings.from_env(os.environ)
        ensure(settings)
    except InitError as exc:
        print(f"influx-init: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the server's answer or the network: one line, no token
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        text = redact(f"{type(exc).__name__}: {first}")[:300]
        for secret in (os.environ.get("INFLUX_ADMIN_TOKEN"),
                       os.environ.get("INFLUX_ADMIN_PASSWORD")):
            if secret:
                text = text.replace(secret, "***")
        print(f"influx-init: failed: {text}", file=sys.stderr)
        return 1
    print("influx-init: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
