"""Photo uploads through the API: declare, resume, verify, process, read — with the local media store."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from audit_api.extensions import db
from audit_api.models import Photo, PhotoLink, Upload
from audit_api.services import uploads
from audit_api.services.demo import demo_id
from audit_api.storage import S3Store

VAN_LANG = demo_id("insp-vanlang-2024")
OFFSET_TYPE = "application/offset+octet-stream"


def jpeg(width: int = 1200, height: int = 900) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    for x in range(0, width, 40):
        image.paste((220, 40, 40), (x, 0, x + 20, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def photo_bytes() -> bytes:
    return jpeg()


@pytest.fixture
def send(client, headers_for):
    headers = headers_for("kiemtra2")

    def declare(data: bytes, *, photo_id=None, sha256=None, content_type="image/jpeg", **extra):
        body = {"id": str(photo_id or uuid.uuid4()), "inspection_id": str(VAN_LANG),
                "sha256": sha256 or hashlib.sha256(data).hexdigest(), "size": len(data),
                "content_type": content_type, **extra}
        return client.post("/api/v1/photos", headers=headers, json=body)

    def patch(url: str, chunk: bytes, offset: int, content_type: str = OFFSET_TYPE):
        return client.patch(url, data=chunk, headers={**headers, "Upload-Offset": str(offset),
                                                      "Content-Type": content_type})

    def head(url: str):
        return client.head(url, headers=headers)

    def get(url: str, who: str = "kiemtra2"):
        return client.get(url, headers=headers if who == "kiemtra2" else headers_for(who))

    return type("Send", (), {"declare": staticmethod(declare), "patch": staticmethod(patch),
                             "head": staticmethod(head), "get": staticmethod(get)})


def test_an_upload_cut_at_half_resumes_from_the_stored_offset(send, photo_bytes, app):
    created = send.declare(photo_bytes, item_code="D7", caption="Sổ theo dõi hồ sơ tại Bộ phận Một cửa")
    assert created.status_code == 201 and created.headers["Tus-Resumable"] == "1.0.0"
    url, half = created.headers["Location"], len(photo_bytes) // 2
    assert send.patch(url, photo_bytes[:half], 0).headers["Upload-Offset"] == str(half)
    resumed_at = int(send.head(url).headers["Upload-Offset"])  # after the "dropped connection"
    assert resumed_at == half
    done = send.patch(url, photo_bytes[resumed_at:], resumed_at)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(photo_bytes))
    photo_id = uuid.UUID(created.get_json()["id"])
    info = send.get(f"/api/v1/photos/{photo_id}").get_json()
    assert info["status"] == "ready" and (info["width"], info["height"]) == (1200, 900)
    original = send.get(info["urls"]["original"])
    assert hashlib.sha256(original.data).hexdigest() == hashlib.sha256(photo_bytes).hexdigest()
    thumb = Image.open(io.BytesIO(send.get(info["urls"]["thumb"]).data))
    assert max(thumb.size) == 320 and not thumb.getexif()
    link = db.session.get(PhotoLink, photo_id)
    assert link.caption == "Sổ theo dõi hồ sơ tại Bộ phận Một cửa" and link.item_code == "D7"
    assert info["caption"] == link.caption and db.session.get(Photo, photo_id).sha256 == info["sha256"]


def test_declaring_again_returns_the_upload_and_its_offset(send, photo_bytes):
    photo_id = uuid.uuid4()
    url = send.declare(photo_bytes, photo_id=photo_id).headers["Location"]
    send.patch(url, photo_bytes[:1000], 0)
    again = send.declare(photo_bytes, photo_id=photo_id)
    assert again.status_code == 201 and again.get_json()["offset"] == 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Upload).filter_by(id=photo_id)) == 1


def test_the_same_id_with_different_bytes_is_409(send, photo_bytes):
    photo_id = uuid.uuid4()
    send.declare(photo_bytes, photo_id=photo_id)
    other = jpeg(800, 600)
    response = send.declare(other, photo_id=photo_id)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"


def test_a_checksum_mismatch_is_422_and_nothing_is_kept(send, photo_bytes, app):
    created = send.declare(photo_bytes, sha256=hashlib.sha256(b"something else").hexdigest())
    response = send.patch(created.headers["Location"], photo_bytes, 0)
    assert response.status_code == 422 and "SHA-256" in response.get_json()["detail"]
    photo_id = uuid.UUID(created.get_json()["id"])
    info = send.get(f"/api/v1/photos/{photo_id}").get_json()
    assert info["status"] == "rejected" and info["reject_reason"]
    store = app.extensions["media_store"]
    assert store.staged_size(str(photo_id)) == 0
    assert not any(store.exists(key) for key in uploads.keys(photo_id).values())
    assert db.session.get(Photo, photo_id) is None


def test_a_wrong_offset_is_409_with_the_right_one(send, photo_bytes):
    url = send.declare(photo_bytes).headers["Location"]
    send.patch(url, photo_bytes[:500], 0)
    response = send.patch(url, photo_bytes[700:900], 700)
    assert response.status_code == 409 and response.headers["Upload-Offset"] == "500"
    assert response.get_json()["expected_offset"] == 500


def test_a_text_file_named_jpg_is_refused_with_a_problem_and_nothing_is_kept(backend, send):
    text = "Không phải ảnh".encode() * 50
    created = send.declare(text)
    response = send.patch(created.headers["Location"], text, 0)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    photo_id = uuid.UUID(created.get_json()["id"])  # the original, stored while Pillow looked, is gone again
    assert not any(backend.exists(key) for key in uploads.keys(photo_id).values())
    assert backend.staged_size(str(photo_id)) == 0


def test_limits_are_refused_early_and_told_to_clients(send, app, client, headers_for):
    limits = client.get("/api/v1/config/limits", headers=headers_for("kiemtra2")).get_json()
    assert limits["photo_max_bytes"] == app.config["PHOTO_MAX_BYTES"] and "image/jpeg" in limits["photo_types"]
    huge = send.declare(b"x", size=app.config["PHOTO_MAX_BYTES"] + 1)
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert send.declare(b"x", content_type="image/gif").status_code == 422


def test_a_chunk_must_be_sent_as_offset_octet_stream(send, photo_bytes):
    url = send.declare(photo_bytes).headers["Location"]
    assert send.patch(url, photo_bytes[:100], 0, content_type="image/jpeg").status_code == 415


def test_another_team_gets_404_for_the_photo_and_its_image(send, photo_bytes):
    created = send.declare(photo_bytes)
    send.patch(created.headers["Location"], photo_bytes, 0)
    photo_id = created.get_json()["id"]
    assert send.get(f"/api/v1/photos/{photo_id}", who="kiemtra-tng").status_code == 404
    assert send.get(f"/api/v1/photos/{photo_id}/original", who="kiemtra-tng").status_code == 404


def test_media_sweep_removes_an_interrupted_upload_and_an_orphan_but_never_a_referenced_photo(send, photo_bytes,
                                                                                             app, runner):
    from datetime import timedelta

    from audit_api.services.media import sweep

    store = app.extensions["media_store"]
    finished = send.declare(photo_bytes)
    send.patch(finished.headers["Location"], photo_bytes, 0)
    kept = uuid.UUID(finished.get_json()["id"])
    interrupted = send.declare(photo_bytes)
    send.patch(interrupted.headers["Location"], photo_bytes[:2000], 0)
    cut = uuid.UUID(interrupted.get_json()["id"])
    orphan = uploads.keys(uuid.uuid4())["original"]
    store.put(orphan, b"bytes whose row never committed", content_type="image/jpeg")

    recent = runner.invoke(args=["media", "sweep"])  # default grace: 48 h, all of this is minutes old
    assert recent.exit_code == 0 and "0 lượt tải lên bỏ dở, 0 tệp không tham chiếu" in recent.output

    dry = sweep(grace=timedelta(0), apply=False)
    assert str(cut) in dry.interrupted and orphan in dry.orphans
    assert store.staged_size(str(cut)) == 2000 and store.exists(orphan)  # a dry run deletes nothing
    done = sweep(grace=timedelta(0), apply=True)
    db.session.commit()
    # (other tests' photos whose rows were rolled back are real orphans too)
    assert orphan in done.orphans and str(cut) in done.interrupted
    assert not any(str(kept.hex) in key for key in done.orphans)
    assert store.staged_size(str(cut)) == 0 and not store.exists(orphan)
    assert all(store.exists(key) for key in uploads.keys(kept).values())  # referenced: untouched
    assert send.get(f"/api/v1/photos/{cut}").get_json()["status"] == "rejected"
    restarted = send.declare(photo_bytes, photo_id=cut)  # the tablet starts that photo again
    assert restarted.get_json()["status"] == "uploading" and restarted.get_json()["offset"] == 0



def _photo_mutation(kind: str, payload: dict, base=None) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "inspection_id": str(VAN_LANG), "base_version": base,
            "payload": payload}


def test_a_photo_attached_offline_before_its_upload_ends_linked_in_any_order(send, photo_bytes, client,
                                                                             headers_for):
    headers = headers_for("kiemtra2")
    photo_id = str(uuid.uuid4())
    attach = _photo_mutation("photo.attach", {"photo_id": photo_id, "item_code": "D7"})
    caption = _photo_mutation("photo.caption", {"photo_id": photo_id, "caption": "Sổ theo dõi hồ sơ"}, base=1)
    results = client.post("/api/v1/sync", headers=headers,
                          json={"device_id": "t", "mutations": [attach, caption]}).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]  # the bytes have not even been declared
    created = send.declare(photo_bytes, photo_id=photo_id, caption="chú thích khi khai báo")
    send.patch(created.headers["Location"], photo_bytes, 0)
    info = send.get(f"/api/v1/photos/{photo_id}").get_json()
    assert (info["status"], info["item_code"], info["caption"]) == ("ready", "D7", "Sổ theo dõi hồ sơ")
    bundle = client.get(f"/api/v1/inspections/{VAN_LANG}/bundle", headers=headers).get_json()
    listed = next(p for p in bundle["photos"] if p["id"] == photo_id)
    assert listed["status"] == "ready" and listed["version"] == 2


def test_photo_link_edits_conflict_on_a_stale_version(client, headers_for):
    headers = headers_for("kiemtra2")
    photo_id = str(uuid.uuid4())
    first = _photo_mutation("photo.caption", {"photo_id": photo_id, "caption": "Một"})
    client.post("/api/v1/sync", headers=headers, json={"device_id": "a", "mutations": [first]})
    stale = _photo_mutation("photo.caption", {"photo_id": photo_id, "caption": "Hai"})  # also made offline
    result = client.post("/api/v1/sync", headers=headers_for("kiemtra1"),
                         json={"device_id": "b", "mutations": [stale]}).get_json()["results"][0]
    assert result["status"] == "conflict" and result["current"]["caption"] == "Một"
    detach = _photo_mutation("photo.detach", {"photo_id": photo_id}, base=1)
    assert client.post("/api/v1/sync", headers=headers, json={"device_id": "a", "mutations": [detach]}) \
        .get_json()["results"][0]["version"] == 2


def test_attaching_to_a_finding_of_another_inspection_is_rejected(client, headers_for):
    result = client.post("/api/v1/sync", headers=headers_for("kiemtra2"), json={"device_id": "a", "mutations": [
        _photo_mutation("photo.attach", {"photo_id": str(uuid.uuid4()), "finding_id": str(uuid.uuid4())})]})
    assert result.get_json()["results"][0]["problem"]["status"] == 404


@pytest.fixture
def on_s3(app, s3_store):
    """The app's media store swapped for S3 on moto (loopback) for one test."""
    local = app.extensions["media_store"]
    app.extensions["media_store"] = s3_store
    yield s3_store
    app.extensions["media_store"] = local


