"""The fault harness: the real app under gunicorn on loopback, on its own database and media folder.

- `throwaway_database`: a SQLite file in a temporary folder, or (TEST_DATABASE_URL set) a database
  `faults_<random>` made on the same PostgreSQL server and dropped afterwards.
- `build`: `flask db upgrade`, `flask checklists sync`, `flask demo seed` (the CLI commands themselves, run in
  one process), with APP_ENV=production and generated secrets, as a release would.
- `Gunicorn`: `gunicorn --workers 2 --timeout 60 --preload wsgi:app` on a free loopback port. Sync workers, as
  deployed; --preload so the master forks a replacement for a killed worker in milliseconds instead of
  importing the app again (~3 s of CPU on this machine, which would skew the next trials' timing).
- `shoot`: one request on its own connection, whose worker is found from /proc (the process holding the
  accepted socket) and killed with SIGKILL after a delay, or as soon as a condition holds.
- `Observer`: reads the app's database from the test process (never through the app).
- `dangling_rows`, `orphaned_bytes`: the invariants, computed from the database and the media folder
  directly (not with the sweep's own code, so a sweep that misses something is seen).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from audit_api.models import AnswerRevision, Document, Photo, SyncMutation, Upload
from tests.support import CHECKLISTS_DIR, PROJECT_ROOT

BIN = Path(sys.executable).parent
PASSWORD = "faults-demo-password-1"
WORKERS = 2


# --- the database and the app's environment ----------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(folder: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in `folder`, or a new database on TEST_DATABASE_URL's server."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{folder / 'faults.sqlite3'}"
        return
    url = sa.engine.make_url(base)
    name = f"faults_{secrets.token_hex(6)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_env(database_url: str, media_root: Path) -> dict[str, str]:
    """The environment of a production deployment (generated secrets), on the throwaway database."""
    return {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
            "MEDIA_BACKEND": "local", "MEDIA_ROOT": str(media_root), "CHECKLISTS_DIR": str(CHECKLISTS_DIR),
            "DEMO_PASSWORD": PASSWORD, "PYTHONPATH": str(PROJECT_ROOT)}


BUILD = """
import sys
from wsgi import app
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["checklists", "sync"], ["demo", "seed"]):
    result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit(f"flask {' '.join(args)} failed ({result.exit_code}): {result.output[-2000:]} {result.exception!r}")
"""


def build(env: dict[str, str]) -> None:
    """What a release runs: `flask db upgrade`, `flask checklists sync`, `flask demo seed`."""
    done = subprocess.run([str(BIN / "python"), "-c", BUILD], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"building the database failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def flask(env: dict[str, str], *args: str) -> str:
    """A `flask` command against the same database and media folder; its output."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP -------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def call(port: int, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None,
         timeout: float = 60) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, dict(response.headers), response.read())
    finally:
        conn.close()


def call_json(port: int, method: str, path: str, payload=None, token: str | None = None) -> Reply:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return call(port, method, path, json.dumps(payload) if payload is not None else None, headers)


