"""Photo benchmark: 12 MP JPEGs uploaded through the real endpoint under gunicorn, next to the Pillow floor.

    cd /work/main && .venv/bin/python bench/photos.py [--photos 24] [--rounds 3] [--backend local|s3|both]
                                                      [--profile]

Photos: N distinct 4000×3000 JPEGs (q92, 3–8 MB, EXIF Orientation 1/3/6/8, DateTimeOriginal, GPS IFD), made
once into a temporary folder and used by the app and the floor alike.
App: a fresh SQLite database and media folder; `flask db upgrade`, `flask checklists sync`, `flask demo seed`;
`gunicorn --workers 2 --timeout 60 wsgi:app` (APP_ENV=production, generated secrets) on a free loopback port;
sign-in as kiemtra1; two uploader threads each send half the photos (POST /api/v1/photos, then PATCH
/api/v1/photos/<id>/upload in 4 MiB chunks); wall time from the first request to the last response, then
every photo is checked `ready` with the metadata the floor read. RSS of the workers is sampled every 50 ms
from /proc, and their VmHWM (kernel peak) is read at the end. A warm-up upload per uploader comes first.
Floor, same run and same files: multiprocessing.Pool(os.cpu_count()) doing sha256 of the file +
images.inspect() + images.derivatives(); for S3 each pool task also put_objects the original, display and
thumbnail bytes to moto (one boto3 client per pool process, in the pool, alongside the Pillow work).
S3: moto's ThreadedMotoServer in its own process on 127.0.0.1. Rounds alternate app and floor; medians count.
--profile runs one round per backend with cProfile in each gunicorn worker instead, and prints where time goes.
"""

from __future__ import annotations

import argparse
import cProfile  # noqa: F401 — used by the generated gunicorn config
import hashlib
import http.client
import json
import multiprocessing
import os
import pstats
import random
import resource
import secrets
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

SETTINGS = load_settings({"APP_ENV": "development"})  # the defaults the server will also use
CHUNK, MAX_PIXELS = SETTINGS["UPLOAD_CHUNK_MAX_BYTES"], SETTINGS["PHOTO_MAX_PIXELS"]
DISPLAY_PX, THUMB_PX = SETTINGS["PHOTO_DISPLAY_PX"], SETTINGS["PHOTO_THUMB_PX"]
TARGETS = {"local": 1.25, "s3": 1.35}
RSS_TARGET_MB, WORKERS, UPLOADERS = 250, 2, 2
USERNAME, PASSWORD = "kiemtra1", "bench-photos-password-1"  # noqa: S105 — a throwaway database
INSPECTION = str(demo_id("insp-vanlang-2024"))
S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
PROFILE_CONF = """import cProfile, os
def post_fork(server, worker):
    worker.bench_profile = cProfile.Profile(); worker.bench_profile.enable()
def worker_exit(server, worker):
    worker.bench_profile.disable(); worker.bench_profile.dump_stats(f"{folder}/worker-{{os.getpid()}}.prof")
"""


# --- photos -------------------------------------------------------------------------------------------


