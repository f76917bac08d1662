"""Load benchmark: the app under gunicorn with the production settings, next to a bare Flask endpoint served by
the same gunicorn command line, with a load generator on loopback (about 3 minutes).

    cd /work/main && .venv/bin/python bench/load.py [--rounds 3] [--seconds 3] [--tablets 12] [--pause 1]
                                                    [--mixed-seconds 20] [--repeats 2]
    .venv/bin/python bench/load.py --config sync-2 --slow-clients 2   # another configuration (not recorded)
    .venv/bin/python bench/load.py --compare    # every configuration in CONFIGS, one round each (~14 min)

Server: a fresh SQLite database and media folder (`flask db upgrade`, `checklists sync`, `demo seed`,
APP_ENV=production, generated secrets), then `gunicorn <settings> wsgi:app` on a free loopback port. The floor is
bench/bare_app.py (`GET /bare` → {"ok": true}) under `gunicorn <the same settings> bench.bare_app:app`: only the
app name differs. Both run at once; the generator loads one at a time.
Generator: processes of its own on the same 2 cores (it competes with the server for CPU; the CPU both use is
read from /proc and printed), each with threads holding keep-alive HTTP/1.1 connections, one request at a time
per connection. Its small client (prepared request bytes; only the status line, Content-Length, chunked and
Connection are parsed) costs little per request; app and bare get the same generator, connections and arguments.
1. Reads, in rounds whose order rotates (medians count; the share of bare is the median of each round's ratio):
   bare; `GET /api/v1/checklists/tthc-2018/versions/1` (200, 191 kB of JSON from a per-process cache); the same
   with If-None-Match (304); for reference, the demo inspection's bundle with If-None-Match (304) and the
   signed-in floor, `GET /api/v1/config/limits` (the token checks and a small JSON: what any route behind a
   token costs at least).
2. Tablets: N signed-in tablets (kiemtra1, a device each, over the three 2024 demo inspections, each on answer
   slots of its own) doing what the PWA's outbox does, round after round: POST /api/v1/sync with 20 answer.set
   mutations (base_version from its last result); every 4th round a 12 MP photo (declare, then 512 kB PATCHes as
   upload.js sends them; the last one runs Pillow); the change feed from its cursor (limit 500, every page); the
   bundle with If-None-Match; the checklist with If-None-Match. One run with no pause between rounds (the
   capacity for this mix), then runs at the tablets' pace (--pause between rounds).
3. Slow uploader: paced runs with one more client that declares a photo and sends one 512 kB chunk at 256 kbit/s
   (throttled socket writes, about 16 s), against paced runs without it, in alternating pairs. Over the slow
   upload's span: the others' req/s (replies within it) and p99 (requests sent within it, so one that waited for
   the upload counts) against the same span of the run without it; and the slowest of them against the upload.
Every response must have the expected status and every mutation must be `applied`; anything else is an error.
Only the production settings with one slow uploader are recorded (bench/results/load.json); a missed target is
printed as FAIL and the exit status stays 0; a broken run (set-up, sign-in) raises.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"

from photos import call, children, cpu_seconds, free_port, interrupted, make_photo, pool_init, proc_mb, stop  # noqa: E402
from results import Row, record  # noqa: E402 — bench/results.py
from sync import sample_value  # noqa: E402 — bench/sync.py

from audit_api.services.demo import demo_id  # noqa: E402

# The production settings (README, "Deploying"): chosen by measurement with --compare, see bench/README.md.
COMMON = ["--timeout", "30", "--graceful-timeout", "30", "--keep-alive", "5",
          "--max-requests", "20000", "--max-requests-jitter", "2000"]
CONFIGS = {
    "gthread-2x2": ["--worker-class", "gthread", "--workers", "2", "--threads", "2"],
    "gthread-2x3": ["--worker-class", "gthread", "--workers", "2", "--threads", "3"],
    "gthread-2x4": ["--worker-class", "gthread", "--workers", "2", "--threads", "4"],
    "gthread-2x8": ["--worker-class", "gthread", "--workers", "2", "--threads", "8"],
    "gthread-3x4": ["--worker-class", "gthread", "--workers", "3", "--threads", "4"],
    "gthread-4x2": ["--worker-class", "gthread", "--workers", "4", "--threads", "2"],
    "sync-2": ["--worker-class", "sync", "--workers", "2"],
    "sync-4": ["--worker-class", "sync", "--workers", "4"],
}
PRODUCTION = "gthread-2x4"
APP, BARE = "wsgi:app", "bench.bare_app:app"
PASSWORD = "bench-load-password-1"  # noqa: S105 — a throwaway database
USERNAME = "kiemtra1"  # the team's deputy lead: may write every section
INSPECTIONS = [str(demo_id(name)) for name in ("insp-vanlang-2024", "insp-trangdinh-2024", "insp-bacson-2024")]
CHECKLIST = "/api/v1/checklists/tthc-2018/versions/1"
BATCH, PHOTO_EVERY, CHUNK = 20, 4, 512 * 1024  # the PWA: upload.js CHUNK_BYTES
SLOW_RATE, SLOW_START = 256_000 // 8, 2.0  # 256 kbit/s in bytes a second; seconds into the window
TARGETS = {"checklist": 0.33, "304": 0.60, "slow_rps": 0.80, "slow_p99": 2.0}


# --- the client ---------------------------------------------------------------------------------------------


class Disconnected(ConnectionError):
    """The server closed the connection; `clean`: before any byte of the response (a kept-alive connection that
    the server closed meanwhile: the request may be sent again on a new one, as browsers do)."""

    def __init__(self, clean: bool):
        super().__init__("server closed the connection" + ("" if clean else " mid-response"))
        self.clean = clean


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port, one request at a time."""

    def __init__(self, port: int):
        self.port, self.sock, self.buffer, self.reconnects = port, None, b"", 0

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def head(self, method: str, path: str, headers: dict | None = None, length: int | None = None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                rate: float | None = None) -> tuple[int, dict, bytes]:
        return self.send(self.head(method, path, headers, None if body is None else len(body)), body, rate)

    def send(self, head: bytes, body: bytes | None = None, rate: float | None = None) -> tuple[int, dict, bytes]:
        """Send prepared request bytes (and a body, at `rate` bytes a second if given); (status, headers, body)."""
        for attempt in (1, 2):
            reused = self.sock is not None
            if not reused:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(head)
                if body:
                    self._send_body(body, rate)
                return self._response()
            except (Disconnected, BrokenPipeError, ConnectionResetError) as error:
                self.close()
                if not reused or attempt == 2 or (isinstance(error, Disconnected) and not error.clean):
                    raise
                self.reconnects += 1
        raise AssertionError("unreachable")

    def _send_body(self, body: bytes, rate: float | None) -> None:
        if rate is None:
            self.sock.sendall(body)
            return
        started, piece = time.monotonic(), 1000  # throttled: 1000 bytes at a time, on schedule
        for offset in range(0, len(body), piece):
            delay = started + offset / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sock.sendall(body[offset:offset + piece])

    def _fill(self, started: bool) -> None:
        data = self.sock.recv(1 << 20)
        if not data:
            raise Disconnected(clean=not started and not self.buffer)
        self.buffer += data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill(True)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill(True)
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _response(self) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill(bool(self.buffer))
        raw, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status, headers = int(lines[0].split(" ", 2)[1]), {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status in (204, 304) or status < 200:
            body = b""
        elif "content-length" in headers:
            body = self._take(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int(self._line().split(b";")[0], 16):
                parts.append(self._take(size))
                self._take(2)
            while self._line():  # trailers, up to the empty line
                pass
            body = b"".join(parts)
        else:  # until the server closes
            try:
                while True:
                    self._fill(True)
            except Disconnected:
                pass
            body, self.buffer = self.buffer, b""
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or lines[0].startswith("HTTP/1.0"):
            self.close()
        return status, headers, body


# --- the servers --------------------------------------------------------------------------------------------


def prepare(work: Path) -> dict:
    """A fresh database and media folder with the checklists and the demo data; the environment to serve it."""
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "JWT_SECRET_KEY": secrets.token_urlsafe(48), "DEMO_PASSWORD": PASSWORD,
           "DATABASE_URL": f"sqlite:///{work / 'audit.sqlite3'}", "MEDIA_ROOT": str(work / "media"),
           "PHOTOS_PER_INSPECTION": "100000"}  # the tablets upload hundreds of photos to three inspections
    for command in (["db", "upgrade"], ["checklists", "sync"], ["demo", "seed"]):
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,  # noqa: S603
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return env


def command_line(config: str, app: str, port: int) -> list[str]:
    return [str(BIN / "gunicorn"), *CONFIGS[config], *COMMON, "--bind", f"127.0.0.1:{port}", app]


def workers_of(config: str) -> int:
    args = CONFIGS[config]
    return int(args[args.index("--workers") + 1])


class Server:
    """gunicorn serving `app` with `config`, until stop(); `probe` answers 200 once it is up."""

    def __init__(self, config: str, app: str, env: dict, work: Path, probe: str):
        self.config, self.port, self.log = config, free_port(), work / f"gunicorn-{app.split(':')[0]}.log"
        self.args = command_line(config, app, self.port)
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=self.log.open("w"),  # noqa: S603
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if call(self.port, "GET", probe)[0] == 200 and len(children(self.proc.pid)) == workers_of(config):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn {app} did not come up:\n{self.log.read_text()[-3000:]}")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def restarts(self) -> int:
        """Workers restarted so far (--max-requests, --timeout, crashes): boots beyond the first ones."""
        booted = self.log.read_text(errors="replace").count("Booting worker with pid")
        return booted - workers_of(self.config)

    def stop(self) -> None:
        stop(self.proc)


# --- the generator ------------------------------------------------------------------------------------------


class Stop(Exception):
    """Not an error: the window is over, or this round is lost (the error is counted already)."""


class Stats:
    """What a generator process saw: (kind, status) → [(end time, latency)], errors, sync outcomes."""

    def __init__(self, end_at: float):
        self.end_at, self.lock = end_at, threading.Lock()
        self.done: dict[tuple[str, int], list[tuple[float, float]]] = {}
        self.errors, self.samples, self.outcomes, self.reconnects = Counter(), [], Counter(), 0

    def add(self, kind: str, status: int, started: float, ended: float) -> None:
        with self.lock:  # a reply after the window too: a request that waited long must show
            self.done.setdefault((kind, status), []).append((ended, ended - started))

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 5:
                self.samples.append(f"{kind}: {what}")

    def dump(self) -> dict:
        return {"done": self.done, "errors": self.errors, "samples": self.samples, "outcomes": self.outcomes,
                "reconnects": self.reconnects}


def merge(parts: list[dict]) -> dict:
    total = {"done": {}, "errors": Counter(), "samples": [], "outcomes": Counter(), "reconnects": 0}
    for part in parts:
        for key, values in part["done"].items():
            total["done"].setdefault(key, []).extend(values)
        total["errors"].update(part["errors"])
        total["samples"] += part["samples"]
        total["outcomes"].update(part["outcomes"])
        total["reconnects"] += part["reconnects"]
    return total


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))  # time.monotonic() is one clock for every process on Linux