def sign_in(port: int, username: str) -> str:
    reply = call_json(port, "POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
    assert reply.status == 200, (reply.status, reply.body[:500])
    return reply.json()["access_token"]


def retry_call(port: int, method: str, path: str, body=None, headers=None, *, attempts: int = 50) -> Reply:
    """A client's retry: connection errors (a worker dying, a restart) are tried again shortly after."""
    for attempt in range(attempts):
        try:
            return call(port, method, path, body, headers)
        except (OSError, http.client.HTTPException):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


# --- gunicorn and its workers -------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except FileNotFoundError:
        return []


class Gunicorn:
    """gunicorn serving wsgi:app on a free loopback port, with an access log of status, method and path."""

    def __init__(self, folder: Path, env: dict[str, str], *, workers: int = WORKERS, name: str = "gunicorn"):
        self.port, self.workers_wanted = free_port(), workers
        self.log_path = folder / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5",
             "--preload", "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "-",
             "--access-logformat", "ACCESS %(s)s %(m)s %(U)s", "wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.wait_ready(timeout=60)
        except BaseException:
            self.stop()
            raise

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def wait_ready(self, timeout: float = 30) -> None:
        """Until every worker is up and /api/v1/health answers (after a kill: the master has forked anew)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            if len(self.live_workers()) == self.workers_wanted:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if call(self.port, "GET", "/api/v1/health", timeout=5).status == 200:
                        return
            time.sleep(0.01)
        raise RuntimeError(f"gunicorn not ready after {timeout} s:\n{self.log()[-3000:]}")

    def live_workers(self) -> list[int]:
        """Workers that are running (a killed one stays listed as a zombie until the master reaps it)."""
        live = []
        for pid in self.workers():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
                    live.append(pid)
        return live

    def wait_replaced(self, killed: int, timeout: float = 30) -> float:
        """After a kill: until the master has reaped `killed` and forked its replacement, and the app answers.
        Returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while killed in self.workers() or len(self.live_workers()) != self.workers_wanted:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"worker {killed} not replaced:\n{self.log()[-3000:]}")
            time.sleep(0.002)
        self.wait_ready(timeout)
        return time.monotonic() - started

    def owner(self, client_port: int, timeout: float = 5) -> int:
        """The worker holding the server side of the connection from `client_port` (it accepted it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            inode = _socket_inode(self.port, client_port)
            if inode:
                target = f"socket:[{inode}]"
                for pid in self.live_workers():
                    with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
                        for fd in os.scandir(f"/proc/{pid}/fd"):
                            with contextlib.suppress(OSError):
                                if os.readlink(fd.path) == target:
                                    return pid
            time.sleep(0.0005)
        raise RuntimeError(f"no worker accepted the connection from port {client_port}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def statuses(self) -> list[tuple[int, str, str]]:
        """(status, method, path) of every response a worker finished writing."""
        found = []
        for line in self.log().splitlines():
            if line.startswith("ACCESS "):
                _, status, method, path = line.split(" ", 3)
                found.append((int(status), method, path))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master, gracefully (its workers finish and exit)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server-side socket of 127.0.0.1:client_port → 127.0.0.1:server_port (0 until accepted)."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[9]) or None
    return None


# --- a request whose worker is killed -------------------------------------------------------------------------


@dataclass
class Shot:
    """One request and the SIGKILL of the worker serving it."""

    worker: int
    sent_at: float
    killed_at: float
    reply: Reply | None = None  # the whole response, if the client got it
    answered_at: float | None = None
    error: str | None = None  # what the client saw instead (connection reset, empty reply…)

    @property
    def answered(self) -> bool:
        return self.reply is not None

    @property
    def kill_ms(self) -> float:
        return (self.killed_at - self.sent_at) * 1000


def shoot(server: Gunicorn, method: str, path: str, body: bytes | None, headers: dict, *,
          delay: float | None = None, until: Callable[[], bool] | None = None, slice_s: float = 0.001,
          near: Callable[[], bool] | None = None, until_limit: float = 30.0) -> Shot:
    """Send one request on a fresh connection and SIGKILL its worker (never the master): `delay` seconds after
    sending it; or (`until`) at the first moment the condition is seen to hold. For that the worker runs in
    slices of `slice_s` and is stopped (SIGSTOP) between them while the condition is checked, so nothing
    moves while it is looked at: the kill lands right where the condition first held (or after the answer).
    `near`: a cheap condition polled first, with the worker running, before the slicing starts."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.connect()
    worker = server.owner(conn.sock.getsockname()[1])
    assert worker != server.process.pid and worker in server.live_workers()
    outcome: dict = {}

    def send() -> None:
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            outcome["reply"] = Reply(response.status, dict(response.headers), response.read())
            outcome["at"] = time.monotonic()
        except (OSError, http.client.HTTPException) as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()

    thread = threading.Thread(target=send, daemon=True)
    sent_at = time.monotonic()
    thread.start()
    if until is None:
        time.sleep(max(0.0, sent_at + (delay or 0.0) - time.monotonic()))
    else:
        deadline = sent_at + until_limit
        while near is not None and thread.is_alive() and time.monotonic() < deadline and not near():
            time.sleep(0.0002)
        while thread.is_alive() and time.monotonic() < deadline:
            time.sleep(slice_s)
            os.kill(worker, signal.SIGSTOP)
            _wait_stopped(worker)
            if until():
                break
            os.kill(worker, signal.SIGCONT)
    os.kill(worker, signal.SIGKILL)
    killed_at = time.monotonic()
    thread.join(60)
    assert not thread.is_alive(), "the client never saw the end of its request"
    return Shot(worker=worker, sent_at=sent_at, killed_at=killed_at, reply=outcome.get("reply"),
                answered_at=outcome.get("at"), error=outcome.get("error"))


