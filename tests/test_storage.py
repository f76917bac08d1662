"""The media store contract, run against both backends: LocalStore on a temporary folder and S3Store against
moto's S3 server (ThreadedMotoServer on 127.0.0.1, a free port, started and stopped by this module).
"""

from __future__ import annotations

import io
import os
import stat
import threading
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit_api.config import ConfigError, load_settings
from audit_api.storage import (
    LocalStore,
    MediaStore,
    ObjectExists,
    OffsetMismatch,
    S3Store,
    Staged,
    StoredObject,
    content_disposition,
    independent_reader,
    make_store,
    reopen,
)

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing"}
MB = 1024 * 1024


class Boom(RuntimeError):
    """A connection cut in the middle of a body."""


class FailingStream(io.RawIOBase):
    """Yields `good` bytes, then raises: the client's connection dropped mid-upload."""

    def __init__(self, good: bytes, *, on_midway=None):
        self.data = io.BytesIO(good)
        self.on_midway = on_midway

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self.data.read(min(size, 64 * 1024) if size and size > 0 else 64 * 1024)
        if block:
            return block
        if self.on_midway is not None:
            self.on_midway()
        raise Boom("connection reset")


def payload(size: int, seed: int = 0) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[seed % 256:][:size] if size else b""


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> MediaStore:
    if request.param == "local":
        return LocalStore(tmp_path / "media")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("bucket")
    return S3Store(bucket=bucket, endpoint_url=endpoint, **CREDENTIALS)


def leftovers(store: MediaStore) -> list[str]:
    """Anything a failed put could have left behind: temporary files, or unfinished multipart uploads."""
    if isinstance(store, LocalStore):
        return [str(p) for p in store.root.rglob("*") if p.name.endswith(".tmp")] if store.root.exists() else []
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return [u["Key"] for u in uploads]


# --- finished objects -----------------------------------------------------------------------------------


def test_put_open_round_trip_of_a_few_megabytes(store):
    data = os.urandom(3 * MB + 123)
    store.put("originals/ab/abcdef", data, content_type="image/jpeg")
    with store.open("originals/ab/abcdef") as reader:
        assert reader.read() == data
    assert store.exists("originals/ab/abcdef")
    assert store.size("originals/ab/abcdef") == len(data)


def test_put_from_a_stream_with_short_reads(store):
    data = payload(MB + 17)
    store.put("docs/report.pdf", io.BufferedReader(io.BytesIO(data), buffer_size=1000), content_type="application/pdf")
    with store.open("docs/report.pdf") as reader:
        assert reader.read() == data


def test_empty_object(store):
    store.put("docs/empty", b"", content_type="text/plain")
    assert store.size("docs/empty") == 0
    with store.open("docs/empty") as reader:
        assert reader.read() == b""


def test_missing_objects(store):
    assert not store.exists("nothing/here")
    assert store.size("nothing/here") is None
    with pytest.raises(KeyError):
        store.open("nothing/here")


def test_second_put_is_refused_unless_overwrite(store):
    store.put("display/ab/x.jpg", b"first", content_type="image/jpeg")
    with pytest.raises(ObjectExists) as info:
        store.put("display/ab/x.jpg", b"second", content_type="image/jpeg")
    assert info.value.key == "display/ab/x.jpg"
    with pytest.raises(ObjectExists):  # even with the very same bytes: the caller decides what "same" means
        store.put("display/ab/x.jpg", io.BytesIO(b"first"), content_type="image/jpeg")
    with store.open("display/ab/x.jpg") as reader:
        assert reader.read() == b"first"
    store.put("display/ab/x.jpg", b"second", content_type="image/jpeg", overwrite=True)
    with store.open("display/ab/x.jpg") as reader:
        assert reader.read() == b"second"
    assert leftovers(store) == []


def test_an_interrupted_put_leaves_nothing(store):
    seen = {}

    def midway():  # the put is half done: nobody may see the object yet
        seen["exists"] = store.exists("originals/cd/cut")
        seen["listed"] = [o.key for o in store.list("originals/")]

    with pytest.raises(Boom):
        store.put("originals/cd/cut", FailingStream(payload(300_000), on_midway=midway), content_type="image/jpeg")
    assert seen == {"exists": False, "listed": []}
    assert not store.exists("originals/cd/cut")
    with pytest.raises(KeyError):
        store.open("originals/cd/cut")
    assert list(store.list()) == []
    assert leftovers(store) == []