def test_on_s3_an_image_is_a_short_lived_presigned_redirect_given_only_after_the_access_check(on_s3, send,
                                                                                             photo_bytes):
    import urllib.parse
    import urllib.request

    created = send.declare(photo_bytes)
    url, half = created.headers["Location"], len(photo_bytes) // 2
    send.patch(url, photo_bytes[:half], 0)
    assert on_s3.staged_size(created.get_json()["id"]) == half  # chunks are staged in the bucket too
    assert send.patch(url, photo_bytes[half:], half).status_code == 204
    photo_id = uuid.UUID(created.get_json()["id"])
    assert all(on_s3.exists(key) for key in uploads.keys(photo_id).values())

    outsider = send.get(f"/api/v1/photos/{photo_id}/original", who="kiemtra-tng")
    assert outsider.status_code == 404 and "Location" not in outsider.headers
    response = send.get(f"/api/v1/photos/{photo_id}/original")
    assert response.status_code == 302
    query = urllib.parse.parse_qs(urllib.parse.urlparse(response.headers["Location"]).query)
    assert 0 < int(query["X-Amz-Expires"][0]) <= 900  # SigV4 presigned, at most 15 minutes
    with urllib.request.urlopen(response.headers["Location"], timeout=10) as fetched:  # noqa: S310 — loopback moto
        assert fetched.read() == photo_bytes