def _wait_stopped(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in ("T", "t"):
            return
    raise RuntimeError(f"worker {pid} did not stop")


# --- the app's database, read from the test process ---------------------------------------------------------


class Observer:
    """Reads the app's database directly (a separate engine; never writes)."""

    def __init__(self, url: str):
        # one pooled connection in autocommit: each statement sees the latest commit (polled every ~ms)
        self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=2)
        self.dialect = self.engine.dialect.name

    def scalar(self, statement):
        with self.engine.connect() as conn:
            return conn.execute(statement).scalar()

    def rows(self, statement) -> list:
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    def batch_state(self, ids: list[uuid.UUID]) -> tuple[int, int]:
        """(sync_mutations rows, answer revisions) of a batch's mutation ids."""
        mutations = SyncMutation.__table__
        revisions = AnswerRevision.__table__
        with self.engine.connect() as conn:
            logged = conn.execute(sa.select(sa.func.count()).select_from(mutations)
                                  .where(mutations.c.id.in_(ids))).scalar()
            revised = conn.execute(sa.select(sa.func.count()).select_from(revisions)
                                   .where(revisions.c.mutation_id.in_(ids))).scalar()
        return logged, revised

    def batch_logged(self, ids: list[uuid.UUID]) -> bool:
        """Has any of the batch's mutations committed? (polled while the request runs)"""
        mutations = SyncMutation.__table__
        return bool(self.scalar(sa.select(mutations.c.id).where(mutations.c.id.in_(ids[:1]))))

    def photo_recorded(self, photo_id: uuid.UUID) -> bool:
        photos = Photo.__table__
        return bool(self.scalar(sa.select(photos.c.id).where(photos.c.id == photo_id)))

    def close(self) -> None:
        self.engine.dispose()


# --- the invariants -------------------------------------------------------------------------------------------


def photo_keys(photo_id: uuid.UUID, kind: str) -> list[str]:
    """The objects a ready photo (or evidence PDF) has in the store (services/uploads.keys)."""
    hexid = photo_id.hex
    keys = [f"originals/{hexid[:2]}/{hexid}"]
    if kind == "photo":
        keys += [f"display/{hexid[:2]}/{hexid}.jpg", f"thumb/{hexid[:2]}/{hexid}.jpg"]
    return keys


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dangling_rows(observer: Observer, media_root: Path, only: uuid.UUID | None = None) -> list[str]:
    """Rows that point at bytes the store does not hold (or holds wrong): every Photo's original (size and
    SHA-256 as recorded) and derivatives, every ready upload's Photo row, every issued document's PDF.
    `only`: just that photo's rows (checked right after a kill)."""
    found = []
    photos, uploads, documents = Photo.__table__, Upload.__table__, Document.__table__
    chosen = sa.select(photos.c.id, photos.c.kind, photos.c.size_bytes, photos.c.sha256)
    for photo_id, kind, size, sha in observer.rows(chosen if only is None else chosen.where(photos.c.id == only)):
        for key in photo_keys(photo_id, kind):
            path = media_root / key
            if not path.is_file() or path.stat().st_size == 0:
                found.append(f"photo {photo_id}: {key} missing")
            elif key.startswith("originals/") and (path.stat().st_size != size or sha256_file(path) != sha):
                found.append(f"photo {photo_id}: {key} is not the recorded bytes")
    ready = sa.select(uploads.c.id).where(uploads.c.status == "ready").where(~uploads.c.id.in_(sa.select(photos.c.id)))
    found += [f"upload {upload_id} ready without a Photo row" for (upload_id,) in observer.rows(
        ready if only is None else ready.where(uploads.c.id == only))]
    if only is not None:
        return found
    for document_id, key in observer.rows(sa.select(documents.c.id, documents.c.pdf_key)
                                          .where(documents.c.pdf_key.is_not(None))):
        if not (media_root / key).is_file():
            found.append(f"document {document_id}: {key} missing")
    return found


