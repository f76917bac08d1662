"""Photo benchmark: 12 MP JPEGs through the real upload endpoint under gunicorn, next to the Pillow floor.

    cd /work/main && .venv/bin/python bench/photos.py [--photos 24] [--rounds 3] [--backend local|s3|both]
                                                      [--profile]

Photos: N distinct 4000×3000 JPEGs (q92, 3–8 MB, EXIF Orientation 1/3/6/8, DateTimeOriginal, GPS IFD), made once
in a temporary folder; app and floor use the same files.
App: fresh SQLite database and media folder; `flask db upgrade`, `checklists sync`, `demo seed`; `gunicorn
--workers 2 --timeout 60 wsgi:app` (APP_ENV=production, generated secrets) on a free loopback port; sign-in as
kiemtra1; after one warm-up photo per uploader, two uploader threads each send half the photos (POST
/api/v1/photos, then PATCH .../upload in UPLOAD_CHUNK_MAX_BYTES chunks). Wall time runs from the first request
to the last reply; then every photo must be `ready` with the size and GPS the floor read. Worker RSS is sampled
from /proc every 50 ms, and VmHWM (the kernel's peak) is read at the end.
Floor, same run, same files: multiprocessing.Pool(os.cpu_count()) doing sha256 + images.inspect() +
images.derivatives() per photo; with S3, each pool task also put_objects the original, display and thumbnail
bytes to the same moto (in the pool, one boto3 client per process). moto (ThreadedMotoServer) runs in its own
process on 127.0.0.1. Rounds alternate which goes first; the medians count.
The report adds each uploader's span and the CPU time of the workers, moto and the uploaders (from /proc).
--profile: one round per backend with cProfile in each gunicorn worker (and each thread it starts), then where
the time goes per photo.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import pstats
import random
import resource
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"

from PIL import ExifTags, Image, ImageChops  # noqa: E402

from audit_api import images  # noqa: E402
from audit_api.config import load_settings  # noqa: E402
from audit_api.services.demo import demo_id  # noqa: E402
from bench.results import Row, pass_fail, record  # noqa: E402
from bench.results import command as rerun_command  # noqa: E402

SETTINGS = load_settings({"APP_ENV": "development"})  # the limits the server reads from the same environment
CHUNK, MAX_PIXELS = SETTINGS["UPLOAD_CHUNK_MAX_BYTES"], SETTINGS["PHOTO_MAX_PIXELS"]
TARGETS, RSS_TARGET_MB, WORKERS, UPLOADERS = {"local": 1.25, "s3": 1.35}, 250, 2, 2
USERNAME, PASSWORD = "kiemtra1", "bench-photos-password-1"  # the deputy lead; a throwaway database
INSPECTION = str(demo_id("insp-vanlang-2024"))
S3_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
PROFILE_CONF = """import cProfile, os, threading
def post_fork(server, worker):
    worker.bench_profile = cProfile.Profile(); worker.bench_profile.enable()
    worker.bench_thread_profiles = []
    def start(frame, event, arg):  # a new thread (the upload's second threads) gets its own profiler
        profile = cProfile.Profile(); worker.bench_thread_profiles.append(profile); profile.enable()
    threading.setprofile(start)
def worker_exit(server, worker):
    worker.bench_profile.disable(); worker.bench_profile.dump_stats(f"{folder}/worker-{{os.getpid()}}.prof")
    for n, profile in enumerate(worker.bench_thread_profiles):
        profile.dump_stats(f"{folder}/worker-{{os.getpid()}}-thread-{{n}}.prof")