@pytest.mark.no_db_transaction
@pytest.mark.skipif(bool(__import__("os").environ.get("TEST_DATABASE_URL")), reason="SQLite's database-wide lock")
def test_processing_a_photo_holds_no_sqlite_write_lock(tmp_path, monkeypatch, photo_bytes):
    """While one worker hashes and resizes a photo, other workers' writes must not wait for it."""
    import sqlite3

    import flask_migrate

    from audit_api import create_app
    from audit_api.services.checklists import sync_checklists
    from audit_api.services.demo import seed
    from tests.support import CHECKLISTS_DIR

    path = tmp_path / "lock.sqlite3"
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "MEDIA_ROOT": str(tmp_path / "media"), "CHECKLISTS_DIR": str(CHECKLISTS_DIR)})
    with app.app_context():
        flask_migrate.upgrade()
        sync_checklists(CHECKLISTS_DIR)
        seed(password="mat-khau-thu")
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "kiemtra2", "password": "mat-khau-thu"}) \
        .get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[bool] = []
    real_process = uploads.process

    def process_and_probe(job, *args, **kwargs):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if this request still held the write lock
            other.execute("ROLLBACK")
            seen.append(True)
        finally:
            other.close()
        return real_process(job, *args, **kwargs)

    monkeypatch.setattr(uploads, "process", process_and_probe)
    created = client.post("/api/v1/photos", headers=headers, json={
        "id": str(uuid.uuid4()), "inspection_id": str(VAN_LANG), "size": len(photo_bytes),
        "sha256": hashlib.sha256(photo_bytes).hexdigest(), "content_type": "image/jpeg"})
    response = client.patch(created.headers["Location"], data=photo_bytes,
                            headers={**headers, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE})
    assert response.status_code == 204 and seen == [True]
    assert client.get(f"/api/v1/photos/{created.get_json()['id']}", headers=headers).get_json()["status"] == "ready"