def test_an_interrupted_overwrite_keeps_the_old_object_whole(store):
    old = payload(200_000, seed=1)
    store.put("display/ef/photo.jpg", old, content_type="image/jpeg")
    seen = {}

    def midway():
        with store.open("display/ef/photo.jpg") as reader:
            seen["during"] = reader.read()

    with pytest.raises(Boom):
        store.put("display/ef/photo.jpg", FailingStream(payload(500_000, seed=2), on_midway=midway),
                  content_type="image/jpeg", overwrite=True)
    assert seen["during"] == old
    with store.open("display/ef/photo.jpg") as reader:
        assert reader.read() == old
    assert leftovers(store) == []


def test_delete_is_idempotent(store):
    store.put("thumb/aa/t.jpg", b"x", content_type="image/jpeg")
    store.delete("thumb/aa/t.jpg")
    assert not store.exists("thumb/aa/t.jpg")
    store.delete("thumb/aa/t.jpg")
    store.delete("never/existed")
    store.put("thumb/aa/t.jpg", b"again", content_type="image/jpeg")  # a deleted key can be written again
    assert store.size("thumb/aa/t.jpg") == 5


def test_list_by_prefix(store):
    before = datetime.now(UTC) - timedelta(seconds=5)
    for key, data in [("originals/ab/1", b"1"), ("originals/ab/22", b"22"), ("originals/cd/333", b"333"),
                      ("originals-old/x", b"x"), ("display/ab/1.jpg", b"dd"), ("top", b"t")]:
        store.put(key, data, content_type="application/octet-stream")
    store.append("upload-in-progress", 0, b"staged bytes are not objects")

    everything = list(store.list())
    assert [o.key for o in everything] == sorted(o.key for o in everything)
    assert {o.key for o in everything} == {"originals/ab/1", "originals/ab/22", "originals/cd/333",
                                           "originals-old/x", "display/ab/1.jpg", "top"}
    assert [(o.key, o.size) for o in store.list("originals/")] == [
        ("originals/ab/1", 1), ("originals/ab/22", 2), ("originals/cd/333", 3)]
    assert [o.key for o in store.list("originals/ab/2")] == ["originals/ab/22"]
    assert [o.key for o in store.list("originals")] == [
        "originals-old/x", "originals/ab/1", "originals/ab/22", "originals/cd/333"]
    assert list(store.list("nothing/")) == []
    assert list(store.list("staging/")) == [] and list(store.list("staging")) == []
    obj = next(iter(store.list("top")))
    assert isinstance(obj, StoredObject)
    assert obj.modified_at.tzinfo is not None and obj.modified_at.utcoffset() == timedelta(0)
    assert before <= obj.modified_at <= datetime.now(UTC) + timedelta(seconds=5)