"""


SCENE_SIZE = (4000, 3000)  # 12 MP, a tablet camera's photo


def scene(n: int) -> Image.Image:
    """Scene n: gradients plus seeded noise (coarser on odd n), so a q92 JPEG lands at 3–8 MB, like a photo."""
    (w, h), grain, amp = SCENE_SIZE, 1 + n % 2, 70 + 12 * (n % 6)
    noise = Image.frombytes("L", (w // grain, h // grain), random.Random(n).randbytes(w // grain * (h // grain)))  # noqa: S311
    noise = noise.resize((w, h), Image.Resampling.BILINEAR).point(lambda v: v * amp // 255)
    ramp, disc = Image.linear_gradient("L").resize((w, h)), Image.radial_gradient("L").resize((w, h))
    return Image.merge("RGB", (ImageChops.add(ramp, noise, offset=-amp // 2), ImageChops.add(disc, noise),
                               ImageChops.blend(ramp.transpose(Image.Transpose.ROTATE_180), noise, 0.4)))


def make_photo(job: tuple[int, str]) -> tuple[str, str, int]:
    """Photo n: scene(n) as a q92 JPEG with EXIF and GPS set."""
    n, folder = job
    im = scene(n)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = (1, 3, 6, 8)[n % 4]
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "samsung", "SM-X200"
    exif.get_ifd(ExifTags.IFD.Exif).update({0x9003: f"2024:06:24 09:{n % 60:02d}:00", 0x9011: "+07:00"})
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (21.0, 50.0, float(n)), 3: "E", 4: (106.0, 30.0, 1.5)})
    path = Path(folder) / f"photo-{n:02d}.jpg"
    im.save(path, "JPEG", quality=92, exif=exif)
    data = path.read_bytes()
    return str(path), hashlib.sha256(data).hexdigest(), len(data)


# --- the floor ------------------------------------------------------------------------------------------

_s3 = None  # per pool process: (client, bucket)


def pool_init(endpoint: str | None, bucket: str) -> None:
    global _s3
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # pool.terminate() must end the process, not raise
    if endpoint:
        import boto3
        from botocore.config import Config

        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        _s3 = (boto3.session.Session().client("s3", endpoint_url=endpoint, config=config, **S3_KEYS), bucket)


def floor_task(path: str) -> tuple[float, tuple, int]:
    """What the server does with a photo once its bytes are in: sha256, inspect, derivatives (+ S3 puts)."""
    started = time.perf_counter()
    data = Path(path).read_bytes()
    hashlib.sha256(data).hexdigest()
    info = images.inspect(Path(path), declared_type="image/jpeg", max_pixels=MAX_PIXELS)
    display, thumb = images.derivatives(Path(path), display_px=SETTINGS["PHOTO_DISPLAY_PX"],
                                        thumb_px=SETTINGS["PHOTO_THUMB_PX"])
    if _s3:
        client, bucket = _s3
        key = uuid.uuid4().hex
        for name, body in ((f"originals/{key}", data), (f"display/{key}.jpg", display.data),
                           (f"thumb/{key}.jpg", thumb.data)):
            client.put_object(Bucket=bucket, Key=name, Body=body, ContentType="image/jpeg")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return time.perf_counter() - started, (info.width, info.height, info.gps_lat, info.gps_lon), rss_mb


def run_floor(pool, photos: list) -> tuple[float, list]:
    started = time.perf_counter()
    results = pool.map(floor_task, [p[0] for p in photos], chunksize=1)
    return time.perf_counter() - started, results


# --- the app over HTTP ----------------------------------------------------------------------------------


def call(port: int, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


def upload(port: int, token: str, photo: tuple, data: bytes, timings: dict) -> str:
    """One photo as a tablet sends it: declare, then the bytes in chunks at increasing offsets."""
    _, sha, size = photo
    auth, photo_id, view = {"Authorization": f"Bearer {token}"}, str(uuid.uuid4()), memoryview(data)
    started = time.perf_counter()
    status, _, body = call(port, "POST", "/api/v1/photos", json.dumps({
        "id": photo_id, "inspection_id": INSPECTION, "sha256": sha, "size": size, "content_type": "image/jpeg",
    }), {**auth, "Content-Type": "application/json"})
    assert status == 201, (status, body[:500])
    timings["declare"].append(time.perf_counter() - started)
    for offset in range(0, size, CHUNK):
        chunk = view[offset:offset + CHUNK]
        started = time.perf_counter()
        status, headers, body = call(port, "PATCH", f"/api/v1/photos/{photo_id}/upload", chunk, {
            **auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(chunk)), "Tus-Resumable": "1.0.0"})
        assert status == 204 and int(headers["Upload-Offset"]) == offset + len(chunk), (status, body[:500])
        timings["last" if offset + CHUNK >= size else "chunk"].append(time.perf_counter() - started)
    return photo_id


def upload_all(port: int, token: str, photos: list) -> tuple[float, list[str], dict]:
    """UPLOADERS threads, photo i to thread i % UPLOADERS; wall from the first request to the last reply."""
    timings: dict[str, list[float]] = {"declare": [], "chunk": [], "last": [], "uploader": [0.0] * UPLOADERS}
    files = [Path(p[0]).read_bytes() for p in photos]  # on the tablet already: read before the clock starts
    ids: list[str] = [""] * len(photos)
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(UPLOADERS)

    def uploader(k: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            for i in range(k, len(photos), UPLOADERS):
                ids[i] = upload(port, token, photos[i], files[i], timings)
        except BaseException as exc:  # noqa: BLE001 — raised again by the main thread
            errors.append(exc)
        spans.append((started, time.perf_counter()))
        timings["uploader"][k] = spans[-1][1] - started

    threads = [threading.Thread(target=uploader, args=(k,)) for k in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return max(end for _, end in spans) - min(start for start, _ in spans), ids, timings


def check_ready(port: int, token: str, ids: list[str], expected: list[tuple]) -> None:
    for photo_id, (width, height, lat, lon) in zip(ids, expected, strict=True):
        status, _, body = call(port, "GET", f"/api/v1/photos/{photo_id}", headers={"Authorization": f"Bearer {token}"})
        view = json.loads(body)
        assert status == 200 and view["status"] == "ready", (status, body[:500])
        assert (view["width"], view["height"], view["gps_lat"], view["gps_lon"]) == (width, height, lat, lon), view


def proc_mb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, dict.fromkeys(pids, 0), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], proc_mb(pid, "VmRSS"))


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    """utime + stime of each group's processes (all their threads), from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {}
    for name, pids in groups.items():
        totals[name] = 0.0
        for pid in pids:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                totals[name] += (int(fields[11]) + int(fields[12])) / tick
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after}


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return sorted(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto in its own process (no GIL shared with the uploader threads); it ends when our stdin closes."""
    code = ("import sys; from moto.server import ThreadedMotoServer as S; s = S(ip_address='127.0.0.1', port=0, "
            "verbose=False); s.start(); print(s.get_host_and_port()[1], flush=True); sys.stdin.read(); s.stop()")
    proc = subprocess.Popen([str(BIN / "python"), "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                            stderr=subprocess.DEVNULL, text=True)  # werkzeug logs every request to stderr
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def serve(backend: str, work: Path, endpoint: str | None, profile: bool) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "JWT_SECRET_KEY": secrets.token_urlsafe(48), "DEMO_PASSWORD": PASSWORD,
           "DATABASE_URL": f"sqlite:///{work / 'audit.sqlite3'}", "MEDIA_BACKEND": backend,
           "MEDIA_ROOT": str(work / "media")}
    if endpoint:
        env.update(S3_BUCKET="bench-app", S3_ENDPOINT_URL=endpoint, S3_REGION="us-east-1",
                   S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing")  # noqa: S106 — moto's
    for command in (["db", "upgrade"], ["checklists", "sync"], ["demo", "seed"]):
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,  # noqa: S603
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    port, log = free_port(), work / "gunicorn.log"
    args = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--timeout", "60", "--bind", f"127.0.0.1:{port}"]
    if profile:
        (work / "profile_conf.py").write_text(PROFILE_CONF.format(folder=work))
        args += ["-c", str(work / "profile_conf.py")]
    proc = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("w"),  # noqa: S603
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if call(port, "GET", "/api/v1/health")[0] == 200 and len(children(proc.pid)) == WORKERS:
                return proc, port
        except OSError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"gunicorn did not answer /api/v1/health:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()  # gunicorn: graceful; workers run worker_exit (the profile dumps)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_backend(backend: str, photos: list, rounds: int, tmp: Path, profile: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=tmp))
    moto = gunicorn = pool = None
    try:
        endpoint = None
        if backend == "s3":
            import boto3

            moto, endpoint = start_moto()
            s3 = boto3.client("s3", endpoint_url=endpoint, **S3_KEYS)
            for bucket in ("bench-app", "bench-floor"):
                s3.create_bucket(Bucket=bucket)
        pool = multiprocessing.Pool(os.cpu_count(), initializer=pool_init, initargs=(endpoint, "bench-floor"))
        run_floor(pool, photos[:os.cpu_count() or 1])  # warm-up: imports, S3 clients
        gunicorn, port = serve(backend, work, endpoint, profile)
        status, _, body = call(port, "POST", "/api/v1/auth/login", json.dumps(
            {"username": USERNAME, "password": PASSWORD}), {"Content-Type": "application/json"})
        assert status == 200, (status, body[:500])
        token = json.loads(body)["access_token"]
        upload_all(port, token, photos[:UPLOADERS])  # warm-up: lazy imports, S3 clients, SQLite connections
        workers = children(gunicorn.pid)
        sampler = RssSampler(workers)
        sampler.start()
        app_walls, floor_walls = [], []
        pool_pids, moto_pids = [p.pid for p in pool._pool], [moto.pid] if moto else []
        cpu = {"app": {}, "floor": {}}  # CPU seconds of the last round, by process group (not timed, read from /proc)

        def timed_floor():
            before = cpu_seconds({"pool": pool_pids, "moto": moto_pids})
            result = run_floor(pool, photos)
            cpu["floor"] = cpu_delta(before, cpu_seconds({"pool": pool_pids, "moto": moto_pids}))
            return result

        for n in range(1 if profile else rounds):
            if n % 2:  # alternate which goes first
                floor_wall, floor_results = timed_floor()
            before = cpu_seconds({"workers": workers, "moto": moto_pids, "uploaders": [os.getpid()]})
            app_wall, ids, timings = upload_all(port, token, photos)
            cpu["app"] = cpu_delta(before, cpu_seconds({"workers": workers, "moto": moto_pids,
                                                        "uploaders": [os.getpid()]}))
            if not n % 2:
                floor_wall, floor_results = timed_floor()
            app_walls.append(app_wall)
            floor_walls.append(floor_wall)
            check_ready(port, token, ids, [r[1] for r in floor_results])
        sampler.done.set()
        sampler.join()
        hwm = {pid: proc_mb(pid, "VmHWM") for pid in workers}
        stop(gunicorn)  # before reading the profiles: the workers write them as they exit
        return {"backend": backend, "app": app_walls, "floor": floor_walls, "timings": timings, "hwm": hwm,
                "sampled": sampler.peak, "floor_per_photo": [r[0] for r in floor_results],
                "floor_rss": max(r[2] for r in floor_results), "profiles": sorted(work.glob("worker-*.prof")),
                "cpu": cpu}
    finally:
        stop(gunicorn)
        if pool:
            pool.terminate()
            pool.join()
        if moto:
            moto.stdin.close()
            stop(moto)


# --- report ---------------------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    return f"{statistics.mean(values) * 1000:.0f} (p50 {statistics.median(values) * 1000:.0f})" if values else "-"


def report(results: list[dict], photos: list) -> None:
    n, mb = len(photos), sum(p[2] for p in photos) / 1e6
    print(f"\n| backend | photos | MB | app wall s | photos/s | floor wall s | ratio | target | verdict | "
          f"peak RSS per worker MB (<= {RSS_TARGET_MB}) |\n|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        app, floor, target = statistics.median(r["app"]), statistics.median(r["floor"]), TARGETS[r["backend"]]
        peak = max(r["hwm"].values())
        print(f"| {r['backend']} | {n} | {mb:.0f} | {app:.2f} | {n / app:.1f} | {floor:.2f} | {app / floor:.2f}x | "
              f"<= {target}x | {'PASS' if app / floor <= target else 'FAIL'} | "
              f"{' / '.join(map(str, r['hwm'].values()))} {'PASS' if peak <= RSS_TARGET_MB else 'FAIL'} |")
    for r in results:
        t, app_walls, floor_walls = r["timings"], ", ".join(f"{w:.2f}" for w in r["app"]), ", ".join(
            f"{w:.2f}" for w in r["floor"])
        print(f"\n{r['backend']}: app walls {app_walls} s; floor walls {floor_walls} s (medians above)")
        print(f"  per request, mean (p50) ms of the last round: declare {ms(t['declare'])}, {CHUNK // 2**20} MiB chunk "
              f"{ms(t['chunk'])}, last chunk (stage, verify, Pillow, store, row) {ms(t['last'])}; "
              f"floor per photo on one core {ms(r['floor_per_photo'])}")
        print(f"  each uploader's span, last round (uploader k sends photos k, k + {UPLOADERS}, …): "
              f"{', '.join(f'{seconds:.2f}' for seconds in t['uploader'])} s")
        print(f"  worker RSS sampled every 50 ms {r['sampled']} MB, VmHWM {r['hwm']} MB; "
              f"floor pool process peak {r['floor_rss']} MB")
        per_photo = {side: ", ".join(f"{name} {seconds / n * 1000:.0f}" for name, seconds in r["cpu"][side].items())
                     for side in ("app", "floor")}
        print(f"  CPU ms per photo, last round ({os.cpu_count()} cores = {os.cpu_count() * 1000} ms of CPU per wall "
              f"second): app: {per_photo['app']}; floor: {per_photo['floor']}")


# (label, file suffix, function): cumulative time in both workers, per processed photo
BREAKDOWN = [
    ("POST declare (view function)", "api/photos.py", "create_photo"),
    ("PATCH (view function)", "api/photos.py", "upload_chunk"),
    ("auth before each request (its first query opens the transaction)", "audit_api/access.py",
     "enforce_route_policy"),
    ("BEGIN, every transaction (IMMEDIATE for the writes: may wait for the other worker's)",
     "audit_api/extensions.py", "_on_begin"),
    ("read the request body", "werkzeug/wrappers/request.py", "get_data"),
    ("PATCH phase 1: check_receive (reads)", "services/uploads.py", "check_receive"),
    ("PATCH phase 2: stage the chunk (store.stage_chunk)", "audit_api/storage.py", "stage_chunk"),
    ("  record it in the row (note_staged; S3 only)", "services/uploads.py", "note_staged"),
    ("PATCH phase 3 (last chunk): process", "services/uploads.py", "process"),
    ("  open the staged bytes (S3: read earlier chunks back)", "audit_api/storage.py", "open_staged"),
    ("  images.inspect_header", "audit_api/images.py", "inspect_header"),
    ("  images.derivatives", "audit_api/images.py", "derivatives"),
    ("  2nd thread: images.check_decodes (decode to the end)", "audit_api/images.py", "check_decodes"),
    ("  2nd thread: sha256, then the original (_check_and_keep)", "services/uploads.py", "_check_and_keep"),
    ("    store.keep_staged (local: a hard link; S3: the put)", "audit_api/storage.py", "keep_staged"),
    ("  store.put (display and thumb; the original on S3)", "audit_api/storage.py", "put"),
    ("PATCH phase 4 (last chunk): record the Photo row", "services/uploads.py", "record"),
    ("discard staged bytes (after the commit)", "audit_api/storage.py", "discard_staged"),
    ("session commit (all requests)", "sqlalchemy/orm/session.py", "commit"),
    ("fsync (files and folders)", "~", "<built-in method posix.fsync>"),
    ("S3 API calls (botocore)", "botocore/client.py", "_make_api_call"),
]


def print_profile(result: dict) -> None:
    stats = pstats.Stats(*map(str, result["profiles"])).stats  # (file, line, name) -> (cc, calls, tt, ct, callers)
    photos = sum(v[1] for k, v in stats.items() if k[0].endswith("services/uploads.py") and k[2] == "process")
    print(f"\ncProfile in both gunicorn workers (and their second threads), {result['backend']}: {photos} photos "
          f"(warm-up included), wall under the profiler {result['app'][0]:.2f} s, floor {result['floor'][0]:.2f} s. "
          f"Cumulative times: indented rows are parts of the row above; 2nd-thread rows overlap their row's "
          f"other parts.\n\n| where | calls per photo | ms per photo |\n|---|---|---|")
    for label, suffix, name in BREAKDOWN:
        rows = [v for k, v in stats.items() if k[0].endswith(suffix) and k[2] == name]
        if rows:
            print(f"| {label} | {sum(v[1] for v in rows) / photos:.1f} | "
                  f"{sum(v[3] for v in rows) / photos * 1000:.1f} |")
    print("\nOwn time (excluding callees, and waits: gunicorn's for requests, threads' for each other), the 15 "
          "largest, ms per photo:\n")
    idle = ("select", "poll", "accept", "sleep", "acquire", "SimpleQueue")  # gunicorn and threads waiting
    busy = [kv for kv in stats.items() if not any(word in kv[0][2] for word in idle)]
    for (file, line, name), v in sorted(busy, key=lambda kv: -kv[1][2])[:15]:
        print(f"  {v[2] / photos * 1000:7.1f}  {v[1] / photos:6.1f} calls  {name}  {Path(file).name}:{line}")


def record_rows(results: list[dict], photos: list, args: argparse.Namespace) -> None:
    """Each backend's figures in bench/results/photos-<backend>.json, for bench/README.md's table."""
    n, mb = len(photos), sum(p[2] for p in photos) / 1e6
    options = [*(["--photos", args.photos] if args.photos != 24 else []),
               *(["--rounds", args.rounds] if args.rounds != 3 else [])]
    for r in results:
        backend, target = r["backend"], TARGETS[r["backend"]]
        app, floor = statistics.median(r["app"]), statistics.median(r["floor"])
        peak, rerun = max(r["hwm"].values()), rerun_command("photos.py", "--backend", backend, *options)
        store = "S3 store (moto, loopback)" if backend == "s3" else "local media store"
        floor_work = "sha256 + `images.inspect()` + `images.derivatives()`" + (
            " + `put_object` of original, display and thumbnail" if backend == "s3" else "")
        rounds = f"median of {len(r['app'])} round{'s' if len(r['app']) > 1 else ''}"
        record(f"photos-{backend}", [
            Row(benchmark=f"photos, {n} × 12 MP ({mb:.0f} MB), {store}", command=rerun,
                floor=f"`Pool({os.cpu_count()})`: {floor_work} on the same files: **{floor:.2f} s** ({rounds})",
                figure=f"gunicorn sync ×{WORKERS}, {UPLOADERS} uploaders, declare + {CHUNK // 2**20} MiB `PATCH`es: "
                       f"**{app:.2f} s** ({n / app:.1f} photos/s, {rounds})",
                ratio=f"{app / floor:.2f}×", target=f"≤ {target}× floor", verdict=pass_fail(app / floor <= target)),
            Row(benchmark=f"photos, {store}: peak RSS per gunicorn worker", command=rerun,
                floor=f"a floor pool process's peak: {r['floor_rss']} MB",
                figure=f"VmHWM **{' / '.join(map(str, r['hwm'].values()))} MB**",
                ratio=f"{peak / r['floor_rss']:.2f}× floor, {peak / RSS_TARGET_MB:.0%} of the target",
                target=f"≤ {RSS_TARGET_MB} MB per worker", verdict=pass_fail(peak <= RSS_TARGET_MB)),
        ])


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # so the finally blocks stop gunicorn and moto and remove the temporary folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24, help="24–40 for the record (default 24; 2 for a smoke run)")
    parser.add_argument("--rounds", type=int, default=3, help="app + floor rounds; medians count (default 3)")
    parser.add_argument("--backend", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="profile the workers (one round) instead")
    args = parser.parse_args()
    if not 2 <= args.photos <= 40 or not 1 <= args.rounds <= SETTINGS["PHOTOS_PER_INSPECTION"] // args.photos - 1:
        parser.error("--photos must be 2–40, --rounds ≥ 1, (rounds + 1) × photos ≤ PHOTOS_PER_INSPECTION")
    cores = os.cpu_count() or 1
    signal.signal(signal.SIGTERM, interrupted)
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as folder:
        tmp = Path(folder)
        (tmp / "photos").mkdir()
        started = time.perf_counter()
        with multiprocessing.Pool(cores, initializer=pool_init, initargs=(None, "")) as pool:
            photos = pool.map(make_photo, [(n, str(tmp / "photos")) for n in range(args.photos)], chunksize=1)
        sizes = [p[2] / 1e6 for p in photos]
        print(f"bench/photos.py: {len(photos)} photos 4000x3000 q92, {min(sizes):.1f}–{max(sizes):.1f} MB "
              f"({sum(sizes):.0f} MB), made in {time.perf_counter() - started:.1f} s; {cores} cores, load average "
              f"{os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}, Pillow {Image.__version__}; gunicorn sync "
              f"x{WORKERS}, {UPLOADERS} uploaders, {CHUNK // 2**20} MiB chunks; floor Pool({cores})")
        backends = ["local", "s3"] if args.backend == "both" else [args.backend]
        results = [run_backend(backend, photos, args.rounds, tmp, args.profile) for backend in backends]
        report(results, photos)
        if not args.profile:  # walls under the profiler are not figures
            record_rows(results, photos, args)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        for result in results if args.profile else []:
            print_profile(result)
    return 0  # a missed target is reported, not an error (as bench/sync.py): speed is never asserted


if __name__ == "__main__":
    sys.exit(main())
