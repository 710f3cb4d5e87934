"""InfluxDB transports: write line protocol and run InfluxQL, v1 or v2 API.

This is an I/O edge: it reports every outcome as a :class:`WriteResult` (HTTP status,
body, Retry-After) and never decides what to do about it; callers own retry policy.

- v1: ``POST /write?db=..&precision=ms`` and ``/query`` (InfluxDB 1.x; 2.x/3.x via their
  v1 compatibility endpoints), over a keep-alive ``http.client`` connection.
- v2: the ``influxdb-client`` synchronous write API with pre-built line protocol
  (InfluxDB 1.8+, 2.x, 3.x); InfluxQL reads still go to ``/query`` with a token header.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from telemetry.endpoints import InfluxEndpoint

#: Status used for a network error (no HTTP response at all).
NETWORK_ERROR = 0


@dataclass(frozen=True)
class WriteResult:
    status: int  # HTTP status, or NETWORK_ERROR
    body: str = ""  # the server's answer, or the network error's cause (network_cause)
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def server_message(body: str) -> str:
    """The message of an InfluxDB error body (`{"error": ...}` 1.x, `{"message": ...}`
    2.x), else the text, shortened to one line."""
    text = body.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = str(data.get("error") or data.get("message") or text)
    return " ".join(text.split())[:300]


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps (__cause__, __context__, urllib3's .reason), in order."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(out) < 12:
        e = todo.pop(0)
        if e is None or any(e is o for o in out):
            continue
        out.append(e)
        reason = getattr(e, "reason", None)
        todo += [e.__cause__, e.__context__,
                 reason if isinstance(reason, BaseException) else None]
    return out


def network_cause(exc: BaseException, url: str, timeout_s: float) -> str:
    """One line naming why no HTTP answer came: DNS, refused, TLS, timeout, not HTTP."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    for e in _chain(exc):
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return f"DNS: cannot resolve host {host!r} ({e})"
        if isinstance(e, ConnectionRefusedError):
            return f"connection refused: nothing listens on {host}:{port}"
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS: the server's certificate is not trusted ({e.verify_message})"
        if isinstance(e, ssl.SSLError):
            return (f"TLS handshake failed ({e.reason or e}): is it an https:// URL for a "
                    "plain-HTTP server?")
        if isinstance(e, TimeoutError) or type(e).__name__ in ("ReadTimeoutError",
                                                                "ConnectTimeoutError"):
            return f"timed out after {timeout_s:g} s waiting for {host}:{port}"
        if isinstance(e, http.client.RemoteDisconnected | http.client.BadStatusLine):
            return (f"{host}:{port} closed the connection without an HTTP answer (not an "
                    "HTTP server, or an https:// one addressed with http://?)")
    return f"{type(exc).__name__}: {exc}"


def http_cause(status: int, body: str, api: str, path: str) -> str:
    """`HTTP 404 from /api/v2/write: <server message>` plus a hint for the usual
    mistakes."""
    msg = server_message(body)
    text = f"HTTP {status} from {path}" + (f": {msg}" if msg else "")
    low = msg.lower()
    hint = ""
    if status == 404 and api == "v2" and "bucket" not in low and "org" not in low:
        hint = "no /api/v2 here: InfluxDB 1.x? use --influx-api v1"
    elif status == 404 and "database not found" in low:
        hint = "create the database or set collector.create_database: true"
    elif status == 404:
        hint = "nothing at this path: check the URL (the server's base, e.g. " \
            "http://host:8086, no path)"
    elif status in (401, 403):
        hint = "credentials refused: check the token (v2) or user/password (v1)"
    elif status == 400 and "https server" in low:
        hint = "the server speaks TLS: use an https:// URL"
    elif status == 413:
        hint = "request too large: lower collector.batch_max_points or raise the " \
            "server's max-body-size"
    return f"{text} ({hint})" if hint else text