BAD_KEYS = ["", "/etc/passwd", "../outside", "a/../../b", "a/./b", "a//b", "a/", "a\\b", "..", ".hidden",
            "a/.x.1234.tmp", "staging/abc/000000000000000", "C:/windows", "a\x00b", "a\nb"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_path_traversal_and_reserved_keys_are_rejected(store, key):
    for call in (lambda: store.put(key, b"x", content_type="text/plain"), lambda: store.open(key),
                 lambda: store.exists(key), lambda: store.size(key), lambda: store.delete(key),
                 lambda: store.url(key, expires_in=60)):
        with pytest.raises(ValueError):
            call()
    if isinstance(store, LocalStore):
        assert not store.root.exists()  # refused before anything was created


@pytest.mark.parametrize("prefix", ["/", "../", "a/../", "a\\", "a//", ".x"])
def test_bad_list_prefixes_are_rejected(store, prefix):
    with pytest.raises(ValueError):
        list(store.list(prefix))


@pytest.mark.parametrize("upload_id", ["", "../x", "a/b", ".hidden", "a\\b", "x" * 200])
def test_bad_upload_ids_are_rejected(store, upload_id):
    for call in (lambda: store.append(upload_id, 0, b"x"), lambda: store.staged_size(upload_id),
                 lambda: store.open_staged(upload_id), lambda: store.discard_staged(upload_id)):
        with pytest.raises(ValueError):
            call()


def test_wrong_data_type_is_refused(store):
    with pytest.raises(TypeError):
        store.put("docs/x", "text, not bytes", content_type="text/plain")
    assert not store.exists("docs/x")


# --- staging for resumable uploads ----------------------------------------------------------------------


def test_append_chunks_and_read_them_back_as_one_file(store):
    upload_id = str(uuid.uuid4())
    data = os.urandom(700_000)
    assert store.staged_size(upload_id) == 0
    offset = 0
    for size in (256 * 1024, 256 * 1024, 700_000 - 512 * 1024):
        offset = store.append(upload_id, offset, data[offset:offset + size])
    assert offset == len(data) == store.staged_size(upload_id)
    with store.open_staged(upload_id) as staged:
        assert staged.read() == data
        staged.seek(1000)
        assert staged.read(10) == data[1000:1010]


def test_append_at_the_wrong_offset_says_where_to_resume(store):
    upload_id = str(uuid.uuid4())
    with pytest.raises(OffsetMismatch) as info:
        store.append(upload_id, 5, b"too far")
    assert info.value.expected == 0
    store.append(upload_id, 0, b"12345")
    for wrong in (0, 3, 6, 100):
        with pytest.raises(OffsetMismatch) as info:
            store.append(upload_id, wrong, b"x")
        assert info.value.expected == 5
    assert store.append(upload_id, 5, b"678") == 8
    with pytest.raises(ValueError):
        store.append(upload_id, -1, b"x")


def test_a_cut_chunk_is_not_counted_and_the_upload_resumes(store):
    upload_id = str(uuid.uuid4())
    data = payload(900_000, seed=3)
    assert store.append(upload_id, 0, io.BytesIO(data[:300_000])) == 300_000
    with pytest.raises(Boom):  # the second chunk's connection drops after 100 kB
        store.append(upload_id, 300_000, FailingStream(data[300_000:400_000]))
    assert store.staged_size(upload_id) == 300_000  # at most the chunk in flight is lost
    with pytest.raises(OffsetMismatch) as info:  # the client retries from where it thought it was
        store.append(upload_id, 600_000, data[600_000:])
    assert info.value.expected == 300_000
    assert store.append(upload_id, 300_000, data[300_000:600_000]) == 600_000
    assert store.append(upload_id, 600_000, data[600_000:]) == 900_000
    with store.open_staged(upload_id) as staged:
        assert staged.read() == data


def test_a_cut_first_chunk_stages_nothing(store):
    upload_id = str(uuid.uuid4())
    with pytest.raises(Boom):
        store.append(upload_id, 0, FailingStream(b"partial"))
    assert store.staged_size(upload_id) == 0
    assert list(store.list_staged()) == []
    with pytest.raises(KeyError):
        store.open_staged(upload_id)


def test_empty_chunk_changes_nothing(store):
    upload_id = str(uuid.uuid4())
    assert store.append(upload_id, 0, b"") == 0
    store.append(upload_id, 0, b"abc")
    assert store.append(upload_id, 3, b"") == 3
    assert store.staged_size(upload_id) == 3


def test_discard_staged_is_idempotent(store):
    upload_id = str(uuid.uuid4())
    store.append(upload_id, 0, b"abc")
    store.append(upload_id, 3, b"def")
    store.discard_staged(upload_id)
    assert store.staged_size(upload_id) == 0
    with pytest.raises(KeyError):
        store.open_staged(upload_id)
    store.discard_staged(upload_id)
    store.discard_staged(str(uuid.uuid4()))
    assert store.append(upload_id, 0, b"fresh start") == 11  # the id can start over


def test_list_staged_shows_uploads_in_progress(store):
    first, second = "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.append(first, 0, b"a" * 1000)
    store.append(first, 1000, b"b" * 500)
    store.append(second, 0, b"c" * 42)
    store.put("originals/aa/done", b"finished", content_type="image/jpeg")  # not staged

    staged = list(store.list_staged())
    assert [(s.key, s.size) for s in staged] == [(first, 1500), (second, 42)]
    for entry in staged:
        assert entry.modified_at.utcoffset() == timedelta(0)
        assert before <= entry.modified_at <= datetime.now(UTC) + timedelta(seconds=5)
    store.discard_staged(first)
    assert [(s.key, s.size) for s in store.list_staged()] == [(second, 42)]


def test_concurrent_appends_at_the_same_offset_never_interleave(store):
    upload_id = str(uuid.uuid4())
    store.append(upload_id, 0, b"head")
    chunks = [bytes([65 + n]) * 200_000 for n in range(4)]
    barrier = threading.Barrier(len(chunks))
    outcomes = []

    def send(chunk):
        barrier.wait()
        try:
            outcomes.append(store.append(upload_id, 4, chunk))
        except OffsetMismatch as exc:
            outcomes.append(("mismatch", exc.expected))

    threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 200_004 in outcomes
    with store.open_staged(upload_id) as staged:
        content = staged.read()
    assert len(content) == 200_004 and content[4:] in chunks  # one whole chunk, never a mix
    if isinstance(store, LocalStore):  # moto's If-None-Match check is not atomic between threads; S3's is
        assert outcomes.count(200_004) == 1 and outcomes.count(("mismatch", 200_004)) == 3


def test_what_stage_chunk_returns_can_be_handed_back_instead_of_looking(store):
    """The caller keeps the Staged it got (the uploads row) and hands it back: the same bytes, the same state
    as a lookup, with the last chunk taken from memory; discarding by it leaves nothing."""
    upload_id = str(uuid.uuid4())
    data = payload(700_000, seed=5)
    staged = Staged()
    for start, end in ((0, 300_000), (300_000, 600_000), (600_000, 700_000)):
        staged = store.stage_chunk(upload_id, start, data[start:end], known=staged)
    assert staged == store.staged(upload_id) and staged.size == len(data)
    assert staged.starts == ((0, 300_000, 600_000) if isinstance(store, S3Store) else ())
    assert store.stage_chunk(upload_id, len(data), b"", known=staged) == staged  # an empty chunk: nothing new
    for tail in (None, data[600_000:]):
        with store.open_staged(upload_id, known=staged, tail=tail) as opened:
            assert opened.read() == data
    store.discard_staged(upload_id, known=staged)
    assert store.staged(upload_id) == Staged() and list(store.list_staged()) == []


def test_a_stale_record_is_checked_by_the_store(store):
    """The record says less than is staged (a crash after staging, before the row was written): the store
    refuses the chunk at the recorded offset and says what it found, which the caller then keeps."""
    upload_id = str(uuid.uuid4())
    recorded = store.stage_chunk(upload_id, 0, b"a" * 1000)
    behind_its_back = store.stage_chunk(upload_id, 1000, b"b" * 500, known=recorded)
    with pytest.raises(OffsetMismatch) as info:  # the client resends the chunk the record does not know of
        store.stage_chunk(upload_id, 1000, b"b" * 500, known=recorded)
    assert info.value.expected == 1500 and info.value.staged == behind_its_back == store.staged(upload_id)
    with pytest.raises(OffsetMismatch) as info:  # another offset than the record's: the store looks
        store.stage_chunk(upload_id, 1200, b"c", known=recorded)
    assert info.value.expected == 1500
    done = store.stage_chunk(upload_id, 1500, b"c" * 10, known=info.value.staged)
    assert done.size == 1510 == store.staged_size(upload_id)
    wrong = Staged(1510, (0, 700)) if isinstance(store, S3Store) else Staged(1510)  # chunks that are not there
    with store.open_staged(upload_id, known=wrong) as opened:  # looks instead
        assert opened.read() == b"a" * 1000 + b"b" * 500 + b"c" * 10
    store.discard_staged(upload_id)
    assert store.staged_size(upload_id) == 0


def test_keep_staged_makes_the_staged_bytes_a_finished_object(store):
    upload_id = str(uuid.uuid4())
    data = payload(2 * MB + 17, seed=9)
    staged = store.stage_chunk(upload_id, 0, data[:MB])
    staged = store.stage_chunk(upload_id, MB, data[MB:], known=staged)
    with store.open_staged(upload_id, known=staged, tail=data[MB:]) as opened:
        opened.seek(123)  # another thread is reading it: keep_staged must not move it
        store.keep_staged(upload_id, "originals/ke/kept", content_type="image/jpeg", staged=opened)
        assert opened.tell() == 123 and opened.read(10) == data[123:133]
    with pytest.raises(ObjectExists):  # no-clobber, like put
        store.keep_staged(upload_id, "originals/ke/kept", content_type="image/jpeg")
    store.discard_staged(upload_id, known=staged)
    with store.open("originals/ke/kept") as reader:  # the object outlives the staged bytes
        assert reader.read() == data
    assert [o.key for o in store.list("originals/")] == ["originals/ke/kept"] and leftovers(store) == []
    with pytest.raises(KeyError):
        store.keep_staged(str(uuid.uuid4()), "originals/ke/nothing", content_type="image/jpeg")
    with pytest.raises(ValueError):
        store.keep_staged(upload_id, "staging/x", content_type="image/jpeg")


def test_a_staged_file_can_be_read_by_two_threads_at_once(store):
    """reopen(): a second reader with its own position, for Pillow's second thread (and independent_reader()
    for the hash and the original's put)."""
    upload_id = str(uuid.uuid4())
    data = payload(3 * MB + 5, seed=11)
    store.append(upload_id, 0, data)
    with store.open_staged(upload_id) as opened:
        other = reopen(opened)
        opened.seek(MB)
        assert other.read(100) == data[:100] and opened.read(100) == data[MB:MB + 100]
        assert other.seek(-5, io.SEEK_END) == len(data) - 5 and other.read() == data[-5:]
        whole = independent_reader(opened)
        assert (whole if isinstance(whole, bytes) else whole.read()) == data and opened.tell() == MB + 100
    store.discard_staged(upload_id)


def test_local_keep_staged_is_a_hard_link_that_takes_no_more_bytes(tmp_path):
    store = LocalStore(tmp_path / "media")
    upload_id = str(uuid.uuid4())
    store.append(upload_id, 0, b"evidence")
    staged_path = store.staging / upload_id
    os.utime(staged_path, (0, 0))  # staged long ago: the object must not look old to the sweep
    store.keep_staged(upload_id, "originals/ab/photo", content_type="image/jpeg")
    kept = store.root / "originals" / "ab" / "photo"
    assert kept.stat().st_ino == staged_path.stat().st_ino and kept.stat().st_nlink == 2  # no copy
    assert next(iter(store.list("originals/"))).modified_at > datetime.now(UTC) - timedelta(minutes=1)
    with pytest.raises(OffsetMismatch):  # the staged file is the object now: never written again
        store.append(upload_id, 8, b" and more")
    assert store.append(upload_id, 8, b"") == 8 and kept.read_bytes() == b"evidence"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    store.discard_staged(upload_id)
    assert kept.read_bytes() == b"evidence" and kept.stat().st_nlink == 1


def test_s3_a_known_upload_is_staged_read_and_discarded_without_listing(s3_store, monkeypatch):
    upload_id = str(uuid.uuid4())
    calls: list[str] = []
    real = s3_store.client._make_api_call
    monkeypatch.setattr(s3_store.client, "_make_api_call",
                        lambda name, params: calls.append(name) or real(name, params))
    first = s3_store.stage_chunk(upload_id, 0, b"x" * 1000, known=Staged())
    last = s3_store.stage_chunk(upload_id, 1000, b"y" * 10, known=first)
    with s3_store.open_staged(upload_id, known=last, tail=b"y" * 10) as opened:
        assert opened.read() == b"x" * 1000 + b"y" * 10
    s3_store.discard_staged(upload_id, known=last)
    assert calls == ["PutObject", "PutObject", "GetObject", "DeleteObjects"]
    assert s3_store.staged_size(upload_id) == 0


# --- presigned URLs -------------------------------------------------------------------------------------


def test_local_has_no_url(tmp_path):
    store = LocalStore(tmp_path)
    store.put("originals/ab/p", b"x", content_type="image/jpeg")
    assert store.url("originals/ab/p", expires_in=60) is None


def test_s3_url_is_a_working_short_lived_get(s3_store):
    data = payload(50_000, seed=9)
    s3_store.put("originals/ab/photo", data, content_type="image/jpeg")
    url = s3_store.url("originals/ab/photo", expires_in=3600, filename="Biên bản số 1.jpg",
                       content_type="image/jpeg")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) == 900  # capped at 15 minutes
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 — a loopback http URL
        assert response.status == 200
        assert response.read() == data
        assert response.headers["Content-Type"] == "image/jpeg"
        disposition = response.headers["Content-Disposition"]
    assert disposition == content_disposition("Biên bản số 1.jpg")
    assert "filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n%20s%E1%BB%91%201.jpg" in disposition

    short = s3_store.url("originals/ab/photo", expires_in=60)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(short).query)["X-Amz-Expires"] == ["60"]
    with urllib.request.urlopen(short, timeout=10) as response:  # noqa: S310
        assert response.read() == data
    with pytest.raises(ValueError):
        s3_store.url("originals/ab/photo", expires_in=0)