def test_a_photo_whose_processing_failed_is_finished_by_an_empty_patch_at_its_full_offset(backend, send, photo_bytes,
                                                                                         monkeypatch):
    """Every byte arrived but storing the derivatives failed (S3 down): nothing is sent again; an empty PATCH
    at Upload-Offset = size runs the check and the processing once more. (On S3 the last chunk is processed
    from memory; it is staged when the processing fails.)"""
    real_process = uploads.process

    def storage_down(job, *args, **kwargs):
        raise ConnectionError("media store unreachable")

    created = send.declare(photo_bytes)
    url, photo_id = created.headers["Location"], created.get_json()["id"]
    monkeypatch.setattr(uploads, "process", storage_down)
    with pytest.raises(ConnectionError):  # in production: a 500 problem with a request id
        send.patch(url, photo_bytes, 0)
    assert send.head(url).headers["Upload-Offset"] == str(len(photo_bytes))  # the bytes are safe
    assert backend.staged_size(photo_id) == len(photo_bytes) and _recorded_right(backend, photo_id)
    view = send.get(f"/api/v1/photos/{photo_id}").get_json()
    assert view["status"] == "uploading" and view["offset"] == len(photo_bytes)
    monkeypatch.setattr(uploads, "process", real_process)
    finished = send.patch(url, b"", len(photo_bytes))
    assert finished.status_code == 204 and finished.headers["Upload-Offset"] == str(len(photo_bytes))
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["status"] == "ready"