def read_loop(job: tuple) -> dict:
    """A generator process: `conns` threads, each a keep-alive connection sending `head` until the window ends."""
    port, head, expect, conns, start_at, end_at = job
    stats = Stats(end_at)

    def loop() -> None:
        conn = Connection(port)
        wait_until(start_at)
        while (started := time.monotonic()) < end_at:
            try:
                status, _, body = conn.send(head)
            except OSError as error:
                conn.close()
                stats.error("read", repr(error))
                continue
            stats.add("read", status, started, time.monotonic())
            if status not in expect:
                stats.error("read", f"HTTP {status} {body[:200]!r}")
        with stats.lock:
            stats.reconnects += conn.reconnects
        conn.close()

    threads = [threading.Thread(target=loop) for _ in range(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats.dump()


class Tablet:
    """One tablet in a generator process: the outbox's round, over and over, until the window ends."""

    def __init__(self, port: int, spec: dict, photos: list, files: dict, stats: Stats, pause: float):
        self.conn, self.spec, self.photos, self.files, self.stats = Connection(port), spec, photos, files, stats
        self.pause = pause
        self.auth = {"Authorization": f"Bearer {spec['token']}"}

    def call(self, kind: str, method: str, path: str, expect: set[int], headers: dict | None = None,
             body: bytes | None = None) -> tuple[int, dict, bytes]:
        started = time.monotonic()
        if started >= self.stats.end_at:
            raise Stop
        try:
            status, reply_headers, data = self.conn.request(method, path, {**self.auth, **(headers or {})}, body)
        except OSError as error:
            self.conn.close()
            self.stats.error(kind, repr(error))
            raise Stop from None  # this round is lost; the tablet starts the next one
        self.stats.add(kind, status, started, time.monotonic())
        if status not in expect:
            self.stats.error(kind, f"HTTP {status} {data[:300]!r}")
            raise Stop
        return status, reply_headers, data

    def run(self, start_at: float) -> None:
        wait_until(start_at + self.pause * (self.spec["index"] % 10) / 10)  # spread out, as tablets are
        while time.monotonic() < self.stats.end_at:
            try:
                self.sync()
                if self.spec["round"] % PHOTO_EVERY == self.spec["index"] % PHOTO_EVERY:
                    self.photo()
                self.changes()
                self.bundle()
                self.call("checklist", "GET", CHECKLIST, {304}, {"If-None-Match": self.spec["checklist_etag"]})
            except Stop:
                pass
            self.spec["round"] += 1
            time.sleep(max(0.0, min(self.pause, self.stats.end_at - time.monotonic())))
        with self.stats.lock:
            self.stats.reconnects += self.conn.reconnects
        self.conn.close()

    def sync(self) -> None:
        spec, slots = self.spec, self.spec["slots"]
        picked = [slots[(spec["round"] * BATCH + k) % len(slots)] for k in range(min(BATCH, len(slots)))]
        mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": spec["inspection"],
                      "base_version": spec["versions"].get(f"{code}|{unit}"),
                      "payload": {"item_code": code, "unit_id": unit, "value": value, "note": f"vòng {spec['round']}"},
                      "client_time": "2024-06-25T09:30:00+07:00"} for code, unit, value in picked]
        body = json.dumps({"device_id": spec["device"], "mutations": mutations}).encode()
        _, _, data = self.call("sync (20 answers)", "POST", "/api/v1/sync", {200},
                               {"Content-Type": "application/json"}, body)
        for (code, unit, _), result in zip(picked, json.loads(data)["results"], strict=True):
            with self.stats.lock:
                self.stats.outcomes[result["status"]] += 1
            if result["status"] == "applied":
                spec["versions"][f"{code}|{unit}"] = result["version"]
            else:
                self.stats.error("sync mutation", json.dumps(result, ensure_ascii=False)[:300])

    def photo(self) -> None:
        path, sha, size = self.photos[self.spec["round"] // PHOTO_EVERY % len(self.photos)]
        data, photo_id = self.files[path], str(uuid.uuid4())
        declaration = {"id": photo_id, "inspection_id": self.spec["inspection"], "sha256": sha, "size": size,
                       "content_type": "image/jpeg"}
        self.call("photo declare", "POST", "/api/v1/photos", {201}, {"Content-Type": "application/json"},
                  json.dumps(declaration).encode())
        for offset in range(0, size, CHUNK):
            self.call("photo last chunk" if offset + CHUNK >= size else "photo chunk (512 kB)", "PATCH",
                      f"/api/v1/photos/{photo_id}/upload", {204},
                      {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
                       "Tus-Resumable": "1.0.0"}, data[offset:offset + CHUNK])

    def changes(self) -> None:
        for _ in range(100):  # as feed.js: every page
            _, _, data = self.call("change feed", "GET", f"/api/v1/sync/changes?cursor={self.spec['cursor']}&limit=500",
                                   {200})
            feed = json.loads(data)
            self.spec["cursor"] = feed["cursor"]
            if not feed["has_more"]:
                return

    def bundle(self) -> None:
        etag = self.spec["bundle_etag"]
        status, headers, _ = self.call("bundle", "GET", f"/api/v1/inspections/{self.spec['inspection']}/bundle",
                                       {200, 304}, {"If-None-Match": etag} if etag else {})
        if status == 200:
            self.spec["bundle_etag"] = headers["etag"]


def tablets_loop(job: tuple) -> dict:
    """A generator process: one thread per tablet; returns what it saw and each tablet's state for the next run."""
    port, specs, photos, pause, start_at, end_at = job
    stats = Stats(end_at)
    files = {path: Path(path).read_bytes() for path, _, _ in photos}
    tablets = [Tablet(port, spec, photos, files, stats, pause) for spec in specs]
    threads = [threading.Thread(target=tablet.run, args=(start_at,)) for tablet in tablets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**stats.dump(), "specs": [tablet.spec for tablet in tablets]}


def slow_upload(port: int, token: str, photo: tuple, start_at: float, out: dict) -> None:
    """One more client: declares a photo and sends its first 512 kB chunk at 256 kbit/s."""
    path, sha, size = photo
    auth, photo_id = {"Authorization": f"Bearer {token}"}, str(uuid.uuid4())
    wait_until(start_at)
    conn = Connection(port)
    try:
        declaration = {"id": photo_id, "inspection_id": INSPECTIONS[0], "sha256": sha, "size": size,
                       "content_type": "image/jpeg"}
        status, _, body = conn.request("POST", "/api/v1/photos", {**auth, "Content-Type": "application/json"},
                                       json.dumps(declaration).encode())
        assert status == 201, (status, body[:300])
        out["start"] = time.monotonic()
        status, headers, body = conn.request("PATCH", f"/api/v1/photos/{photo_id}/upload", {
            **auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
            "Tus-Resumable": "1.0.0"}, Path(path).read_bytes()[:CHUNK], rate=SLOW_RATE)
        out.update(end=time.monotonic(), status=status, offset=headers.get("upload-offset"), body=body[:300])
    except (OSError, AssertionError) as error:
        out.update(end=time.monotonic(), status=None, error=repr(error))
    finally:
        conn.close()


# --- the runs -----------------------------------------------------------------------------------------------


def sign_in(port: int, device: str) -> str:
    status, _, body = call(port, "POST", "/api/v1/auth/login", json.dumps(
        {"username": USERNAME, "password": PASSWORD, "device_id": device}), {"Content-Type": "application/json"})
    assert status == 200, (status, body[:300])
    return json.loads(body)["access_token"]


def tablet_specs(port: int, count: int) -> tuple[list[dict], dict]:
    """Each tablet's sign-in, inspection and answer slots (its own: item, unit, a valid value), as a PWA holds
    them after downloading the inspection; plus what the read phase sends."""
    auth = {"Authorization": f"Bearer {sign_in(port, 'bench-setup')}"}
    status, headers, body = call(port, "GET", CHECKLIST, headers=auth)
    assert status == 200, (status, body[:300])
    items = [item for section in json.loads(body)["sections"] for item in section["items"]
             if not item.get("visible_if")]
    reads = {"auth": auth, "checklist_etag": headers["ETag"]}
    downloaded = {}
    for inspection in INSPECTIONS:
        status, headers, body = call(port, "GET", f"/api/v1/inspections/{inspection}/bundle", headers=auth)
        assert status == 200, (status, body[:300])
        bundle = json.loads(body)
        slots = [(item["code"], unit["id"], sample_value(item)) for unit in bundle["units"] for item in items
                 if unit["unit_type"] in item["applies_to"]]
        versions = {f"{a['item_code']}|{a['unit_id']}": a["version"] for a in bundle["answers"]}  # the demo's
        downloaded[inspection] = (slots, versions, bundle["cursor"], headers["ETag"])
    reads["bundle"], reads["bundle_etag"] = INSPECTIONS[0], downloaded[INSPECTIONS[0]][3]
    specs = []
    for index in range(count):
        inspection = INSPECTIONS[index % len(INSPECTIONS)]
        slots, versions, cursor, etag = downloaded[inspection]
        share, mine = len(range(index % len(INSPECTIONS), count, len(INSPECTIONS))), index // len(INSPECTIONS)
        device = f"bench-tablet-{index}"
        specs.append({"index": index, "device": device, "token": sign_in(port, device), "inspection": inspection,
                      "slots": slots[mine::share], "versions": dict(versions), "cursor": cursor, "bundle_etag": etag,
                      "checklist_etag": reads["checklist_etag"], "round": 0})
    assert min(len(spec["slots"]) for spec in specs) >= BATCH, "too many tablets for the answer slots"
    return specs, reads


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Load:
    """The generator processes, and the CPU they and the server's workers use during each run."""

    def __init__(self, procs: int):
        self.procs = procs
        # pool_init: SIGTERM ends a generator process (pool.terminate()), it does not raise in it
        self.pool = multiprocessing.get_context("fork").Pool(procs, initializer=pool_init, initargs=(None, ""))

    def cpu(self, server: Server, run) -> tuple[object, dict]:
        """run(), and the CPU seconds the server's workers and the generator processes used meanwhile."""
        groups = lambda: {"server": server.workers(), "generator": [p.pid for p in self.pool._pool]}  # noqa: E731
        before, started = cpu_seconds(groups()), time.monotonic()
        result = run()
        after, wall = cpu_seconds(groups()), time.monotonic() - started
        return result, {"wall": wall, **{name: after[name] - before.get(name, 0.0) for name in after}}

    def reads(self, server: Server, head: bytes, expect: set[int], conns: int, seconds: float) -> dict:
        start_at = time.monotonic() + 0.3
        jobs = [(server.port, head, expect, conns, start_at, start_at + seconds)] * self.procs
        parts, cpu = self.cpu(server, lambda: self.pool.map(read_loop, jobs, chunksize=1))
        total = merge(parts)
        done = [(ended, lat) for values in total["done"].values() for ended, lat in values]
        within = sum(ended <= start_at + seconds for ended, _ in done)  # the last reply of each connection is late
        lat = [lat for _, lat in done]
        return {"n": len(done), "rps": within / seconds, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
                "errors": sum(total["errors"].values()), "samples": total["samples"], "cpu": cpu,
                "statuses": {status: len(v) for (_, status), v in total["done"].items()},
                "reconnects": total["reconnects"]}

    def tablets(self, server: Server, specs: list[dict], photos: list, seconds: float, pause: float,
                slow: list[tuple[str, tuple]]) -> dict:
        """The tablets for `seconds`, `pause` s between rounds (and the slow uploaders, 2 s in); the specs are
        updated for the next run."""
        start_at = time.monotonic() + 0.5
        jobs = [(server.port, specs[k::self.procs], photos, pause, start_at, start_at + seconds)
                for k in range(self.procs)]
        slow_out = [{} for _ in slow]
        threads = [threading.Thread(target=slow_upload, args=(server.port, token, photo, start_at + SLOW_START, out))
                   for (token, photo), out in zip(slow, slow_out, strict=True)]
        for thread in threads:
            thread.start()
        parts, cpu = self.cpu(server, lambda: self.pool.map(tablets_loop, jobs, chunksize=1))
        for thread in threads:
            thread.join()
        total = merge(parts)
        for k in range(self.procs):  # the tablets' state (versions, cursors, ETags) as the processes left it
            specs[k::self.procs] = parts[k]["specs"]
        return {**total, "seconds": seconds, "pause": pause, "start": start_at, "slow": slow_out, "cpu": cpu}

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def span_stats(run: dict, begin: float, end: float) -> dict:
    """The tablet requests of a run over [begin, end] (seconds from the run's start): req/s from the replies within
    it; latencies of the requests sent within it (a request that waited for the slow upload counts, even if its
    reply came after)."""
    begin, end = run["start"] + begin, run["start"] + end
    done = [(ended, lat) for values in run["done"].values() for ended, lat in values]
    sent = [lat for ended, lat in done if begin <= ended - lat <= end]
    return {"rps": sum(begin <= ended <= end for ended, _ in done) / (end - begin), "p50": pct(sent, 0.5),
            "p99": pct(sent, 0.99), "max": max(sent, default=float("nan")), "n": len(sent)}


def run_reads(load: Load, app: Server, bare: Server, reads: dict, args) -> dict[str, list[dict]]:
    """Bare, checklist 200, checklist 304, bundle 304 and the signed-in floor (the smallest route behind a token:
    `GET /api/v1/config/limits`), in rotating rounds after a short warm-up each."""
    status, headers, _ = call(app.port, "GET", f"/api/v1/inspections/{reads['bundle']}/bundle", headers=reads["auth"])
    assert status == 200, status
    targets = [  # prepared request bytes: every connection of a target sends the same
        ("bare", bare, Connection(bare.port).head("GET", "/bare"), {200}),
        ("checklist 200", app, Connection(app.port).head("GET", CHECKLIST, reads["auth"]), {200}),
        ("checklist 304", app, Connection(app.port).head("GET", CHECKLIST, {
            **reads["auth"], "If-None-Match": reads["checklist_etag"]}), {304}),
        ("bundle 304", app, Connection(app.port).head("GET", f"/api/v1/inspections/{reads['bundle']}/bundle", {
            **reads["auth"], "If-None-Match": headers["ETag"]}), {304}),
        ("signed-in floor", app, Connection(app.port).head("GET", "/api/v1/config/limits", reads["auth"]), {200}),
    ]
    for _, server, head, expect in targets:  # warm-up: connections, caches, lazy imports
        load.reads(server, head, expect, args.conns, 1.0)
    results: dict[str, list[dict]] = {name: [] for name, *_ in targets}
    for n in range(args.rounds):
        for name, server, head, expect in targets[n % len(targets):] + targets[:n % len(targets)]:
            results[name].append(load.reads(server, head, expect, args.conns, args.seconds))
    return results


def run_tablets(load: Load, app: Server, specs: list[dict], slow: list, photos: list, args) -> dict:
    """A short warm-up; one run with no pause between rounds (the capacity for this mix); then `repeats` pairs of
    runs at the tablets' pace, without and with the slow uploaders, alternating."""
    load.tablets(app, specs, photos, 4.0, args.pause, [])
    capacity = load.tablets(app, specs, photos, args.capacity_seconds, 0.0, [])
    runs = []
    for n in range(args.repeats):
        for with_slow in ((False, True) if n % 2 == 0 else (True, False)):
            runs.append({"slow_clients": len(slow) if with_slow else 0, **load.tablets(
                app, specs, photos, args.mixed_seconds, args.pause, slow if with_slow else [])})
    return {"capacity": capacity, "runs": runs}


def measure(config: str, photos: list, load: Load, tmp: Path, args) -> dict:
    """A fresh database, the app and the bare endpoint under `config`, the reads, then the tablets."""
    work = Path(tempfile.mkdtemp(prefix=f"{config}-", dir=tmp))
    env, app, bare = prepare(work), None, None
    try:
        app = Server(config, APP, env, work, "/api/v1/health")
        bare = Server(config, BARE, env, work, "/bare")
        specs, reads = tablet_specs(app.port, args.tablets)
        slow = [(sign_in(app.port, f"bench-slow-{k}"), photos[k % len(photos)]) for k in range(args.slow_clients)]
        read_results = run_reads(load, app, bare, reads, args)
        tablets = run_tablets(load, app, specs, slow, photos, args)
        peak = {pid: proc_mb(pid, "VmHWM") for pid in app.workers()}
        return {"config": config, "line": " ".join(Path(a).name if a.startswith("/") else a for a in app.args),
                "reads": read_results, **tablets, "peak_mb": peak,
                "restarts": {"app": app.restarts(), "bare": bare.restarts()}}
    finally:
        for server in (app, bare):
            if server:
                server.stop()


# --- report -------------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"




def latencies(run: dict) -> list[float]:
    return [lat for values in run["done"].values() for _, lat in values]


def slow_pairs(result: dict) -> list[dict]:
    """Each repeat's runs with and without the slow uploaders, over the slow uploads' span."""
    pairs = []
    for n in range(0, len(result["runs"]), 2):
        pair = result["runs"][n:n + 2]
        with_slow = next(run for run in pair if run["slow_clients"])
        without = next(run for run in pair if not run["slow_clients"])
        uploads = with_slow["slow"]
        ok = all(out.get("status") == 204 and out.get("offset") == str(CHUNK)
                 and out["end"] - out["start"] >= 0.9 * CHUNK / SLOW_RATE for out in uploads)  # really that slow
        begin = min(out.get("start", with_slow["start"]) for out in uploads) - with_slow["start"]
        end = min(max(out.get("end", 0.0) for out in uploads) - with_slow["start"], with_slow["seconds"])
        pairs.append({"ok": ok, "uploads": uploads, "begin": begin, "end": end,
                      "duration": max(out.get("end", 0.0) - out.get("start", 0.0) for out in uploads),
                      "with": span_stats(with_slow, begin, end), "without": span_stats(without, begin, end)})
    return pairs


def summarize(result: dict) -> dict:
    reads, runs, capacity = result["reads"], result["runs"], result["capacity"]
    ratio = {name: statistics.median(r["rps"] / b["rps"] for r, b in zip(reads[name], reads["bare"], strict=True))
             for name in reads}
    pairs = slow_pairs(result)
    errors = sum(r["errors"] for rounds in reads.values() for r in rounds) + sum(
        sum(run["errors"].values()) for run in [*runs, capacity]) + sum(not pair["ok"] for pair in pairs)
    rps_ratio = statistics.median(p["with"]["rps"] / p["without"]["rps"] for p in pairs)
    p99_ratio = statistics.median(p["with"]["p99"] / p["without"]["p99"] for p in pairs)
    slowest, duration = max(p["with"]["max"] for p in pairs), min(p["duration"] for p in pairs)
    stalled = not (all(p["ok"] for p in pairs) and rps_ratio >= TARGETS["slow_rps"]
                   and p99_ratio <= TARGETS["slow_p99"] and slowest < duration / 2)
    paced = [run for run in runs if not run["slow_clients"]]
    capacity_lat = latencies(capacity)
    return {"ratio": ratio, "errors": errors, "pairs": pairs, "rps_ratio": rps_ratio, "p99_ratio": p99_ratio,
            "slowest": slowest, "duration": duration, "stalled": stalled, "paced": merge(paced),
            "paced_seconds": sum(run["seconds"] for run in paced),
            "capacity": {"rps": len(capacity_lat) / capacity["seconds"], "p50": pct(capacity_lat, 0.5),
                         "p99": pct(capacity_lat, 0.99), "cores": capacity["cpu"]["server"] / capacity["cpu"]["wall"],
                         "rounds": sum(len(v) for (kind, _), v in capacity["done"].items() if kind.startswith("sync"))
                         / capacity["seconds"]},
            "rps": {name: statistics.median(r["rps"] for r in rounds) for name, rounds in reads.items()},
            "cpu_ms": {name: statistics.median(r["cpu"]["server"] / max(r["n"], 1) * 1000 for r in rounds)
                       for name, rounds in reads.items()}}


def by_kind(run: dict) -> dict[str, list[float]]:
    kinds: dict[str, list[float]] = {}
    for (kind, _status), values in run["done"].items():
        kinds.setdefault(kind, []).extend(lat for _, lat in values)
    return dict(sorted(kinds.items(), key=lambda kv: -len(kv[1])))


def print_reads(result: dict, summary: dict, args) -> None:
    print(f"\n1. reads: {args.rounds} round(s) of {args.seconds:g} s each, {args.procs} generator processes x "
          f"{args.conns} connections; share of bare = median of the rounds' ratios\n")
    print("| request | req/s by round | median req/s | p50 ms | p99 ms | share of bare | target | verdict | "
          "server CPU ms a request | CPU cores: server / generator |\n|---|---|---|---|---|---|---|---|---|---|")
    goals = {"checklist 200": TARGETS["checklist"], "checklist 304": TARGETS["304"]}
    for name, rounds in result["reads"].items():
        share, goal = summary["ratio"][name], goals.get(name)
        verdict = "" if goal is None else ("PASS" if share >= goal else "FAIL")
        cores = " / ".join(f"{statistics.median(r['cpu'][side] / r['cpu']['wall'] for r in rounds):.2f}"
                           for side in ("server", "generator"))
        by_round = ", ".join(f"{r['rps']:.0f}" for r in rounds)
        print(f"| {name} | {by_round} | {summary['rps'][name]:.0f} | {ms(statistics.median(r['p50'] for r in rounds))} "
              f"| {ms(statistics.median(r['p99'] for r in rounds))} | {share:.0%} | "
              f"{'' if goal is None else f'>= {goal:.0%}'} | {verdict} | {summary['cpu_ms'][name]:.2f} | {cores} |")
    for name, rounds in result["reads"].items():
        for r in rounds:
            if r["errors"]:
                print(f"  errors in {name}: {r['errors']}, e.g. {r['samples'][:2]}")


def print_tablets(result: dict, summary: dict, args) -> None:
    capacity, paced, seconds = summary["capacity"], summary["paced"], summary["paced_seconds"]
    print(f"\n2. {args.tablets} tablets. With no pause between rounds ({args.capacity_seconds:g} s): "
          f"{capacity['rps']:.0f} "
          f"req/s, {capacity['rounds']:.1f} rounds/s, p50 {ms(capacity['p50'])} ms, p99 {ms(capacity['p99'])} ms, "
          f"server {capacity['cores']:.2f} cores. At the tablets' pace ({args.pause:g} s between rounds; the runs "
          f"without the slow uploader, {seconds:g} s): {sum(map(len, by_kind(paced).values())) / seconds:.0f} "
          f"req/s, errors {sum(paced['errors'].values())}; mutations {dict(paced['outcomes'])}; "
          f"kept-alive connections the server had closed, request sent again: {paced['reconnects']}\n")
    print("| request | status | count | req/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|")
    for (kind, status), values in sorted(paced["done"].items(), key=lambda kv: -len(kv[1])):
        lat = [lat for _, lat in values]
        print(f"| {kind} | {status} | {len(lat)} | {len(lat) / seconds:.1f} | {ms(pct(lat, 0.5))} | "
              f"{ms(pct(lat, 0.99))} | {ms(max(lat))} |")
    for run in [result["capacity"], *result["runs"]]:
        if run["errors"]:
            print(f"  errors (pause {run['pause']:g} s, {run.get('slow_clients', 0)} slow): {dict(run['errors'])}, "
                  f"e.g. {run['samples'][:3]}")
    print(f"  server workers' peak RSS (VmHWM) MB: {list(result['peak_mb'].values())}; worker restarts "
          f"{result['restarts']}")
    print(f"\n3. slow uploader(s): {args.slow_clients} x one {CHUNK // 1024} kB chunk at "
          f"{SLOW_RATE * 8 // 1000} kbit/s, "
          f"{SLOW_START:g} s into a paced run; the other requests over the slow upload's span, against the same span "
          f"of the run without it\n")
    print("| repeat | slow upload(s) | span s | req/s without → with | p50 ms without → with | "
          "p99 ms without → with | slowest other request ms |\n|---|---|---|---|---|---|---|")
    for n, p in enumerate(summary["pairs"], 1):
        uploads = ", ".join(out.get("error") or f"{out['status']} offset {out['offset']} in "
                            f"{out['end'] - out['start']:.1f} s" for out in p["uploads"])
        w, o = p["with"], p["without"]
        print(f"| {n} | {uploads} | {p['begin']:.1f}–{p['end']:.1f} | {o['rps']:.0f} → {w['rps']:.0f} | "
              f"{ms(o['p50'])} → {ms(w['p50'])} | {ms(o['p99'])} → {ms(w['p99'])} | {ms(w['max'])} |")
    print(f"\n  median req/s with / without {summary['rps_ratio']:.2f} (>= {TARGETS['slow_rps']}), p99 with / without "
          f"{summary['p99_ratio']:.2f} (<= {TARGETS['slow_p99']}), slowest other request {ms(summary['slowest'])} ms "
          f"against a {summary['duration']:.1f} s upload (< half): {'STALLS' if summary['stalled'] else 'no stall'}")


def rows(result: dict, summary: dict, args) -> list[Row]:
    """One row per target for bench/results.py, and the tablets' figures for reference."""
    command = ".venv/bin/python bench/load.py"
    rps, ratio, cpu = summary["rps"], summary["ratio"], summary["cpu_ms"]
    floor = f"bare Flask `GET /bare` under the same gunicorn line ({result['config']}): {rps['bare']:.0f} req/s"

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    paced, seconds, capacity = summary["paced"], summary["paced_seconds"], summary["capacity"]
    kinds = by_kind(paced)
    mix = "; ".join(f"{kind} p50 {ms(pct(lat, 0.5))} / p99 {ms(pct(lat, 0.99))} ms" for kind, lat in kinds.items())
    return [
        Row("load: checklist read (200, 191 kB of JSON) against a bare endpoint", command, floor,
            f"{rps['checklist 200']:.0f} req/s ({cpu['checklist 200']:.2f} ms of server CPU a request, bare "
            f"{cpu['bare']:.2f})", f"{ratio['checklist 200']:.0%}", f">= {TARGETS['checklist']:.0%} of bare",
            verdict(ratio["checklist 200"] >= TARGETS["checklist"])),
        Row("load: checklist revalidation (If-None-Match, 304) against a bare endpoint", command, floor,
            f"{rps['checklist 304']:.0f} req/s ({cpu['checklist 304']:.2f} ms of server CPU a request)",
            f"{ratio['checklist 304']:.0%}", f">= {TARGETS['304']:.0%} of bare",
            verdict(ratio["checklist 304"] >= TARGETS["304"])),
        Row("load: errors over every request of the run (reads, tablets, slow uploads)", command, "-",
            f"{summary['errors']} errors", "-", "0 errors", verdict(summary["errors"] == 0)),
        Row(f"load: slow uploader ({SLOW_RATE * 8 // 1000} kbit/s, one {CHUNK // 1024} kB chunk, "
            f"{summary['duration']:.0f} s) among {args.tablets} tablets", command,
            "the same tablets without it, same span of the run",
            f"others: req/s x{summary['rps_ratio']:.2f}, p99 x{summary['p99_ratio']:.2f}, slowest "
            f"{ms(summary['slowest'])} ms", f"x{summary['p99_ratio']:.2f} p99",
            f"no stall: others' p99 <= x{TARGETS['slow_p99']}, req/s >= x{TARGETS['slow_rps']}, none waits for "
            f"the upload", verdict(not summary["stalled"])),
        Row(f"load: {args.tablets} tablets at {args.pause:g} s between rounds (sync batch, photo every "
            f"{PHOTO_EVERY}th round, change feed, bundle and checklist revalidation)", command, "-",
            f"{sum(map(len, kinds.values())) / seconds:.0f} req/s; {mix}; with no pause: {capacity['rps']:.0f} req/s, "
            f"p99 {ms(capacity['p99'])} ms", "-", "report", "INFO"),
        Row("load: inspection bundle revalidation (If-None-Match, 304) against a bare endpoint", command, floor,
            f"{rps['bundle 304']:.0f} req/s ({cpu['bundle 304']:.2f} ms of server CPU a request)",
            f"{ratio['bundle 304']:.0%}", "report", "INFO"),
        Row("load: the signed-in floor (`GET /api/v1/config/limits`: token, revocation and user checks, a small "
            "JSON) against a bare endpoint", command, floor,
            f"{rps['signed-in floor']:.0f} req/s ({cpu['signed-in floor']:.2f} ms of server CPU a request)",
            f"{ratio['signed-in floor']:.0%}", "report", "INFO"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default=PRODUCTION,
                        help=f"gunicorn worker settings (default {PRODUCTION}, the production recommendation)")
    parser.add_argument("--compare", action="store_true",
                        help="every configuration, one round and one pair each, a fresh database each; not recorded")
    parser.add_argument("--rounds", type=int, default=3, help="read rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per read measurement (default 3)")
    parser.add_argument("--procs", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--conns", type=int, default=8, help="connections per generator process (default 8)")
    parser.add_argument("--tablets", type=int, default=12, help="tablets (default 12)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a tablet waits between rounds (default 1)")
    parser.add_argument("--capacity-seconds", type=float, default=8.0, help="the run with no pause (default 8)")
    parser.add_argument("--mixed-seconds", type=float, default=20.0, help="seconds per paced tablet run (default 20)")
    parser.add_argument("--repeats", type=int, default=2, help="pairs of paced runs without/with (default 2)")
    parser.add_argument("--slow-clients", type=int, default=1, help="slow uploaders in the slow runs (default 1)")
    args = parser.parse_args()
    if min(args.rounds, args.repeats, args.procs, args.conns, args.slow_clients, args.tablets) < 1:
        parser.error("--rounds, --repeats, --procs, --conns, --slow-clients and --tablets must be >= 1")
    if args.mixed_seconds < SLOW_START + CHUNK / SLOW_RATE + 1:
        parser.error(f"--mixed-seconds must cover the slow upload: at least {SLOW_START + CHUNK / SLOW_RATE + 1:.0f}")
    if args.compare:
        args.rounds, args.repeats = 1, 1
    configs = sorted(CONFIGS, key=lambda c: c != PRODUCTION) if args.compare else [args.config]
    gunicorn = subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True, text=True,  # noqa: S603
                              check=True).stdout.strip()
    print(f"bench/load.py: {os.cpu_count()} cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at "
          f"the start; Python {sys.version.split()[0]}, {gunicorn}; configurations: {', '.join(configs)}")
    results = []
    signal.signal(signal.SIGTERM, interrupted)  # the finally blocks stop gunicorn and remove the temporary folder
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        tmp = Path(folder)
        (tmp / "photos").mkdir()
        # 12 MP JPEGs, as the tablets' cameras take them
        with multiprocessing.Pool(os.cpu_count(), initializer=pool_init, initargs=(None, "")) as pool:
            photos = pool.map(make_photo, [(n, str(tmp / "photos")) for n in range(3)], chunksize=1)
        print(f"photos: 3 x 4000x3000, {', '.join(f'{p[2] / 1e6:.1f}' for p in photos)} MB")
        load = Load(args.procs)
        try:
            for config in configs:
                started = time.monotonic()
                result = measure(config, photos, load, tmp, args)
                summary = summarize(result)
                print(f"\n## {config}: {result['line']} ({time.monotonic() - started:.0f} s, load average "
                      f"{os.getloadavg()[0]:.2f})")
                print_reads(result, summary, args)
                print_tablets(result, summary, args)
                results.append((result, summary))
        finally:
            load.close()
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.compare:
        print("\n| configuration | bare req/s | checklist 200 (share; CPU ms) | 304 (share; CPU ms) | tablets, "
              "no pause: req/s, p99 ms | paced p99 ms | slow: p99 ratio, slowest ms | errors |\n"
              "|---|---|---|---|---|---|---|---|")
        for result, s in results:
            print(f"| {result['config']} | {s['rps']['bare']:.0f} | {s['rps']['checklist 200']:.0f} "
                  f"({s['ratio']['checklist 200']:.0%}; {s['cpu_ms']['checklist 200']:.2f}) | "
                  f"{s['rps']['checklist 304']:.0f} ({s['ratio']['checklist 304']:.0%}; "
                  f"{s['cpu_ms']['checklist 304']:.2f}) | {s['capacity']['rps']:.0f}, {ms(s['capacity']['p99'])} | "
                  f"{ms(pct(latencies(s['paced']), 0.99))} | "
                  f"{s['p99_ratio']:.2f}, {ms(s['slowest'])} | {s['errors']} |")
        return 0
    result, summary = results[0]
    table = rows(result, summary, args)
    if args.config == PRODUCTION and args.slow_clients == 1:
        print(f"\nrecorded in {record('load', table).relative_to(ROOT)}:")
    else:  # bench/results/load.json holds the production settings' figures only
        print("\nnot recorded (not the production settings, or not one slow uploader):")
    for row in table:
        print(f"  {row.verdict}: {row.benchmark}: {row.figure} ({row.ratio}; target {row.target})")
    return 0  # a missed target is printed as FAIL, not an error: speed is never asserted


if __name__ == "__main__":
    sys.exit(main())