def test_content_disposition_is_safe_for_odd_names():
    value = content_disposition('a"b/c\\d\r\nSet-Cookie: x.pdf')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="a_b_c_dSet-Cookie: x.pdf"; filename*=UTF-8\'\'')


# --- S3 specifics: multipart for large streams, retried conditional writes ------------------------------


@pytest.fixture
def small_parts(s3_store, monkeypatch):
    monkeypatch.setattr(s3_store, "multipart_threshold", 5 * MB)
    monkeypatch.setattr(s3_store, "part_size", 5 * MB)
    return s3_store


def test_s3_large_stream_goes_up_as_multipart_with_the_same_guarantees(small_parts):
    store = small_parts
    data = os.urandom(11 * MB + 5)
    store.put("docs/big.pdf", io.BytesIO(data), content_type="application/pdf")
    head = store.client.head_object(Bucket=store.bucket, Key="docs/big.pdf")
    assert head["ContentLength"] == len(data) and head["ContentType"] == "application/pdf"
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 MiB, 5 MiB, the rest
    with store.open("docs/big.pdf") as reader:
        assert reader.read() == data
    with pytest.raises(ObjectExists):  # If-None-Match on CompleteMultipartUpload
        store.put("docs/big.pdf", data, content_type="application/pdf")
    assert leftovers(store) == []
    with store.open("docs/big.pdf") as reader:
        assert reader.read() == data


