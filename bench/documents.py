"""Document benchmark: the app's PDF of an inspection's minutes (30 findings, 40 photos) next to the WeasyPrint floor.

    cd /work/main && .venv/bin/python bench/documents.py [--photos 40] [--findings 30] [--reps 7]

Photos: N distinct 4000×3000 JPEGs (q92, gradients plus seeded noise as in bench/photos.py, plus coarse colour
blocks so that the thumbnails keep real-photo-like detail), made once in a temporary folder, then put through
the project's own pipeline, images.derivatives() (display 1600 px, thumbnail 320 px); each thumbnail is put in
the media store (LocalStore, MEDIA_ROOT in the temporary folder) under uploads.keys(photo_id)["thumb"], and the
original deleted: no original is ever stored.
Data: a fresh SQLite database (migrations, sync_checklists, demo seed, as bench/sync.py) in which the demo
Văn Lãng inspection (host district and two communes) gets 40 answers (5 checklist items of each of the 8
sections, values valid for their answer types), N Photo rows (ready, taken_at, GPS, SHA-256 and size of the
original) with PhotoLinks (item, unit, caption), and F manual findings with causes, one recommendation each.
The secretary (thuky) then drafts the minutes with documents.create_minutes() (the snapshot: untimed).
Ours: documents.pdf(document) on the draft, in an app context with a fresh session (the document row loaded
before the clock starts): view_of() (snapshot, unit names and team from the database) → Jinja → HTML →
WeasyPrint with the document fetcher, photo: URLs answered by documents.thumbnail(), which reads the stored
thumbnail from the media store. The store's open() is wrapped: a key under originals/ fails the run; a socket
connect during the render fails it too.
Floor, same run: weasyprint.HTML(string=<the same HTML: print_html(view_of(document)), photo: URLs replaced by
the file:// URLs of the same stored thumbnail files>).write_pdf() with WeasyPrint's default fetcher: the least
any renderer of this document must do.
After one warm-up each, the two alternate for --reps repetitions; p50 counts.
Memory: each side renders once more in a fresh child process (this script with --child): for ours the child
builds the app on the same database and media root and renders the same document with documents.pdf(). Each
reports VmHWM, the kernel's peak resident set of that process, and the VmRSS it had before rendering.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from bench.results import Row, pass_fail, record  # noqa: E402
from bench.results import command as rerun_command  # noqa: E402

TARGET_RATIO, TARGET_PDF_MB, TARGET_PEAK_MB = 1.5, 3.0, 150
PASSWORD = "bench-password-1"  # noqa: S105 — a throwaway database
INSPECTION, SECRETARY = "insp-vanlang-2024", "thuky"
ANSWERS_PER_SECTION = 5
VIETNAM = timezone(timedelta(hours=7))


def make_photo_and_thumbnail(job: tuple[int, str, str, str]) -> tuple[int, str, int]:
    """Photo n as a 12 MP JPEG (3–8 MB), then its thumbnail by images.derivatives(), put in the media store
    under `thumb_key`; the original is deleted. Returns (size, SHA-256) of the original, the thumbnail's size."""
    from audit_api import images
    from audit_api.storage import LocalStore
    from bench.photos import SCENE_SIZE, scene

    n, folder, media_root, thumb_key = job
    (w, h), im = SCENE_SIZE, scene(n)  # the photo bench's scenes
    # Fine noise averages out at 320 px (5–9 kB thumbnails); 10-pixel colour blocks keep detail through the
    # 12.5× reduction, as a real scene's edges do, so thumbnails weigh about 21 kB, like real ones.
    blocks = Image.frombytes("RGB", (w // 10, h // 10), random.Random(100 + n).randbytes(w // 10 * (h // 10) * 3))  # noqa: S311
    im = Image.blend(im, blocks.resize((w, h), Image.Resampling.NEAREST), 0.35)
    original = Path(folder) / f"original-{n:02d}.jpg"
    im.save(original, "JPEG", quality=92)
    with original.open("rb") as stream:
        sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
    _display, thumb = images.derivatives(original)
    LocalStore(media_root).put(thumb_key, thumb.data, content_type="image/jpeg")
    size = original.stat().st_size
    original.unlink()
    return size, sha256, len(thumb.data)


# --- the inspection's data -----------------------------------------------------------------------------------

# (section, finding): distinct findings as an inspection team writes them; {n} takes a figure
FINDINGS = [
    ("A", "Chưa niêm yết công khai {n} thủ tục hành chính mới được công bố tại Bộ phận Một cửa"),
    ("A", "Nội dung niêm yết còn sử dụng mẫu đơn, tờ khai đã hết hiệu lực ở {n} thủ tục hành chính"),
    ("A", "Chưa công khai số điện thoại đường dây nóng, địa chỉ tiếp nhận phản ánh, kiến nghị theo quy định"),
    ("A", "Chưa rà soát, cập nhật kịp thời danh mục thủ tục hành chính trên Trang thông tin điện tử của đơn vị"),
    ("B", "Diện tích Bộ phận Tiếp nhận và Trả kết quả chỉ khoảng {n} m², chưa bảo đảm theo quy định"),
    ("B", "Thiếu máy quét, máy tính phục vụ tổ chức, cá nhân tra cứu thông tin, nộp hồ sơ trực tuyến"),
    ("B", "Chưa bố trí khu vực chờ có ghế ngồi, nước uống cho người dân đến giao dịch"),
    ("B", "Hệ thống camera giám sát tại Bộ phận Một cửa hoạt động không ổn định, không lưu được dữ liệu"),
    ("C", "{n} công chức làm việc tại Bộ phận Một cửa chưa có quyết định cử đến làm việc theo quy định"),
    ("C", "Chưa thực hiện chế độ bồi dưỡng đối với công chức làm việc tại Bộ phận Một cửa"),
    ("C", "Công chức tiếp nhận hồ sơ chưa đeo thẻ công chức, chưa có biển chức danh tại vị trí làm việc"),
    ("C", "{n} công chức cấp xã chưa đạt chuẩn về trình độ chuyên môn theo vị trí việc làm"),
    ("D", "Còn {n} hồ sơ giải quyết quá hạn nhưng chưa có văn bản xin lỗi tổ chức, cá nhân"),
    ("D", "Phiếu kiểm soát quá trình giải quyết hồ sơ chưa ghi đủ thời điểm chuyển giao giữa các bước ở {n} hồ sơ"),
    ("D", "Sổ theo dõi hồ sơ ghi chưa đầy đủ thông tin; nhiều hồ sơ không có chữ ký của người nhận kết quả"),
    ("D", "Yêu cầu người dân nộp thêm bản sao giấy tờ ngoài thành phần hồ sơ theo quy định ở {n} hồ sơ"),
    ("D", "Hồ sơ đất đai chuyển từ cấp xã lên cấp huyện còn chậm so với thời gian quy định ({n} hồ sơ)"),
    ("D", "Chưa thông báo bằng văn bản cho người dân khi hồ sơ cần bổ sung, hoàn thiện"),
    ("E", "Tỷ lệ số hóa hồ sơ, kết quả giải quyết thủ tục hành chính mới đạt {n}%, thấp hơn chỉ tiêu được giao"),
    ("E", "Chưa khai thác, sử dụng lại dữ liệu đã số hóa; vẫn yêu cầu người dân nộp bản giấy"),
    ("E", "Kết quả giải quyết thủ tục hành chính đã số hóa chưa được ký số, chưa có giá trị pháp lý"),
    ("F", "Tỷ lệ hồ sơ trực tuyến toàn trình mới đạt {n}%, chưa đạt chỉ tiêu của tỉnh"),
    ("F", "Tỷ lệ thanh toán trực tuyến phí, lệ phí còn thấp ({n}% số giao dịch)"),
    ("F", "Chưa hướng dẫn người dân tạo tài khoản, nộp hồ sơ trên Cổng Dịch vụ công quốc gia"),
    ("G", "Chưa mở sổ theo dõi việc tiếp nhận, xử lý phản ánh, kiến nghị của tổ chức, cá nhân"),
    ("G", "Chưa tổ chức lấy ý kiến đánh giá mức độ hài lòng của người dân đối với {n} lĩnh vực"),
    ("H", "Chưa ban hành kế hoạch kiểm soát thủ tục hành chính năm 2024"),
    ("H", "Báo cáo tình hình, kết quả kiểm soát thủ tục hành chính quý I, quý II/2024 gửi chậm so với thời hạn"),
    ("H", "Chưa tổ chức tự kiểm tra công tác cải cách hành chính tại {n} đơn vị trực thuộc"),
    ("H", "Công tác tuyên truyền cải cách hành chính còn hình thức; chưa có chuyên mục trên Đài truyền thanh xã"),
]
CAUSES_SUBJECTIVE = ["Người đứng đầu chưa quan tâm chỉ đạo sát sao; công chức chưa theo dõi thường xuyên",
                     "Công chức được giao nhiệm vụ chưa nắm vững quy trình, còn kiêm nhiệm nhiều việc"]
CAUSES_OBJECTIVE = ["Địa bàn rộng, giao thông khó khăn; hạ tầng công nghệ thông tin chưa đồng bộ",
                    "Kinh phí bố trí cho cải cách hành chính còn hạn chế; đường truyền thường xuyên gián đoạn"]
CAPTIONS = ["Bảng niêm yết thủ tục hành chính", "Khu vực tiếp nhận hồ sơ", "Sổ theo dõi hồ sơ",
            "Phiếu kiểm soát quá trình giải quyết hồ sơ", "Máy tính tra cứu dành cho người dân",
            "Hồ sơ lưu tại bộ phận chuyên môn", "Hòm thư góp ý", "Màn hình đánh giá mức độ hài lòng"]


def app_config(db_url: str, media_root: str) -> dict:
    """As bench/sync.py: development mode on a throwaway database and media folder; secrets generated."""
    return {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": db_url, "MEDIA_ROOT": media_root,
            "CHECKLISTS_DIR": str(ROOT / "checklists"), "RATELIMIT_ENABLED": False,
            "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48)}


def build_app(db_url: str, media_root: str):
    """A fresh database: migrations, checklists, demo data (bench/sync.py's build_app)."""
    import flask_migrate

    from audit_api import create_app
    from audit_api.extensions import db
    from audit_api.services.checklists import sync_checklists
    from audit_api.services.demo import seed as seed_demo

    app = create_app(app_config(db_url, media_root))
    with app.app_context():
        flask_migrate.upgrade()
        report = sync_checklists(ROOT / "checklists")
        assert not report.errors, report.errors
        seed_demo(password=PASSWORD)
        db.session.commit()
    return app


def answer_value(item: dict, rng: random.Random):
    """A valid value for the item (bench/sync.py's sample_value, figures varied), normalised by the app."""
    from audit_api.answer_values import InvalidValue, validate
    from bench.sync import sample_value

    value, kind = sample_value(item), item["answer_type"]
    if kind == "count":
        value = rng.randint(0, 60)
    elif kind == "ratio":
        denominator = rng.randint(20, 6000)
        value = {"numerator": rng.randint(denominator * 7 // 10, denominator), "denominator": denominator}
    elif kind == "percent":
        value = rng.randint(60, 100)
    elif kind == "number":
        value = round(rng.uniform(10, 80), 1)
    elif kind == "yes_no_na":
        value = rng.choice(["yes", "yes", "no"])
    try:
        return validate(item, value)
    except InvalidValue:  # a varied figure outside the item's limits: the plain sample value
        return validate(item, sample_value(item))


def fill_inspection(photos: list[tuple[str, int, str]], findings: int) -> dict:
    """Answers, photos (rows and links; thumbnails are already stored), findings with recommendations on the
    demo Văn Lãng inspection; then the secretary's draft minutes. Inside an app context; commits."""
    import sqlalchemy as sa

    from audit_api.extensions import db
    from audit_api.models import Answer, Finding, Inspection, Photo, PhotoLink, Recommendation, User
    from audit_api.models.common import utcnow
    from audit_api.services import documents
    from audit_api.services.demo import demo_id

    rng = random.Random(7)  # noqa: S311  a fixed document, not security
    inspection = db.session.get(Inspection, demo_id(INSPECTION))
    secretary = db.session.scalar(sa.select(User).filter_by(username=SECRETARY))
    units = [inspection.host_unit, *inspection.sub_units]
    slots = []  # (section code, item, unit): 5 of each section, spread over the host and the communes
    for section in inspection.checklist_version.definition["sections"]:
        candidates = [(section["code"], item, unit) for item in section["items"] for unit in units
                      if unit.unit_type in item["applies_to"] and not item.get("visible_if")
                      and item["answer_type"] != "sample"]
        slots += [candidates[i] for i in sorted(rng.sample(range(len(candidates)), ANSWERS_PER_SECTION))]
    for n, (_, item, unit) in enumerate(slots):
        db.session.add(Answer(inspection_id=inspection.id, item_code=item["code"], unit_id=unit.id,
                              value=answer_value(item, rng), note="Đã kiểm tra xác suất hồ sơ lưu." if n % 3 == 0
                              else None, author_id=secretary.id, client_time=utcnow()))
    start = datetime(2024, 6, 24, 8, 0, tzinfo=VIETNAM)
    for i, (photo_id, size, sha256) in enumerate(photos):
        _, item, unit = slots[i * 3 // 2 % len(slots)]  # some results with two photos, some with one or none
        db.session.add(Photo(id=uuid.UUID(photo_id), inspection_id=inspection.id, kind="photo", sha256=sha256,
                             size_bytes=size, content_type="image/jpeg", width=4000, height=3000,
                             taken_at=start + timedelta(minutes=6 * i), gps_lat=21.9446 + i * 0.0007,
                             gps_lon=106.5785 + i * 0.0005, camera_model="Samsung SM-X205", status="ready",
                             uploaded_by=secretary.id, ready_at=utcnow()))
        db.session.add(PhotoLink(photo_id=uuid.UUID(photo_id), inspection_id=inspection.id, item_code=item["code"],
                                 unit_id=unit.id, caption=CAPTIONS[i % len(CAPTIONS)],
                                 updated_by=secretary.id))
    for i in range(findings):
        section, text = FINDINGS[i % len(FINDINGS)]
        unit = units[i % len(units)]
        item_code = next((item["code"] for s, item, u in slots if s == section and u is unit),
                         next(item["code"] for s, item, _ in slots if s == section))
        text = text.format(n=rng.randint(3, 95)) + (f" (lượt {i // len(FINDINGS) + 1})" if i >= len(FINDINGS) else "")
        finding = Finding(id=uuid.uuid4(), inspection_id=inspection.id, unit_id=unit.id, kind="finding",
                          origin="manual", item_code=item_code, section_code=section, text=text,
                          cause_subjective=CAUSES_SUBJECTIVE[i % 2] if i % 2 == 0 else None,
                          cause_objective=CAUSES_OBJECTIVE[i % 2] if i % 3 else None,
                          severity=("minor", "major")[i % 2], status="kept", sort_order=i, created_by=secretary.id)
        db.session.add(finding)
        db.session.add(Recommendation(
            id=uuid.uuid4(), inspection_id=inspection.id, finding=finding, responsible_unit_id=unit.id,
            origin="manual", text=f"Khắc phục tồn tại: {text[0].lower()}{text[1:]}; báo cáo kết quả về Đoàn kiểm tra",
            deadline=date(2024, 8, 1) + timedelta(days=7 * (i % 8)) if i % 3 else None, sort_order=0))
    db.session.flush()
    started = time.perf_counter()
    document = documents.create_minutes(secretary, inspection)
    drafted = time.perf_counter() - started
    db.session.commit()
    return {"document_id": document.id, "answers": len(slots), "create_minutes": drafted}


# --- the two renders ---------------------------------------------------------------------------------------


def guard_store(app) -> list[str]:
    """Wrap the media store's open(): every key opened is recorded, and an original stops the render."""
    store = app.extensions["media_store"]
    opened: list[str] = []
    open_key = store.open

    def guarded_open(key: str):
        opened.append(key)
        if key.startswith("originals/"):
            raise AssertionError(f"the renderer opened an original: {key}")
        return open_key(key)

    store.open = guarded_open
    return opened


@contextlib.contextmanager
def no_network(attempts: list):
    """Any socket connect or name lookup in the block is recorded and refused."""
    saved = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def refuse(*args, **kwargs):
        attempts.append(args[1:2] or args[:1])
        raise AssertionError(f"the renderer tried the network: {attempts[-1]!r}")

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = refuse, refuse, refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved


def fresh_document(document_id: uuid.UUID):
    """The draft as a request loads it: a new session, the document row read (untimed)."""
    from audit_api.extensions import db
    from audit_api.models import Document

    db.session.remove()
    return db.session.get(Document, document_id)


def thumb_path(media_root: Path, photo_id: str) -> Path:
    from audit_api.services.uploads import keys

    return media_root.joinpath(*keys(uuid.UUID(photo_id))["thumb"].split("/"))


def floor_html(view: dict, media_root: Path) -> str:
    """The HTML render_pdf lays out, with each photo: URL replaced by its stored thumbnail's file:// URL."""
    from audit_api.rendering.pdf import print_html

    html = print_html(view)
    for photo in view["photos"]:
        pid = photo["photo_id"]
        html = html.replace(f'src="photo:{pid}"', f'src="{thumb_path(media_root, pid).as_uri()}"')
    assert 'src="photo:' not in html
    return html


def render_floor(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(args: argparse.Namespace) -> None:
    """One render in this fresh process; prints the resident set before rendering and its peak (VmHWM).
    Ours: the app on the run's database and media root, the draft loaded, documents.pdf(). Floor: the HTML."""
    import weasyprint  # noqa: F401  imported before the baseline: every worker has it loaded

    import audit_api.rendering  # noqa: F401

    if args.child == "floor":
        html = (args.folder / "floor.html").read_text()
        baseline = _status_mb("VmRSS")
        pdf = render_floor(html)
        first = _status_mb("VmHWM")
        render_floor(html)
        opened = []
    else:
        from audit_api import create_app
        from audit_api.services import documents

        app = create_app(app_config(args.db_url, str(args.media_root)))
        with app.app_context():
            opened = guard_store(app)
            document = fresh_document(args.document_id)
            baseline = _status_mb("VmRSS")
            with no_network([]):
                pdf = documents.pdf(document)
                first = _status_mb("VmHWM")
                documents.pdf(fresh_document(args.document_id))
    print(json.dumps({"baseline": baseline, "peak": first, "peak_after_second": _status_mb("VmHWM"),
                      "pdf": len(pdf), "opened": len(opened)}))


def measure_child(side: str, args: argparse.Namespace, folder: Path, document_id: uuid.UUID) -> dict:
    command = [sys.executable, __file__, "--child", side, "--folder", str(folder), "--db-url", args.db_url,
               "--media-root", str(args.media_root), "--document-id", str(document_id)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if out.returncode:
        raise RuntimeError(f"the {side} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run -----------------------------------------------------------------------------------------------


def timed(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def make_photos(args: argparse.Namespace, folder: Path) -> list[tuple[str, int, str, int]]:
    """(photo id, original's size, original's SHA-256, thumbnail's size) of each photo; thumbnails stored."""
    from audit_api.services.uploads import keys

    ids = [str(uuid.UUID(int=random.Random(1000 + n).getrandbits(128), version=4)) for n in range(args.photos)]  # noqa: S311
    jobs = [(n, str(folder), str(args.media_root), keys(uuid.UUID(pid))["thumb"]) for n, pid in enumerate(ids)]
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    with multiprocessing.Pool(cores) as pool:
        made = pool.map(make_photo_and_thumbnail, jobs, chunksize=1)
    originals, thumbs = [m[0] / 1e6 for m in made], [m[2] / 1e3 for m in made]
    print(f"bench/documents.py: {len(made)} photos 4000x3000 q92, {min(originals):.1f}–{max(originals):.1f} MB, "
          f"thumbnails by images.derivatives() {min(thumbs):.0f}–{max(thumbs):.0f} kB ({sum(thumbs) / 1e3:.2f} MB) "
          f"stored under thumb/ in the media store, made in {time.perf_counter() - started:.1f} s; {cores} cores, "
          f"load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}")
    return [(pid, *m) for pid, m in zip(ids, made, strict=True)]


def run(args: argparse.Namespace, folder: Path) -> None:
    from pypdf import PdfReader

    args.media_root, args.db_url = folder / "media", f"sqlite:///{folder / 'app.sqlite3'}"
    photos = make_photos(args, folder)

    import weasyprint  # after the pool: the children need not inherit it

    from audit_api.rendering.pdf import print_html
    from audit_api.services import documents
    from audit_api.services.document_content import view_of

    started = time.perf_counter()
    app = build_app(args.db_url, str(args.media_root))
    with app.app_context():
        filled = fill_inspection([(pid, size, sha) for pid, size, sha, _ in photos], args.findings)
        print(f"set-up (migrate, checklists, demo, {filled['answers']} answers, {len(photos)} photos, "
              f"{args.findings} findings, create_minutes {filled['create_minutes'] * 1000:.0f} ms): "
              f"{time.perf_counter() - started:.1f} s")
        document_id = filled["document_id"]
        opened, attempts = guard_store(app), []
        view = view_of(fresh_document(document_id))
        html = floor_html(view, args.media_root)
        (folder / "floor.html").write_text(html)

        def ours() -> tuple[float, bytes]:
            document = fresh_document(document_id)  # untimed: the row as a request has loaded it
            opened.clear()
            with no_network(attempts):
                return timed(documents.pdf, document)

        first_ours, _ = ours()  # warm-up: fonts, caches, lazy imports
        first_floor, _ = timed(render_floor, html)
        ours_times, floor_times, views, templates = [], [], [], []
        for rep in range(args.reps):
            for side in ("ours", "floor") if rep % 2 == 0 else ("floor", "ours"):
                if side == "ours":
                    seconds, ours_pdf = ours()
                    ours_times.append(seconds)
                    opened_last = list(opened)
                else:
                    seconds, floor_pdf = timed(render_floor, html)
                    floor_times.append(seconds)
            views.append(timed(view_of, fresh_document(document_id))[0])
            templates.append(timed(print_html, view)[0])
        assert all(key.startswith("thumb/") for key in opened_last), opened_last
        assert len(set(opened_last)) == len(photos), (len(set(opened_last)), len(photos))
        docx_runs = [timed(documents.docx, fresh_document(document_id)) for _ in range(3)]
    docx_line = (f"for reference, documents.docx() of the same draft: p50 {p50_ms([t for t, _ in docx_runs]):.0f} ms, "
                 f"{len(docx_runs[0][1]) / 1e6:.2f} MB (no target)")
    pages = len(PdfReader(io.BytesIO(ours_pdf)).pages)
    memory = {side: measure_child(side, args, folder, document_id) for side in ("ours", "floor")}
    report(args, view, pages, ours_times, floor_times, views, templates, (first_ours, first_floor), ours_pdf,
           floor_pdf, opened_last, attempts, memory, weasyprint.__version__)
    print(docx_line)
    record_rows(args, view, pages, ours_times, floor_times, ours_pdf, floor_pdf, memory, docx_runs)


def report(args, view, pages, ours, floor, views, templates, firsts, ours_pdf, floor_pdf, opened, attempts, memory,
           version) -> None:
    ratio = statistics.median(ours) / statistics.median(floor)
    size_mb = len(ours_pdf) / 1e6
    peak = memory["ours"]["peak"]
    verdict = {
        "ratio": ratio <= TARGET_RATIO, "size": size_mb <= TARGET_PDF_MB, "peak": peak <= TARGET_PEAK_MB,
    }
    print(f"document: draft minutes of {INSPECTION}, {len(view['findings'])} findings, "
          f"{len(view['recommendations'])} recommendations, {sum(len(s['results']) for s in view['sections'])} "
          f"results, {len(view['photos'])} photos; {pages} pages; WeasyPrint {version}; {args.reps} repetitions, "
          f"alternating, after one warm-up each (first renders: ours {firsts[0]:.2f} s, floor {firsts[1]:.2f} s)")
    print("\n| render | p50 ms | min–max ms | PDF MB | peak RSS MB (before render) | target | verdict |")
    print("|---|---|---|---|---|---|---|")
    print(f"| ours: documents.pdf(draft) | {p50_ms(ours):.0f} | {min(ours) * 1000:.0f}–{max(ours) * 1000:.0f} | "
          f"{size_mb:.2f} | {peak:.0f} ({memory['ours']['baseline']:.0f}) | ≤ {TARGET_RATIO}× floor, "
          f"≤ {TARGET_PDF_MB:.0f} MB, ≤ {TARGET_PEAK_MB} MB | {ratio:.2f}× "
          f"{'PASS' if verdict['ratio'] else 'FAIL'}, size {'PASS' if verdict['size'] else 'FAIL'}, "
          f"memory {'PASS' if verdict['peak'] else 'FAIL'} |")
    print(f"| floor: HTML(string).write_pdf() | {p50_ms(floor):.0f} | {min(floor) * 1000:.0f}–"
          f"{max(floor) * 1000:.0f} | {len(floor_pdf) / 1e6:.2f} | {memory['floor']['peak']:.0f} "
          f"({memory['floor']['baseline']:.0f}) | | |")
    print(f"\nof ours: view_of() p50 {p50_ms(views):.1f} ms, Jinja to HTML (print_html) p50 "
          f"{p50_ms(templates):.1f} ms; "
          f"media store opens in one render: {len(opened)} ({len(set(opened))} thumb/ keys, 0 originals/; in the "
          f"ours child {memory['ours']['opened']} over two renders); network attempts: {len(attempts)}")
    print(f"memory: VmHWM of a fresh process that rendered once, VmRSS before the render in parentheses (ours: app "
          f"built on the run's database, draft loaded; floor: weasyprint and audit_api.rendering imported); after "
          f"a second render: ours {memory['ours']['peak_after_second']:.0f} MB, "
          f"floor {memory['floor']['peak_after_second']:.0f} MB; the render's own share (VmHWM − VmRSS before): "
          + ", ".join(f"{side} {m['peak'] - m['baseline']:.0f} MB" for side, m in memory.items()))
    missed = [name for name, ok in verdict.items() if not ok]
    print(f"\nverdict: {'all targets met' if not missed else 'MISSED: ' + ', '.join(missed)}")


def record_rows(args, view, pages, ours, floor, ours_pdf, floor_pdf, memory, docx_runs) -> None:
    """This run's figures in bench/results/documents.json, for bench/README.md's table."""
    options = [*(["--photos", args.photos] if args.photos != 40 else []),
               *(["--findings", args.findings] if args.findings != 30 else []),
               *(["--reps", args.reps] if args.reps != 7 else [])]
    rerun, ratio = rerun_command("documents.py", *options), statistics.median(ours) / statistics.median(floor)
    size_mb, floor_mb = len(ours_pdf) / 1e6, len(floor_pdf) / 1e6
    mine, theirs = memory["ours"], memory["floor"]
    what = f"minutes with {len(view['findings'])} findings and {len(view['photos'])} photos ({pages} pages)"
    record("documents", [
        Row(benchmark=f"documents, PDF of the {what}", command=rerun,
            floor=f"WeasyPrint `HTML(string).write_pdf()` on the same HTML, thumbnails as `file://` URLs: "
                  f"p50 **{p50_ms(floor):.0f} ms**",
            figure=f"`documents.pdf(draft)` (view from the database, templates, the app's fetcher, thumbnails from "
                   f"the media store), {len(ours)} renders: p50 **{p50_ms(ours):.0f} ms**",
            ratio=f"{ratio:.2f}×", target=f"≤ {TARGET_RATIO}× floor", verdict=pass_fail(ratio <= TARGET_RATIO)),
        Row(benchmark="documents, size of that PDF", command=rerun, floor=f"the floor's PDF: {floor_mb:.2f} MB",
            figure=f"**{size_mb:.2f} MB**", ratio=f"{size_mb / floor_mb:.2f}× floor",
            target=f"≤ {TARGET_PDF_MB:.0f} MB", verdict=pass_fail(size_mb <= TARGET_PDF_MB)),
        Row(benchmark="documents, peak RSS of the process that renders that PDF", command=rerun,
            floor=f"a fresh process rendering the floor: {theirs['peak']:.0f} MB ({theirs['baseline']:.0f} before)",
            figure=f"a fresh app process: **{mine['peak']:.0f} MB** ({mine['baseline']:.0f} before the render)",
            ratio=f"{mine['peak'] / theirs['peak']:.2f}× floor; the render's own share "
                  f"{mine['peak'] - mine['baseline']:.0f} MB against {theirs['peak'] - theirs['baseline']:.0f}",
            target=f"≤ {TARGET_PEAK_MB} MB", verdict=pass_fail(mine["peak"] <= TARGET_PEAK_MB)),
        Row(benchmark="documents, DOCX of the same minutes", command=rerun, floor="none",
            figure=f"`documents.docx(draft)`: p50 {p50_ms([t for t, _ in docx_runs]):.0f} ms, "
                   f"{len(docx_runs[0][1]) / 1e6:.2f} MB",
            ratio="-", target="none (for reference)", verdict="INFO"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--findings", type=int, default=30)
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions of each render (default 7)")
    parser.add_argument("--child", choices=("ours", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--media-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--document-id", type=uuid.UUID, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as folder:
        run(args, Path(folder))
    return 0  # a missed target is reported, not an error (as the other benchmarks): speed is never asserted


if __name__ == "__main__":
    sys.exit(main())