def orphaned_bytes(observer: Observer, media_root: Path) -> dict[str, list[str]]:
    """Every file under the media folder that nothing needs, by kind: staged chunks of an upload that is not
    in progress, temporary files of interrupted writes, finished objects no row refers to, anything else."""
    photos, uploads, documents = Photo.__table__, Upload.__table__, Document.__table__
    wanted = {key for photo_id, kind in observer.rows(sa.select(photos.c.id, photos.c.kind))
              for key in photo_keys(photo_id, kind)}
    wanted |= {key for (key,) in observer.rows(sa.select(documents.c.pdf_key).where(documents.c.pdf_key.is_not(None)))}
    in_progress = {str(upload_id) for (upload_id,) in observer.rows(
        sa.select(uploads.c.id).where(uploads.c.status == "uploading"))}
    found: dict[str, list[str]] = {"staged": [], "temporary": [], "unreferenced": []}
    for folder, _, files in os.walk(media_root):
        for name in files:
            key = (Path(folder) / name).relative_to(media_root).as_posix()
            if name.startswith("."):
                found["temporary"].append(key)
            elif key.startswith("staging/"):
                if key.removeprefix("staging/") not in in_progress:
                    found["staged"].append(key)
            elif key not in wanted:
                found["unreferenced"].append(key)
    return found


@dataclass
class Tally:
    """Where kills landed, per kind of request."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, landing: str) -> None:
        self.counts.setdefault(kind, {}).setdefault(landing, 0)
        self.counts[kind][landing] += 1

    def total(self, kind: str | None = None, landing_prefix: str = "") -> int:
        return sum(n for k, landings in self.counts.items() if kind in (None, k)
                   for landing, n in landings.items() if landing.startswith(landing_prefix))


# --- what a tablet sends ---------------------------------------------------------------------------------------

SAMPLE_VALUES = {"count": 7, "yes_no_na": "yes", "ratio": {"numerator": 3, "denominator": 4}, "percent": 50,
                 "number": 12.5, "text": "Đã kiểm tra hồ sơ lưu trữ.", "date": "2024-06-01",
                 "document_ref": {"number": "12/KH-UBND"}, "sample": []}


def sample_value(item: dict):
    """A valid value for the item's answer type (as bench/sync.py)."""
    options = [option["code"] for option in item.get("options") or []]
    if item["answer_type"] == "select":
        return options[0]
    if item["answer_type"] == "multiselect":
        return options[:1]
    return SAMPLE_VALUES[item["answer_type"]]


def answer_slots(port: int, token: str, inspection_id: uuid.UUID, count: int) -> list[tuple[dict, str]]:
    """The first `count` (item, unit id) pairs of an inspection a tablet can answer without conditions."""
    inspection = call_json(port, "GET", f"/api/v1/inspections/{inspection_id}", token=token).json()
    ref = inspection["checklist"]
    definition = call_json(port, "GET", f"/api/v1/checklists/{ref['key']}/versions/{ref['version']}",
                           token=token).json()
    slots = [(item, unit["id"]) for unit in [inspection["host_unit"], *inspection["sub_units"]]
             for section in definition["sections"] for item in section["items"]
             if unit["unit_type"] in item["applies_to"] and not item.get("visible_if")]
    assert len(slots) >= count, f"only {len(slots)} answer slots"
    return slots[:count]