@pytest.fixture(params=["local", "s3"])
def backend(request, app):
    """The app's media store for one test: the local one, or S3 on moto (loopback)."""
    local = app.extensions["media_store"]
    if request.param == "s3":
        app.extensions["media_store"] = request.getfixturevalue("s3_store")
    yield app.extensions["media_store"]
    app.extensions["media_store"] = local


def _row_staging(photo_id) -> tuple[int, list[int]]:
    query = sa.select(Upload.staged_offset, Upload.staged_parts).filter_by(id=uuid.UUID(str(photo_id)))
    return tuple(db.session.execute(query).one())


def _recorded_right(backend, photo_id) -> bool:
    """S3: the row records what is staged, as the store would say. Local: the row is not written per chunk
    (the store answers with an fstat), so it still says nothing."""
    if isinstance(backend, S3Store):
        staged = backend.staged(photo_id)
        return _row_staging(photo_id) == (staged.size, list(staged.starts))
    return _row_staging(photo_id) == (0, [])


def test_after_a_crash_between_staging_and_the_row_the_upload_resumes_and_the_row_catches_up(backend, send,
                                                                                             photo_bytes):
    """A chunk reached the store but the worker died before the row recorded it: HEAD asks the store; a PATCH
    at the row's offset is a 409 naming the store's; the row catches up; the upload finishes whole."""
    created = send.declare(photo_bytes)
    url, photo_id = created.headers["Location"], created.get_json()["id"]
    third = len(photo_bytes) // 3
    assert send.patch(url, photo_bytes[:third], 0).headers["Upload-Offset"] == str(third)
    assert _recorded_right(backend, photo_id)
    backend.append(photo_id, third, photo_bytes[third:2 * third])  # staged; the row never heard of it

    behind = isinstance(backend, S3Store)  # the view answers from the row there, from the store locally
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["offset"] == (third if behind else 2 * third)
    assert send.head(url).headers["Upload-Offset"] == str(2 * third)  # the store
    retried = send.patch(url, photo_bytes[third:2 * third], third)  # the tablet resends from the row's offset
    assert retried.status_code == 409 and retried.headers["Upload-Offset"] == str(2 * third)
    assert _recorded_right(backend, photo_id)  # caught up
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["offset"] == 2 * third

    done = send.patch(url, photo_bytes[2 * third:], 2 * third)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(photo_bytes))
    info = send.get(f"/api/v1/photos/{photo_id}").get_json()
    assert info["status"] == "ready" and info["offset"] == len(photo_bytes)
    with backend.open(uploads.keys(uuid.UUID(photo_id))["original"]) as original:
        assert original.read() == photo_bytes
    assert backend.staged_size(photo_id) == 0 and photo_id not in {s.key for s in backend.list_staged()}