def test_s3_large_stream_cut_midway_aborts_the_multipart_upload(small_parts):
    store = small_parts
    with pytest.raises(Boom):
        store.put("docs/cut.pdf", FailingStream(payload(12 * MB)), content_type="application/pdf")
    assert not store.exists("docs/cut.pdf")
    assert leftovers(store) == []


def test_s3_retried_put_that_had_succeeded_is_not_a_conflict(s3_store, monkeypatch):
    """The first PutObject succeeded but its answer was lost; botocore retries and S3 answers 412."""
    from botocore.exceptions import ClientError

    client = s3_store.client
    real_put = client.put_object

    def put_then_lose_the_answer(**kwargs):
        real_put(**kwargs)
        return real_put(**kwargs)  # the retry: PreconditionFailed

    monkeypatch.setattr(client, "put_object", put_then_lose_the_answer)
    s3_store.put("originals/ab/retried", b"evidence", content_type="image/jpeg")
    monkeypatch.undo()
    with pytest.raises(ObjectExists):  # a different writer is still refused
        s3_store.put("originals/ab/retried", b"other", content_type="image/jpeg")
    with s3_store.open("originals/ab/retried") as reader:
        assert reader.read() == b"evidence"
    with pytest.raises(ClientError):  # other errors are not disguised
        S3Store(bucket="no-such-bucket-here", client=client).put("a/b", b"x", content_type="text/plain")