class QueryError(RuntimeError):
    """An InfluxQL query failed (HTTP error or an error in the result)."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class InfluxClient:
    """Thread-safe (one lock) client for one InfluxDB endpoint."""

    def __init__(self, endpoint: InfluxEndpoint, timeout_s: float = 10.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        parts = urlsplit(endpoint.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._v2: Any = None

    # -- plumbing ---------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        ep = self.endpoint
        if ep.token:
            return {"Authorization": f"Token {ep.token}"}
        if ep.user:
            raw = f"{ep.user}:{ep.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout_s,
                    context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout_s)
        return self._conn

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        """One HTTP exchange; raises OSError/HTTPException on network failure."""
        with self._lock:
            conn = self._connection()
            try:
                conn.request(method, self._base + path, body=body,
                             headers={**self._headers(), **(headers or {})})
                resp = conn.getresponse()
                data = resp.read().decode("utf-8", "replace")
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    self._conn = None
                return resp.status, data, hdrs
            except (OSError, http.client.HTTPException):
                conn.close()
                self._conn = None
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._v2 is not None:
                self._v2.close()
                self._v2 = None

    # -- writes -----------------------------------------------------------------------
    def write(self, body: bytes, precision: str = "ms") -> WriteResult:
        """Write newline-separated line protocol; never raises for I/O or HTTP errors."""
        if self.endpoint.api == "v2":
            return self._write_v2(body, precision)
        q = urlencode({"db": self.endpoint.db, "precision": precision})
        try:
            status, text, hdrs = self._request(
                "POST", f"/write?{q}", body, {"Content-Type": "text/plain; charset=utf-8"})
        except (OSError, http.client.HTTPException) as exc:
            return WriteResult(NETWORK_ERROR, self.network_cause(exc))
        return WriteResult(status, text, _retry_after(hdrs.get("retry-after")))

    def network_cause(self, exc: BaseException) -> str:
        return network_cause(exc, self.endpoint.url, self.timeout_s)

    @property
    def write_path(self) -> str:
        return self._base + ("/api/v2/write" if self.endpoint.api == "v2" else "/write")

    def cause(self, res: WriteResult) -> str:
        """One line: why a write (or ping) failed, with a hint."""
        if res.status == NETWORK_ERROR:
            return res.body
        return http_cause(res.status, res.body, self.endpoint.api, self.write_path)

    def _write_v2(self, body: bytes, precision: str) -> WriteResult:
        from influxdb_client.client.influxdb_client import InfluxDBClient  # noqa: PLC0415
        from influxdb_client.client.write_api import SYNCHRONOUS  # noqa: PLC0415
        from influxdb_client.rest import ApiException  # noqa: PLC0415

        ep = self.endpoint
        if self._v2 is None:
            client = InfluxDBClient(url=ep.url, token=ep.token or "", org=ep.org or "-",
                                    timeout=int(self.timeout_s * 1000), enable_gzip=False)
            self._v2 = client
            self._v2_write = client.write_api(write_options=SYNCHRONOUS)
        try:
            self._v2_write.write(bucket=ep.bucket or ep.db, org=ep.org or "-", record=body,
                                 write_precision=precision)  # type: ignore[arg-type]
        except ApiException as exc:
            headers: dict[str, str] = dict(exc.headers or {})
            return WriteResult(int(exc.status or NETWORK_ERROR), str(exc.body or exc.reason),
                               _retry_after(headers.get("Retry-After")))
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            return WriteResult(NETWORK_ERROR, self.network_cause(exc))
        except Exception as exc:  # urllib3 wraps network errors in its own types
            if type(exc).__module__.startswith("urllib3"):
                return WriteResult(NETWORK_ERROR, self.network_cause(exc))
            raise
        return WriteResult(204)

    # -- reads ------------------------------------------------------------------------
    def query(self, influxql: str, db: str | None = None,
              epoch: str = "ms") -> list[dict[str, Any]]:
        """Run InfluxQL via /query; return the list of statement results.

        Each result is a dict with an optional ``series`` list of
        ``{"name", "tags", "columns", "values"}``. Raises QueryError on failure.
        """
        params = {"db": db or self.endpoint.target, "q": influxql, "epoch": epoch}
        try:
            status, text, _ = self._request(
                "POST", "/query", urlencode(params).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
        except (OSError, http.client.HTTPException) as exc:
            raise QueryError(f"query to {self.endpoint.url} failed: {exc}") from exc
        if status != 200:
            raise QueryError(f"query failed with HTTP {status}: {text.strip()[:300]}")
        data = json.loads(text)
        if "error" in data:
            raise QueryError(str(data["error"]))
        results: list[dict[str, Any]] = data.get("results", [])
        for r in results:
            if "error" in r:
                raise QueryError(f"{r['error']} (in {influxql[:200]!r})")
        return results

    def ping(self) -> bool:
        return self.ping_result().status == 204

    def ping_result(self) -> WriteResult:
        """GET /ping as a WriteResult (204 from any InfluxDB 1.x/2.x)."""
        try:
            status, text, _ = self._request("GET", "/ping")
        except (OSError, http.client.HTTPException) as exc:
            return WriteResult(NETWORK_ERROR, self.network_cause(exc))
        return WriteResult(status, text)

    def probe_v2_write(self) -> WriteResult:
        """An empty POST to /api/v2/write with our org, bucket and token: tells a missing
        API, bucket or org and a refused token apart without writing anything."""
        ep = self.endpoint
        q = urlencode({"org": ep.org or "", "bucket": ep.target, "precision": "ms"})
        try:
            status, text, _ = self._request("POST", f"/api/v2/write?{q}", b"",
                                            {"Content-Type": "text/plain; charset=utf-8"})
        except (OSError, http.client.HTTPException) as exc:
            return WriteResult(NETWORK_ERROR, self.network_cause(exc))
        return WriteResult(status, text)

    def create_database(self, name: str | None = None) -> None:
        """v1 only: CREATE DATABASE (idempotent)."""
        self.query(f'CREATE DATABASE "{name or self.endpoint.db}"', db="")


_DURATION = re.compile(r"(\d+)(h|m|s)")


def parse_duration_s(text: str) -> float:
    """InfluxDB 1.x duration as SHOW RETENTION POLICIES prints it (``168h0m0s``)."""
    units = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in _DURATION.findall(text)))


def retention_s(client: InfluxClient) -> float | None:
    """Seconds the default retention policy of the client's database keeps data (v1 API);
    None for infinite or unknown. Raises QueryError if the server cannot be asked."""
    rows = series_rows(client.query(f'SHOW RETENTION POLICIES ON "{client.endpoint.db}"',
                                     db="")[0])
    for row in rows:
        if row.get("default"):
            seconds = parse_duration_s(str(row.get("duration", "")))
            return seconds or None
    return None


def series_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten one statement result into row dicts (tags merged in)."""
    rows: list[dict[str, Any]] = []
    for s in result.get("series", []) or []:
        tags = s.get("tags") or {}
        for values in s.get("values", []):
            rows.append({**tags, **dict(zip(s["columns"], values, strict=True))})
    return rows