def test_a_retried_chunk_is_a_409_and_the_staged_state_stays_right(backend, send, photo_bytes):
    created = send.declare(photo_bytes)
    url, photo_id = created.headers["Location"], created.get_json()["id"]
    half = len(photo_bytes) // 2
    assert send.patch(url, photo_bytes[:half], 0).status_code == 204
    again = send.patch(url, photo_bytes[:half], 0)  # the reply was lost; the tablet sends the chunk again
    assert again.status_code == 409 and again.headers["Upload-Offset"] == str(half)
    assert again.get_json()["expected_offset"] == half
    assert _recorded_right(backend, photo_id) and backend.staged(photo_id).size == half
    if isinstance(backend, S3Store):
        assert _row_staging(photo_id) == (half, [0])  # where each chunk object starts
    assert send.head(url).headers["Upload-Offset"] == str(half)
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["offset"] == half
    assert send.patch(url, photo_bytes[half:], half).status_code == 204
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["status"] == "ready"
    assert send.patch(url, photo_bytes[half:], half).status_code == 409  # finished: nothing more is taken
    assert backend.staged_size(photo_id) == 0 and _row_staging(photo_id)[0] == len(photo_bytes)


def test_on_s3_a_photo_costs_its_three_objects_plus_a_put_a_read_back_and_a_delete_per_earlier_chunk(
        on_s3, send, photo_bytes, monkeypatch):
    """No listing on the way (the row knows what is staged); the last chunk is processed from memory, never
    staged, read back or deleted; the original is stored while Pillow works."""
    calls: list[str] = []
    real = on_s3.client._make_api_call
    monkeypatch.setattr(on_s3.client, "_make_api_call",
                        lambda name, params: calls.append(name) or real(name, params))
    created = send.declare(photo_bytes)
    url, half = created.headers["Location"], len(photo_bytes) // 2
    assert calls == []
    send.patch(url, photo_bytes[:half], 0)
    assert calls == ["PutObject"]
    assert send.patch(url, photo_bytes[half:], half).status_code == 204
    assert calls[:2] == ["PutObject", "GetObject"] and calls[-1] == "DeleteObjects"
    assert sorted(calls[2:-1]) == ["PutObject"] * 3  # original, display, thumb
    photo_id = created.get_json()["id"]
    assert on_s3.staged(photo_id).size == 0
    with on_s3.open(uploads.keys(uuid.UUID(photo_id))["original"]) as original:
        assert original.read() == photo_bytes


def test_a_cut_off_photo_is_refused_even_when_another_library_made_pillow_lenient(send, photo_bytes,
                                                                                  monkeypatch):
    """Importing WeasyPrint sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES for the whole process; the photo check
    decodes strictly anyway, and leaves the setting as it found it."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    cut = photo_bytes[: len(photo_bytes) * 6 // 10]
    response = send.patch(send.declare(cut).headers["Location"], cut, 0)
    assert response.status_code == 422 and "truncated" in response.get_json()["detail"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_a_photo_is_ready_even_if_its_staged_bytes_cannot_be_discarded(send, photo_bytes, app, monkeypatch):
    """The staged bytes go after the Photo row is committed; failing to remove them leaves them behind (for
    space, not evidence), and the client still gets its 204."""
    store = app.extensions["media_store"]
    created = send.declare(photo_bytes)
    url, photo_id = created.headers["Location"], created.get_json()["id"]
    monkeypatch.setattr(store, "discard_staged", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("busy")))
    assert send.patch(url, photo_bytes, 0).status_code == 204
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["status"] == "ready"
    monkeypatch.undo()
    assert store.staged_size(photo_id) == len(photo_bytes)  # left behind
    store.discard_staged(photo_id)


def test_media_sweep_removes_staged_chunks_a_finished_upload_left_behind(send, photo_bytes, app):
    """The clean-up of staged chunks runs after the commit; if it failed, the sweep finishes it."""
    from datetime import timedelta

    from audit_api.services.media import sweep

    store = app.extensions["media_store"]
    finished = send.declare(photo_bytes)
    send.patch(finished.headers["Location"], photo_bytes, 0)
    photo_id = finished.get_json()["id"]
    store.stage_chunk(photo_id, 0, b"left behind by a failed clean-up")
    assert store.staged_size(photo_id) > 0
    done = sweep(grace=timedelta(0), apply=True)
    assert f"staged:{photo_id}" in done.orphans and photo_id not in done.interrupted
    assert store.staged_size(photo_id) == 0
    assert send.get(f"/api/v1/photos/{photo_id}").get_json()["status"] == "ready"