def test_s3_staged_chunks_are_objects_under_staging(s3_store):
    upload_id = str(uuid.uuid4())
    s3_store.append(upload_id, 0, b"abc")
    s3_store.append(upload_id, 3, b"defg")
    listed = s3_store.client.list_objects_v2(Bucket=s3_store.bucket, Prefix="staging/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [
        (f"staging/{upload_id}/000000000000000", 3), (f"staging/{upload_id}/000000000000003", 4)]


def test_s3_sweep_aborts_old_multipart_uploads(s3_store):
    s3_store.client.create_multipart_upload(Bucket=s3_store.bucket, Key="docs/abandoned")
    # moto reports every multipart upload as initiated on 2010-11-10, so the cutoffs are chosen around that date
    assert s3_store.sweep_incomplete(timedelta(days=365 * 100)) == 0
    assert leftovers(s3_store) == ["docs/abandoned"]
    assert s3_store.sweep_incomplete(timedelta(hours=1)) == 1
    assert leftovers(s3_store) == []


# --- local specifics ------------------------------------------------------------------------------------


def test_local_files_and_directories_have_restricted_modes(tmp_path):
    store = LocalStore(tmp_path / "media")
    old_umask = os.umask(0)
    try:
        store.put("originals/ab/p", b"x", content_type="image/jpeg")
        store.append("u1", 0, b"chunk")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "media/originals/ab/p").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "media/staging/u1").stat().st_mode) == 0o640
    for directory in ("media", "media/originals", "media/originals/ab", "media/staging"):
        assert stat.S_IMODE((tmp_path / directory).stat().st_mode) == 0o750