def sync_body(inspection_id: uuid.UUID, slots: list[tuple[dict, str]], versions: dict, note: str) -> dict:
    """One batch: an answer.set per slot on the version the tablet last saw, each with a new mutation id."""
    return {"device_id": "faults-tablet", "mutations": [
        {"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(inspection_id),
         "base_version": versions.get((item["code"], unit_id)) or None,
         "payload": {"item_code": item["code"], "unit_id": unit_id, "value": sample_value(item), "note": note},
         "client_time": "2024-06-25T09:30:00+07:00"} for item, unit_id in slots]}


def make_jpeg(width: int = 2400, height: int = 1800, seed: int = 1) -> bytes:
    """A camera-like JPEG (noise over gradients, EXIF with orientation and time) of about 1–2 MB."""
    import io
    import random

    from PIL import ExifTags, Image, ImageChops

    noise = Image.frombytes("L", (width // 2, height // 2),
                            random.Random(seed).randbytes(width // 2 * (height // 2)))  # noqa: S311
    noise = noise.resize((width, height), Image.Resampling.BILINEAR).point(lambda v: v * 80 // 255)
    ramp, disc = Image.linear_gradient("L").resize((width, height)), Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (ImageChops.add(ramp, noise), ImageChops.add(disc, noise),
                                ImageChops.blend(ramp, noise, 0.5)))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2024:06:25 09:30:00"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def distinct(jpeg: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment (COM segment) after SOI: other bytes, another SHA-256, still valid."""
    text = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


# --- a TCP proxy between the app and PostgreSQL ----------------------------------------------------------------


class _Link:
    """One proxied connection: the app's socket and the server's."""

    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        self.hold_commit_reply = False
        self._closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv()
            sock.close()


class DatabaseProxy:
    """127.0.0.1:<port> → the database server, so a test can take the database away from the app.

    cut(): every connection is closed and new ones are refused (the listening socket is closed) until
    restore(). trap_commit("before"): the next connection that sends COMMIT is dropped before the COMMIT
    reaches the server (nothing commits); trap_commit("after"): the COMMIT goes through and the connection is
    dropped once the server has confirmed it, before the app hears (committed, but the app cannot know).
    COMMIT is recognized as psycopg sends it: a simple-protocol Query message (`Q`, length 11, "COMMIT")."""

    COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
    COMMITTED = b"C\x00\x00\x00\x0bCOMMIT\x00"  # CommandComplete

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.links: set[_Link] = set()
        self.trap: str | None = None
        self.sprung: list[str] = []
        self._lock = threading.Lock()
        self.port = 0
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            with self._lock:
                self.links.add(link)
            threading.Thread(target=self._pump, args=(link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, False), daemon=True).start()

    def _pump(self, link: _Link, upstream: bool) -> None:
        source, sink = (link.client, link.server) if upstream else (link.server, link.client)
        try:
            while data := source.recv(65536):
                if upstream and self.trap and self.COMMIT in data:
                    with self._lock:
                        trap, self.trap = self.trap, None
                    if trap == "before":
                        self.sprung.append("before")
                        return
                    link.hold_commit_reply = bool(trap)
                elif not upstream and link.hold_commit_reply and self.COMMITTED in data:
                    self.sprung.append("after")
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            link.close()
            with self._lock:
                self.links.discard(link)

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self.listener.close()
        with self._lock:
            links, self.links = list(self.links), set()
        for link in links:
            link.close()

    def restore(self) -> None:
        self._listen()

    def trap_commit(self, when: str) -> None:
        assert when in ("before", "after")
        self.trap = when

    def close(self) -> None:
        self.cut()