def make_photo(job: tuple[int, str]) -> tuple[str, str, int]:
    """Photo n: gradients plus seeded noise (coarser on odd n), so q92 lands at 3–8 MB; EXIF and GPS set."""
    n, folder = job
    w, h, grain = 4000, 3000, 1 + n % 2
    rng = random.Random(n)
    noise = Image.frombytes("L", (w // grain, h // grain), rng.randbytes(w // grain * (h // grain)))
    amp = 70 + 12 * (n % 6)
    noise = noise.resize((w, h), Image.Resampling.BILINEAR).point(lambda v: v * amp // 255)
    ramp, disc = Image.linear_gradient("L").resize((w, h)), Image.radial_gradient("L").resize((w, h))
    im = Image.merge("RGB", (ImageChops.add(ramp, noise, offset=-amp // 2), ImageChops.add(disc, noise),
                             ImageChops.blend(ramp.transpose(Image.Transpose.ROTATE_180), noise, 0.4)))
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


def pool_init(endpoint: str | None, bucket: str | None) -> None:
    global _s3
    if endpoint:
        import boto3
        from botocore.config import Config

        config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        _s3 = (boto3.session.Session().client("s3", endpoint_url=endpoint, config=config, **S3_CREDENTIALS), bucket)


def floor_task(path: str) -> tuple[float, tuple, int]:
    """What the server does to a photo once its bytes are in: sha256, inspect, derivatives (+ S3 puts)."""
    started = time.perf_counter()
    data = Path(path).read_bytes()
    hashlib.sha256(data).hexdigest()
    info = images.inspect(Path(path), declared_type="image/jpeg", max_pixels=MAX_PIXELS)
    display, thumb = images.derivatives(Path(path), display_px=DISPLAY_PX, thumb_px=THUMB_PX)
    if _s3:
        client, bucket = _s3
        key = uuid.uuid4().hex
        client.put_object(Bucket=bucket, Key=f"originals/{key}", Body=data, ContentType="image/jpeg")
        client.put_object(Bucket=bucket, Key=f"display/{key}.jpg", Body=display.data, ContentType="image/jpeg")
        client.put_object(Bucket=bucket, Key=f"thumb/{key}.jpg", Body=thumb.data, ContentType="image/jpeg")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return time.perf_counter() - started, (info.width, info.height, info.gps_lat, info.gps_lon), peak_kb


def run_floor(pool, paths: list[str]) -> tuple[float, list]:
    started = time.perf_counter()
    results = pool.map(floor_task, paths, chunksize=1)
    return time.perf_counter() - started, results


# --- the app over HTTP ------------------------------------------------------------------------------------


def call(port: int, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


def upload(port: int, token: str, photo: tuple[str, str, int], timings: dict) -> str:
    path, sha, size = photo
    auth = {"Authorization": f"Bearer {token}"}
    photo_id = str(uuid.uuid4())
    data = memoryview(Path(path).read_bytes())  # the tablet has the file at hand: not timed as server work
    started = time.perf_counter()
    status, _, body = call(port, "POST", "/api/v1/photos", json.dumps({
        "id": photo_id, "inspection_id": INSPECTION, "sha256": sha, "size": size, "content_type": "image/jpeg",
    }), {**auth, "Content-Type": "application/json"})
    assert status == 201, (status, body[:500])
    timings["declare"].append(time.perf_counter() - started)
    for offset in range(0, size, CHUNK):
        chunk = data[offset:offset + CHUNK]
        started = time.perf_counter()
        status, headers, body = call(port, "PATCH", f"/api/v1/photos/{photo_id}/upload", chunk, {
            **auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(chunk)), "Tus-Resumable": "1.0.0"})
        assert status == 204, (status, body[:500])
        assert int(headers["Upload-Offset"]) == offset + len(chunk), headers
        timings["last" if offset + CHUNK >= size else "chunk"].append(time.perf_counter() - started)
    return photo_id


def upload_all(port: int, token: str, photos: list) -> tuple[float, list[str], dict]:
    """UPLOADERS threads, photo i to thread i % UPLOADERS; wall from the first request to the last reply."""
    timings = {"declare": [], "chunk": [], "last": []}
    ids: list[str | None] = [None] * len(photos)
    spans: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(UPLOADERS)

    def uploader(k: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            for i in range(k, len(photos), UPLOADERS):
                ids[i] = upload(port, token, photos[i], timings)
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        spans.append((started, time.perf_counter()))

    threads = [threading.Thread(target=uploader, args=(k,)) for k in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return max(e for _, e in spans) - min(s for s, _ in spans), ids, timings


def check_ready(port: int, token: str, ids: list[str], expected: list[tuple]) -> None:
    for photo_id, (width, height, lat, lon) in zip(ids, expected, strict=True):
        status, _, body = call(port, "GET", f"/api/v1/photos/{photo_id}", headers={"Authorization": f"Bearer {token}"})
        view = json.loads(body)
        assert status == 200 and view["status"] == "ready", (status, body[:500])
        assert (view["width"], view["height"], view["gps_lat"], view["gps_lon"]) == (width, height, lat, lon), view


class RssSampler(threading.Thread):
    """VmRSS of the arbiter's children every 50 ms; VmHWM (the kernel's own peak) on demand."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, dict.fromkeys(pids, 0), threading.Event()

    @staticmethod
    def field(pid: int, name: str) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) // 1024  # kB → MB
        return 0

    def run(self) -> None:
        while not self.done.wait(0.05):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], self.field(pid, "VmRSS"))


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return sorted(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if call(port, "GET", "/api/v1/health")[0] == 200 and len(children(proc.pid)) == WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /api/v1/health in 60 s:\n{log.read_text()[-3000:]}")


def start_moto() -> tuple[subprocess.Popen, str]:
    """moto in its own process, so it does not share a GIL with the uploader threads; ends with our stdin."""
    code = ("import sys; from moto.server import ThreadedMotoServer as S; s = S(ip_address='127.0.0.1', port=0, "
            "verbose=False); s.start(); print(s.get_host_and_port()[1], flush=True); sys.stdin.read(); s.stop()")
    proc = subprocess.Popen([str(BIN / "python"), "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # werkzeug logs every request to stderr
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


def serve(backend: str, work: Path, endpoint: str | None, profile_dir: Path | None) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "JWT_SECRET_KEY": secrets.token_urlsafe(48), "DEMO_PASSWORD": PASSWORD,
           "DATABASE_URL": f"sqlite:///{work / 'audit.sqlite3'}", "MEDIA_BACKEND": backend,
           "MEDIA_ROOT": str(work / "media")}
    if endpoint:
        env.update(S3_BUCKET="bench-app", S3_ENDPOINT_URL=endpoint, S3_REGION="us-east-1",
                   S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing")  # noqa: S106 — moto
    for command in (["db", "upgrade"], ["checklists", "sync"], ["demo", "seed"]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    port, log = free_port(), work / "gunicorn.log"
    args = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--timeout", "60", "--bind", f"127.0.0.1:{port}"]
    if profile_dir:
        (work / "profile_conf.py").write_text(PROFILE_CONF.format(folder=profile_dir))
        args += ["-c", str(work / "profile_conf.py")]
    proc = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_for(port, proc, log)
    return proc, port


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()  # gunicorn: graceful stop, workers run worker_exit (profile dumps)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- one backend ----------------------------------------------------------------------------------------


def run_backend(backend: str, photos: list, pool_factory, rounds: int, tmp: Path, profile: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=tmp))
    moto = gunicorn = pool = None
    try:
        endpoint = None
        if backend == "s3":
            import boto3

            moto, endpoint = start_moto()
            s3 = boto3.client("s3", endpoint_url=endpoint, **S3_CREDENTIALS)
            for bucket in ("bench-app", "bench-floor"):
                s3.create_bucket(Bucket=bucket)
        pool = pool_factory(endpoint, "bench-floor")
        pool.map(floor_task, [p[0] for p in photos[:os.cpu_count() or 1]], chunksize=1)  # warm-up (imports, client)
        profile_dir = work if profile else None
        gunicorn, port = serve(backend, work, endpoint, profile_dir)
        status, _, body = call(port, "POST", "/api/v1/auth/login", json.dumps({"username": USERNAME,
                               "password": PASSWORD}), {"Content-Type": "application/json"})
        assert status == 200, (status, body[:500])
        token = json.loads(body)["access_token"]
        upload_all(port, token, photos[:UPLOADERS])  # warm-up: one photo per uploader (lazy imports, S3 client)
        workers = children(gunicorn.pid)
        sampler = RssSampler(workers)
        sampler.start()
        app_walls, floor_walls, timings, floor_results = [], [], {}, []
        for n in range(1 if profile else rounds):
            if n % 2:  # alternate which goes first, so neither always follows the other's page cache and heat
                floor_wall, floor_results = run_floor(pool, [p[0] for p in photos])
            wall, ids, timings = upload_all(port, token, photos)
            if not n % 2:
                floor_wall, floor_results = run_floor(pool, [p[0] for p in photos])
            app_walls.append(wall)
            floor_walls.append(floor_wall)
            check_ready(port, token, ids, [r[1] for r in floor_results])
        sampler.done.set()
        sampler.join()
        hwm = {pid: RssSampler.field(pid, "VmHWM") for pid in workers}
        stop(gunicorn)
        return {"backend": backend, "app": app_walls, "floor": floor_walls, "timings": timings,
                "floor_per_photo": [r[0] for r in floor_results], "floor_rss": max(r[2] for r in floor_results) // 1024,
                "rss_sampled": sampler.peak, "rss_hwm": hwm, "profiles": sorted(work.glob("worker-*.prof"))}
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
    return f"{statistics.median(values) * 1000:.0f}" if values else "-"


def report(results: list[dict], photos: list, rounds: int) -> bool:
    n, mb = len(photos), sum(p[2] for p in photos) / 1e6
    print(f"\n| backend | photos | MB | app wall s | photos/s | floor wall s | ratio | target | verdict | "
          f"peak RSS per worker MB (target <= {RSS_TARGET_MB}) |\n|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for r in results:
        app, floor = statistics.median(r["app"]), statistics.median(r["floor"])
        ratio, target = app / floor, TARGETS[r["backend"]]
        peak = max(r["rss_hwm"].values())
        passed = ratio <= target and peak <= RSS_TARGET_MB
        ok &= passed
        print(f"| {r['backend']} | {n} | {mb:.0f} | {app:.2f} | {n / app:.1f} | {floor:.2f} | {ratio:.2f}x | "
              f"<= {target}x | {'PASS' if ratio <= target else 'FAIL'} | "
              f"{' / '.join(str(v) for v in r['rss_hwm'].values())} ({'PASS' if peak <= RSS_TARGET_MB else 'FAIL'}) |")
    for r in results:
        t = r["timings"]
        print(f"\n{r['backend']}: app walls {', '.join(f'{w:.2f}' for w in r['app'])} s; floor walls "
              f"{', '.join(f'{w:.2f}' for w in r['floor'])} s ({rounds if len(r['app']) > 1 else 1} rounds, medians above)")
        print(f"  per request, median (last round): declare {ms(t['declare'])} ms, 4 MiB chunk {ms(t['chunk'])} ms, "
              f"last chunk (stage + verify + Pillow + store + row) {ms(t['last'])} ms; floor per photo, one core: "
              f"{ms(r['floor_per_photo'])} ms")
        print(f"  worker RSS sampled every 50 ms: {r['rss_sampled']} MB; VmHWM {r['rss_hwm']} MB; "
              f"floor pool process peak {r['floor_rss']} MB")
    return ok


def print_profile(result: dict) -> None:
    stats = pstats.Stats(*map(str, result["profiles"]))
    print(f"\ncProfile of both gunicorn workers ({result['backend']}, warm-up + 1 round under the profiler: "
          f"app wall {result['app'][0]:.2f} s, floor {result['floor'][0]:.2f} s):")
    stats.sort_stats("cumulative").print_stats(r"audit_api|sqlite3|fsync|PIL/Image\.py:.*(save|resize|load)|botocore"
                                               r".*(_make_api_call|_send)|gunicorn/workers", 40)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=24, help="24–40 (default 24)")
    parser.add_argument("--rounds", type=int, default=3, help="app + floor rounds; medians count (default 3)")
    parser.add_argument("--backend", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="profile the workers instead of measuring")
    args = parser.parse_args()
    if not 2 <= args.photos <= 40 or (args.rounds + 1) * args.photos > SETTINGS["PHOTOS_PER_INSPECTION"]:
        parser.error("--photos must be 2–40 and rounds × photos within PHOTOS_PER_INSPECTION")
    cores = os.cpu_count() or 1
    backends = ["local", "s3"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as folder:
        tmp = Path(folder)
        (tmp / "photos").mkdir()
        started = time.perf_counter()
        with multiprocessing.Pool(cores) as pool:
            photos = pool.map(make_photo, [(n, str(tmp / "photos")) for n in range(args.photos)], chunksize=1)
        sizes = [p[2] / 1e6 for p in photos]
        print(f"bench/photos.py: {args.photos} photos 4000x3000 q92, {min(sizes):.1f}–{max(sizes):.1f} MB "
              f"({sum(sizes):.0f} MB), made in {time.perf_counter() - started:.1f} s; {cores} cores, "
              f"Python {sys.version.split()[0]}, Pillow {Image.__version__}; gunicorn sync x{WORKERS}, "
              f"{UPLOADERS} uploaders, chunks of {CHUNK // 2**20} MiB; floor Pool({cores})")

        def pool_factory(endpoint, bucket):
            return multiprocessing.Pool(cores, initializer=pool_init, initargs=(endpoint, bucket))

        results = [run_backend(b, photos, pool_factory, args.rounds, tmp, args.profile) for b in backends]
        ok = report(results, photos, args.rounds)
        if args.profile:
            for result in results:
                print_profile(result)
            return 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