def test_local_layout_and_hidden_files(tmp_path):
    store = LocalStore(tmp_path)
    store.put("originals/ab/p", b"x", content_type="image/jpeg")
    store.append("u1", 0, b"chunk")
    assert (tmp_path / "originals/ab/p").read_bytes() == b"x"
    assert (tmp_path / "staging/u1").read_bytes() == b"chunk"
    (tmp_path / "originals/ab/.p.0123.tmp").write_bytes(b"crashed put")
    assert [o.key for o in store.list()] == ["originals/ab/p"]
    assert [s.key for s in store.list_staged()] == ["u1"]


def test_local_sweep_removes_stale_temporary_files(tmp_path):
    store = LocalStore(tmp_path)
    store.put("originals/ab/p", b"x", content_type="image/jpeg")
    stale = tmp_path / "originals/ab/.p.0123.tmp"
    stale.write_bytes(b"crashed put")
    assert store.sweep_incomplete(timedelta(hours=1)) == 0
    old = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    os.utime(stale, (old, old))
    assert store.sweep_incomplete(timedelta(hours=1)) == 1
    assert not stale.exists() and store.exists("originals/ab/p")
    assert LocalStore(tmp_path / "absent").sweep_incomplete(timedelta(0)) == 0


def test_local_store_touches_nothing_until_written(tmp_path):
    store = LocalStore(tmp_path / "media")
    assert list(store.list()) == [] and list(store.list_staged()) == []
    assert store.staged_size("u1") == 0 and not store.exists("a/b")
    assert not (tmp_path / "media").exists()


# --- construction ---------------------------------------------------------------------------------------


def test_make_store_local(tmp_path):
    store = make_store({"MEDIA_BACKEND": "local", "MEDIA_ROOT": str(tmp_path)})
    assert isinstance(store, LocalStore) and store.root == Path(tmp_path)
    settings = load_settings({"APP_ENV": "testing", "MEDIA_BACKEND": "local", "MEDIA_ROOT": str(tmp_path / "m")})
    assert make_store(settings).root == tmp_path / "m"


def test_make_store_s3_builds_a_working_store(moto_endpoint, bucket):
    store = make_store({"MEDIA_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto_endpoint,
                        "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
                        "MEDIA_ROOT": "/unused"})
    assert isinstance(store, S3Store) and store.bucket == bucket
    store.put("docs/x", b"via config", content_type="text/plain")
    with store.open("docs/x") as reader:
        assert reader.read() == b"via config"


def test_make_store_s3_contacts_nothing():
    store = make_store({"MEDIA_BACKEND": "s3", "S3_BUCKET": "b-1", "S3_ENDPOINT_URL": "http://127.0.0.1:9",
                        "S3_REGION": None})
    assert isinstance(store, S3Store) and store._client is None and store.region == "us-east-1"


@pytest.mark.parametrize("config", [{"MEDIA_BACKEND": "s3"}, {"MEDIA_BACKEND": "ftp", "MEDIA_ROOT": "/x"},
                                    {"MEDIA_BACKEND": "local"}])
def test_make_store_refuses_incomplete_configuration(config):
    with pytest.raises(ConfigError):
        make_store(config)
