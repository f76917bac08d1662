"""Abuse and limits (OWASP API Security Top 10, 2023): mass assignment, resource consumption, misconfiguration.

Every write operation of the OpenAPI document is swept with server-owned fields injected into its body; oversized
and endless bodies, huge multipart forms, a 900-megapixel image header, a 5,000-mutation batch, a page size of a
million and a flood of sign-ins are each refused with problem+json, quickly, and without the process's memory
growing more than 50 MB; every response carries the security headers; CORS is closed unless configured.

How memory is measured (`measured()`): freed heap pages are first given back to the system (gc, malloc_trim),
then the kernel's peak resident set size of this process (VmHWM) is reset through /proc/self/clear_refs; after the
request the new peak minus the resident set before it is the growth. Any allocation during the request — Python
objects, a body read into bytes, Pillow's or OpenSSL's C buffers — shows up, even if freed before the response.
test_the_memory_probe_sees_a_handler_that_reads_a_whole_body shows the check failing for a route that reads a
64 MB body. (tracemalloc is not used: its own bookkeeping grows the resident set by tens of megabytes when a
request holds many small objects. ru_maxrss alone would only see growth past the process's earlier peak; it is
the fallback where /proc is missing, and there the check can miss what it exists for.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import io
import json
import re
import resource
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from audit_api.extensions import db
from audit_api.models import User
from audit_api.services.auth import open_session
from audit_api.services.demo import demo_id
from tests import test_access_matrix as matrix
from tests.support import DEMO_PASSWORD

MB = 1024 * 1024
MEMORY_BOUND = 50 * MB
TIME_BOUND = 2.0  # a hang guard only: speed is measured in bench/
PROBLEM = "application/problem+json"
UNKNOWN = ["Trường không được phép (unknown field)."]
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)
LEAKS = ("Traceback", 'File "', "sqlalchemy", "sqlite3", "psycopg", "SELECT ", "INSERT ", "UPDATE ", "werkzeug")
OWN_INSPECTION = demo_id("insp-vanlang-2024")


# --- the memory and time probe ----------------------------------------------------------------------------


@dataclass
class Measure:
    seconds: float = 0.0
    rss_growth: int = 0  # peak resident set during the request, minus the resident set before it
    exact: bool = True  # False: ru_maxrss fallback, blind below the process's earlier peak


def _proc_kb(field: str) -> int | None:
    try:
        found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
    except OSError:
        return False
    return _proc_kb("VmHWM") is not None


def _release_free_memory() -> None:
    """Give freed heap pages back to the system, so that the request cannot reuse them unseen."""
    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def measured() -> Iterator[Measure]:
    measure = Measure()
    _release_free_memory()
    measure.exact = _reset_peak_rss()
    rss_before = _proc_kb("VmRSS") * 1024 if measure.exact else _max_rss()
    started = time.perf_counter()
    try:
        yield measure
    finally:
        measure.seconds = time.perf_counter() - started
        measure.rss_growth = (_proc_kb("VmHWM") * 1024 if measure.exact else _max_rss()) - rss_before


def assert_bounded(measure: Measure) -> None:
    assert measure.seconds < TIME_BOUND, f"took {measure.seconds:.2f} s"
    assert measure.rss_growth < MEMORY_BOUND, f"resident set grew {measure.rss_growth / MB:.1f} MB"


def assert_problem(response, status: int) -> dict:
    """problem+json with the status, a Vietnamese title and detail (Vietnamese first), nothing internal."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert response.mimetype == PROBLEM
    body = json.loads(text)
    assert body["status"] == status and body["type"].startswith("/problems/")
    assert VIETNAMESE.search(body["title"]), body["title"]
    assert VIETNAMESE.search(body["detail"].split("(")[0]), body["detail"]  # an English gloss comes after
    for leak in LEAKS:
        assert leak not in text, leak
    return body


class Body(io.RawIOBase):
    """A request body of `size` bytes made while it is read: sending 900 MB costs the test nothing."""

    def __init__(self, size: int, head: bytes = b"", fill: bytes = b" "):
        self.head, self.size, self.position, self.block = head, size, 0, fill * (64 * 1024)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the length by seeking to the end and back
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.position, len(self.block))
        start = self.position
        chunk = self.head[start:start + count] if start < len(self.head) else b""
        chunk += self.block[:count - len(chunk)]
        buffer[:count] = chunk
        self.position += count
        return count


def send(client, method: str, url: str, body: Body, *, headers: dict, content_type: str, chunked: bool = False):
    """A body streamed as a WSGI server hands it over: with its declared length, or chunked (no length)."""
    if chunked:  # Werkzeug then ignores the length; the server marks the stream as ending by itself
        headers = {**headers, "Transfer-Encoding": "chunked"}
    return client.open(url, method=method, input_stream=body, content_type=content_type, headers=headers,
                       environ_overrides={"wsgi.input_terminated": True} if chunked else None)


@pytest.fixture
def lead(headers_for) -> dict:
    return headers_for("truongdoan")


def test_the_memory_probe_sees_a_handler_that_reads_a_whole_body(app, client, admin, monkeypatch):
    """The probe can fail: with the size limit lifted, a JSON route reads a 64 MB body (and decodes it)."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", None)
    monkeypatch.setitem(app.config, "JSON_MAX_BYTES", None)
    body = Body(64 * MB, head=b'{"yaml": ')
    with measured() as measure:
        response = send(client, "POST", "/api/v1/checklists/validation", body, headers=admin,
                        content_type="application/json")
    assert response.status_code == 400 and body.position == body.size  # read to the end, then refused
    assert measure.rss_growth > MEMORY_BOUND, measure


# --- server-owned fields (API3:2023 broken object property level authorization) --------------------------

# Fields the server owns, whatever a client sends: identity, versioning, workflow state, authorship, times,
# checksums and numbers of issued documents, the parent a nested resource belongs to. Every model column named
# *_at or *_by is added to these (server_owned()), so a new timestamp or author column is covered too.
SERVER_OWNED = ("id", "version", "status", "created_at", "updated_at", "created_by", "updated_by", "author",
                "author_id", "actor_id", "sha256", "pdf_sha256", "pdf_key", "number", "team_id", "inspection_id",
                "issued_view", "snapshot", "password_hash", "is_legacy", "origin", "merged_into_id", "seq")

# The few server-owned names a request schema does accept, each reviewed: schema component → field → why.
REVIEWED = {
    "PhotoCreate": {"id": "the tablet's UUID for the photo, kept across retries (DESIGN §6–7)",
                    "inspection_id": "which inspection the photo is evidence for; checked against the caller",
                    "sha256": "the checksum the client declares; the server verifies the bytes against it"},
    "InspectionCreate": {"team_id": "the team that will run it; the caller must lead that team"},
    "FindingUpdate": {"status": "only 'kept' (a lead keeps a draft finding); the rest of the workflow is routes"},
    "PlanCreate": {"number": "the plan's number as printed on the paper plan (e.g. 9/KH-UBND)"},
    "PlanUpdate": {"number": "the plan's number as printed on the paper plan (e.g. 9/KH-UBND)"},
}

SENTINEL_UUID = "5e4f1a2b-0bad-4bad-8bad-00000000dead"
SENTINEL_TEXT = "giá-trị-chèn-vào"
SENTINEL_NUMBER = 987_654_321
SENTINEL_TIME = "1999-12-31T23:59:59+00:00"


def sentinel(name: str):
    if name.endswith("_at"):
        return SENTINEL_TIME
    if name == "id" or name.endswith(("_id", "_by")) or name == "author":
        return SENTINEL_UUID
    if name in ("version", "number", "seq"):
        return SENTINEL_NUMBER
    if name.endswith("sha256"):
        return "de" * 32
    return SENTINEL_TEXT


def server_owned() -> tuple[str, ...]:
    columns = {c.name for table in db.metadata.sorted_tables for c in table.columns}
    return tuple(sorted({*SERVER_OWNED, *(name for name in columns if name.endswith(("_at", "_by")))}))


@pytest.fixture(scope="module")
def spec(app) -> dict:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def component(spec: dict, schema: dict) -> tuple[str | None, dict]:
    """(component name, object schema) behind a $ref, an allOf of one $ref (nullable nesting) or inline."""
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = schema["allOf"][0]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name, spec["components"]["schemas"][name]
    return None, schema


def request_schema(spec: dict, path: str, method: str) -> dict | None:
    content = (spec["paths"][path][method].get("requestBody") or {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def write_operations(spec: dict) -> list[tuple[str, str]]:
    return [(path, method) for path, item in spec["paths"].items() for method in item
            if method in ("post", "put", "patch", "delete")]


def object_schemas(spec: dict, schema: dict, seen: set | None = None) -> Iterator[tuple[str | None, dict]]:
    """Every object schema a request body can contain, nested ones included."""
    seen = set() if seen is None else seen
    name, resolved = component(spec, schema)
    if resolved.get("type") == "array":
        yield from object_schemas(spec, resolved["items"], seen)
        return
    if (resolved.get("type") != "object" and "properties" not in resolved) or name in seen:
        return
    if name:
        seen.add(name)
    yield name, resolved
    for prop in resolved.get("properties", {}).values():
        yield from object_schemas(spec, prop, seen)


def test_every_write_body_in_the_contract_refuses_unknown_fields_at_every_level(spec):
    for path, method in write_operations(spec):
        schema = request_schema(spec, path, method)
        if schema is None:
            continue
        for name, resolved in object_schemas(spec, schema):
            assert resolved.get("additionalProperties") is False, f"{method.upper()} {path}: {name} is not strict"


def test_a_write_schema_accepts_a_server_owned_field_only_where_reviewed(spec):
    owned = set(server_owned())
    accepted = {}
    for path, method in write_operations(spec):
        schema = request_schema(spec, path, method)
        for name, resolved in object_schemas(spec, schema) if schema else ():
            found = owned & set(resolved.get("properties", {}))
            if found:
                accepted[name] = found
    assert accepted == {name: set(fields) for name, fields in REVIEWED.items()}


def inject(spec: dict, schema: dict, body, owned: tuple[str, ...]) -> tuple[object, dict]:
    """The body with every server-owned field its schema does not accept added, in it and in every nested
    object it holds; and the errors expected for them."""
    _name, resolved = component(spec, schema)
    if resolved.get("type") == "array" and isinstance(body, list):
        pairs = [inject(spec, resolved["items"], item, owned) for item in body]
        return [p[0] for p in pairs], {str(i): p[1] for i, p in enumerate(pairs) if p[1]}
    if not isinstance(body, dict) or "properties" not in resolved:
        return body, {}
    properties = resolved["properties"]
    injected, errors = dict(body), {}
    for key, value in body.items():
        injected[key], nested = inject(spec, properties[key], value, owned)
        if nested:
            errors[key] = nested
    for field in owned:
        if field not in properties:
            injected[field], errors[field] = sentinel(field), UNKNOWN
    return injected, errors


def rule_endpoint(app, path: str, method: str) -> str:
    for rule in app.url_map.iter_rules():
        if re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) == path and method.upper() in rule.methods:
            return rule.endpoint
    raise AssertionError(f"{method.upper()} {path} has no route")


def allowed_role(case) -> str:
    return next(role for role in matrix.ALL if 200 <= case.expected[role][0] < 300)


def case_request(case, role: str) -> tuple[str, dict, object]:
    """URL, headers and JSON body of the access matrix's successful call as `role` on its own object."""
    user = db.session.scalar(sa.select(User).filter_by(username=matrix.ROLES[role]))
    headers = {}
    if case.credential != "none":
        pair = open_session(user)
        db.session.commit()
        headers["Authorization"] = f"Bearer {pair.refresh_token if case.credential == 'refresh' else pair.access_token}"
    url = case.path("own").replace("{me}", str(user.id))
    body = None
    if case.raw:
        headers.update({k: v for k, v in case.raw[1].items() if k != "Content-Type"})
        body = json.loads(case.raw[0]) if case.raw[0] else None
    elif case.body:
        body = case.body("own", role)
    return url, headers, body


def database_rows() -> dict[str, list[tuple]]:
    return {table.name: [tuple(row) for row in db.session.execute(
        sa.select(table).order_by(*table.primary_key.columns)).all()] for table in db.metadata.sorted_tables}


def sentinels_stored(rows: dict[str, list[tuple]]) -> list[str]:
    marks = (SENTINEL_UUID, SENTINEL_UUID.replace("-", ""), SENTINEL_TEXT, str(SENTINEL_NUMBER), "1999-12-31",
             "de" * 32)
    return [f"{table}: {row}" for table, table_rows in rows.items() for row in table_rows
            if any(mark in json.dumps(row, default=str) for mark in marks)]


JSON_WRITES = [endpoint for endpoint, case in matrix.CASES.items()
               if case.method in ("POST", "PUT", "PATCH", "DELETE") and endpoint not in ("photos.upload_chunk",)]


def test_every_write_operation_of_the_contract_is_swept(app, spec):
    swept = set(JSON_WRITES) | {"photos.upload_chunk"}  # the chunk is raw bytes: tests/test_photos.py
    assert {rule_endpoint(app, path, method) for path, method in write_operations(spec)} == swept


@pytest.mark.parametrize("endpoint", JSON_WRITES)
def test_server_owned_fields_injected_into_a_write_body_are_refused_and_nothing_is_stored(
        app, client, spec, endpoint):
    case = matrix.CASES[endpoint]
    path, method = next((p, m) for p, m in write_operations(spec) if rule_endpoint(app, p, m) == endpoint)
    schema = request_schema(spec, path, method)
    if case.setup:
        case.setup()
    role = allowed_role(case)
    url, headers, body = case_request(case, role)
    if schema is None:  # (mutations inside a sync batch: their own test below)
        _body_is_ignored(client, case, role, url, headers)
        return
    injected, expected = inject(spec, schema, body if body is not None else {}, server_owned())
    before = database_rows()
    response = client.open(url, method=case.method, headers=headers, json=injected)
    assert assert_problem(response, 422)["errors"] == expected
    assert database_rows() == before  # nothing at all was written
    valid = client.open(url, method=case.method, headers=headers, json=body)
    assert valid.status_code == case.expected[role][0], valid.get_data(as_text=True)[:300]  # only they were wrong


def _body_is_ignored(client, case, role: str, url: str, headers: dict) -> None:
    """A route without a request body succeeds as usual and stores none of what a body said."""
    injected = {name: sentinel(name) for name in server_owned()}
    response = client.open(url, method=case.method, headers=headers, json=injected)
    assert response.status_code == case.expected[role][0], response.get_data(as_text=True)[:300]
    assert sentinels_stored(database_rows()) == []


def test_server_owned_fields_in_sync_mutations_are_rejected_and_never_applied(client, staff):
    owned = [name for name in server_owned() if name not in ("id", "inspection_id")]  # the envelope's own
    answer = {"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(OWN_INSPECTION),
              "base_version": None, "payload": {"item_code": "D3", "value": 1}}
    finding = {"id": str(uuid.uuid4()), "type": "finding.create", "inspection_id": str(OWN_INSPECTION),
               "base_version": None, "payload": {"id": str(uuid.uuid4()), "text": "Hạn chế thử.", "section_code": "D"}}
    in_envelope = [{**m, "id": str(uuid.uuid4()), **{n: sentinel(n) for n in owned}} for m in (answer, finding)]
    in_payload = [{**m, "id": str(uuid.uuid4()), "payload": {**m["payload"], **{n: sentinel(n) for n in owned
                                                                               if n not in m["payload"]}}}
                  for m in (answer, finding)]
    response = client.post("/api/v1/sync", headers=staff,
                           json={"device_id": "abuse", "mutations": in_envelope + in_payload})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4
    for result, where in zip(results, ("envelope", "envelope", "payload", "payload"), strict=True):
        problem = result["problem"]
        assert problem["status"] == 422 and VIETNAMESE.search(problem["detail"])
        errors = problem["errors"] if where == "envelope" else problem["errors"]["payload"]
        assert {name for name, messages in errors.items() if messages == UNKNOWN} == set(owned), where
    stored = database_rows()
    del stored["sync_mutations"]  # rejected mutations are kept as received, so nothing typed is lost (DESIGN §6)
    assert sentinels_stored(stored) == []
    applied = client.post("/api/v1/sync", headers=staff, json={"device_id": "abuse", "mutations": [answer, finding]})
    assert [r["status"] for r in applied.get_json()["results"]] == ["applied", "applied"]  # only they were wrong


# --- oversized and endless bodies (API4:2023 unrestricted resource consumption) --------------------------

HUGE = 900 * 1000 * 1000


@pytest.mark.parametrize("url", ["/api/v1/sync", "/api/v1/checklists/validation", "/api/v1/auth/login",
                                 f"/api/v1/inspections/{OWN_INSPECTION}/approve"])
def test_a_body_declared_over_the_limit_is_413_before_anything_reads_it(client, admin, url):
    body = Body(HUGE, head=b'{"mutations": [')
    with measured() as measure:
        response = send(client, "POST", url, body, headers=admin, content_type="application/json")
    detail = assert_problem(response, 413)["detail"]
    assert "giới hạn" in detail
    assert body.position == 0  # not one byte read
    assert_bounded(measure)


def _declared_photo(client, staff, size: int = 100) -> str:
    data = b"\xff\xd8\xff" + b"\0" * (size - 3)
    declared = client.post("/api/v1/photos", headers=staff, json={
        "id": str(uuid.uuid4()), "inspection_id": str(OWN_INSPECTION), "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "content_type": "image/jpeg"})
    assert declared.status_code == 201
    return declared.headers["Location"]


@pytest.mark.parametrize("kind", ["json", "photo chunk"])
def test_a_chunked_body_without_length_is_413_at_the_limit_not_truncated(app, client, admin, staff, kind):
    """Werkzeug alone stops reading a chunked body at the limit and hands the route the truncated bytes."""
    if kind == "json":
        url, method, headers, content_type = "/api/v1/checklists/validation", "POST", admin, "application/json"
        limit = app.config["JSON_MAX_BYTES"]
    else:
        url, method, content_type = _declared_photo(client, staff, 20 * MB), "PATCH", "application/offset+octet-stream"
        headers, limit = {**staff, "Upload-Offset": "0"}, app.config["UPLOAD_CHUNK_MAX_BYTES"]  # a chunk's own limit
    body = Body(HUGE, head=b'{"yaml": "')
    with measured() as measure:
        response = send(client, method, url, body, headers=headers, content_type=content_type, chunked=True)
    assert "vượt quá giới hạn" in assert_problem(response, 413)["detail"]
    assert limit < body.position <= limit + 64 * 1024  # read up to the limit, no further
    assert_bounded(measure)


@pytest.mark.parametrize(("size", "unit"), [
    (15 * MB, b"{},"),  # over JSON_MAX_BYTES: refused unread
    (int(3.9 * MB), b"[],"),  # under it, but 2.7 million values
    (490_000, b'"ab",'),  # 98,000 strings: over JSON_MAX_VALUES too
], ids=["15MB-of-objects", "3.9MB-of-arrays", "490kB-of-strings"])
def test_json_that_would_parse_into_hundreds_of_megabytes_is_refused_before_parsing(client, size, unit):
    """On the public sign-in route: 15 MB of `[{},{},…]` used to take the worker past 700 MB."""
    data = b'{"username": "a", "password": "b", "device_id": [' + unit * (size // len(unit)) + b"0]}"
    with measured() as measure:
        response = client.post("/api/v1/auth/login", data=data, content_type="application/json")
    assert_problem(response, 413)
    assert_bounded(measure)


def test_the_costliest_json_still_accepted_stays_within_the_memory_bound(app, client):
    """Just under JSON_MAX_VALUES, as unknown fields (each becomes an error entry): 422, within the bound."""
    count = app.config["JSON_MAX_VALUES"] - 10
    keys = ",".join(f'"k{i}":0' for i in range(count)).encode()
    data = b'{"username": "a", "password": "b", ' + keys + b"}"
    with measured() as measure:
        response = client.post("/api/v1/auth/login", data=data, content_type="application/json")
    assert len(assert_problem(response, 422)["errors"]) == count
    assert_bounded(measure)


def test_an_oversized_photo_chunk_is_413_before_it_is_read(client, staff):
    body = Body(HUGE)
    with measured() as measure:
        response = send(client, "PATCH", _declared_photo(client, staff), body, headers={**staff, "Upload-Offset": "0"},
                        content_type="application/offset+octet-stream")
    assert_problem(response, 413)
    assert body.position == 0
    assert_bounded(measure)


def _multipart(parts: int) -> tuple[bytes, str]:
    boundary = "ranh-gioi-7d1f"
    field = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(parts))
    return f"{field}--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("shape", ["declared-900MB", "chunked-endless"])
def test_a_huge_multipart_form_is_refused_without_being_buffered(client, staff, shape):
    head, content_type = _multipart(10)
    body = Body(HUGE, head=head)
    with measured() as measure:
        response = send(client, "POST", "/api/v1/photos", body, headers=staff, content_type=content_type,
                        chunked=shape == "chunked-endless")
    assert_problem(response, 413 if shape == "declared-900MB" else 415)  # no route takes forms: never parsed
    assert body.position == 0
    assert_bounded(measure)


def test_a_multipart_form_of_100000_parts_under_the_size_limit_is_refused(client, staff):
    data, content_type = _multipart(100_000)
    with measured() as measure:
        response = client.post("/api/v1/photos", headers=staff, data=data, content_type=content_type)
    assert_problem(response, 415)  # a form where JSON is expected: refused by its media type, never parsed
    assert_bounded(measure)


# --- a decompression bomb by its header, through the photo protocol ---------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A real 1×1 PNG whose IHDR (with a valid CRC) then claims width × height."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real 8×8 JPEG whose SOF0 frame header then claims width × height."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(("make", "content_type"), [(_png_claiming, "image/png"), (_jpeg_claiming, "image/jpeg")])
def test_a_900_megapixel_header_is_refused_without_decoding(client, staff, make, content_type):
    data = make(30_000, 30_000)
    photo_id = uuid.uuid4()
    declared = client.post("/api/v1/photos", headers=staff, json={
        "id": str(photo_id), "inspection_id": str(OWN_INSPECTION), "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "content_type": content_type})
    assert declared.status_code == 201
    with measured() as measure:
        response = client.patch(declared.headers["Location"], data=data, headers={
            **staff, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    detail = assert_problem(response, 422)["detail"]
    assert "quá nhiều điểm ảnh" in detail and "tối đa 50,0 MP" in detail
    assert_bounded(measure)  # 900 MP decoded would be 2.7 GB of pixels
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=staff).get_json()
    assert photo["status"] == "rejected" and photo["urls"] is None


# --- a 5,000-mutation batch and a page size of a million ---------------------------------------------------


@pytest.mark.parametrize("count", [5000, 501])
def test_a_5000_mutation_batch_is_413_and_nothing_is_applied(app, client, staff, count):
    """5,000 mutations: over the JSON value budget, refused unparsed; 501: parsed, over SYNC_BATCH_MAX."""
    mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(OWN_INSPECTION),
                  "base_version": None, "payload": {"item_code": "D3", "value": i}} for i in range(count)]
    data = json.dumps({"device_id": "abuse", "mutations": mutations}).encode()
    before = database_rows()
    with measured() as measure:
        response = client.post("/api/v1/sync", headers=staff, data=data, content_type="application/json")
    detail = assert_problem(response, 413)["detail"]
    if count == 5000:
        assert "quá nhiều phần tử" in detail
    else:
        assert f"tối đa {app.config['SYNC_BATCH_MAX']} thay đổi" in detail and "501" in detail
    assert_bounded(measure)
    assert database_rows() == before


def paginated_lists(spec: dict) -> list[tuple[str, str]]:
    return [(path, param["name"]) for path, item in spec["paths"].items() if "get" in item
            for param in item["get"].get("parameters", [])
            if param.get("in") == "query" and param["name"] in ("page_size", "limit")]


def test_a_page_size_of_a_million_is_refused_on_every_list(app, client, spec, admin, headers_for):
    lists = paginated_lists(spec)
    assert len(lists) >= 9  # users, units, teams, plans, inspections, findings, documents, actions, sync changes
    unit = headers_for("dv-vanlang")
    for path, param in lists:
        url = re.sub(r"\{[^}]+\}", str(OWN_INSPECTION), path) + f"?{param}=1000000"
        with measured() as measure:
            response = client.get(url, headers=admin)
            if response.status_code == 403:
                response = client.get(url, headers=unit)
        errors = assert_problem(response, 422)["errors"]["query"]
        assert re.match(r"Phải (nhỏ hơn hoặc bằng|nằm trong khoảng)", errors[param][0]), (path, errors)
        assert_bounded(measure)


def test_the_page_size_limit_is_the_configured_one(app, client, admin, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE_MAX", 20)
    refused = assert_problem(client.get("/api/v1/units?page_size=21", headers=admin), 422)
    assert refused["errors"]["query"]["page_size"] == ["Phải nhỏ hơn hoặc bằng 20 (too large)."]
    assert client.get("/api/v1/units?page_size=20", headers=admin).get_json()["pagination"]["page_size"] == 20


# --- a flood of sign-ins ---------------------------------------------------------------------------------


WRONG_PASSWORD = "sai-mật-khẩu"


def _login(client, username: str, password: str = WRONG_PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


@pytest.fixture
def tight_login_limits(app, monkeypatch):
    """Fewer allowed failures than the defaults (10 per user, 30 per address: tests/test_auth.py), so that the
    flood's hashed failures do not dominate the suite's time; the refusals are the same code path."""
    assert app.config["RATELIMIT_ENABLED"]
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_USER", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "6 per minute")


def test_a_flood_of_sign_ins_for_one_account_is_429(client, tight_login_limits):
    for _ in range(3):
        assert _login(client, "kiemtra1").status_code == 401
    for password in [WRONG_PASSWORD] * 20 + [DEMO_PASSWORD]:  # even the right password, until the window passes
        with measured() as measure:
            response = _login(client, "kiemtra1", password)
        assert_problem(response, 429)
        assert 0 < int(response.headers["Retry-After"]) <= 60
        assert_bounded(measure)  # refused before the password is hashed (scrypt alone takes 32 MB)


def test_a_flood_of_sign_ins_across_usernames_from_one_address_is_429(client, tight_login_limits):
    for index in range(6):
        assert _login(client, f"khong-ton-tai-{index}").status_code == 401
    for index in range(20):
        with measured() as measure:
            response = _login(client, f"khong-ton-tai-them-{index}")
        assert_problem(response, 429)
        assert "Retry-After" in response.headers
        assert_bounded(measure)


# --- security headers (API8:2023 security misconfiguration) -----------------------------------------------

PWA_POLICY_START = "default-src 'self'"


def _responses(client, staff, admin) -> dict[str, object]:
    """One of each kind of response the app gives: API data, API problems, the PWA, docs, OPTIONS, 304."""
    checklist = "/api/v1/checklists/tthc-2025/versions/1"
    etag = client.get(checklist, headers=staff).headers["ETag"]
    return {
        "api json": client.get("/api/v1/auth/me", headers=staff),
        "api list": client.get("/api/v1/inspections", headers=staff),
        "api public": client.get("/api/v1/health"),
        "api 401": client.get("/api/v1/auth/me"),
        "api 404": client.get("/api/v1/khong-co"),
        "api 405": client.delete("/api/v1/checklists", headers=staff),
        "api 422": client.post("/api/v1/users", headers=admin, json={"id": "x"}),
        "api 413": client.post("/api/v1/sync", headers=staff, data=b" " * (17 * MB), content_type="application/json"),
        "api options": client.options("/api/v1/users"),
        "api 304": client.get(checklist, headers={**staff, "If-None-Match": etag}),
        "openapi": client.get("/api/v1/openapi.json"),
        "docs": client.get("/api/docs"),
        "pwa": client.get("/"),
        "pwa sw": client.get("/sw.js"),
        "pwa manifest": client.get("/manifest.webmanifest"),
        "pwa asset": client.get("/app/js/app.js"),
        "pwa 404": client.get("/app/js/khong-co.js"),
    }


def test_every_response_carries_the_security_headers(client, staff, admin):
    for kind, response in _responses(client, staff, admin).items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], kind
        assert headers["Referrer-Policy"] in ("no-referrer", "same-origin"), kind
        assert "Strict-Transport-Security" not in headers, kind  # plain HTTP
        assert "Access-Control-Allow-Origin" not in headers, kind
        if kind.startswith("pwa"):
            assert headers["Content-Security-Policy"].startswith(PWA_POLICY_START), kind
            assert "unsafe-inline" not in headers["Content-Security-Policy"], kind
        elif kind.startswith("api"):
            assert headers["Content-Security-Policy"].startswith("default-src 'none'"), kind


def test_api_responses_are_not_stored_unless_the_route_caches_on_purpose(client, staff, admin):
    responses = _responses(client, staff, admin)
    for kind in ("api json", "api list", "api 401", "api 404", "api 422", "api 413", "openapi"):
        assert responses[kind].headers["Cache-Control"] == "no-store", kind
    revalidated = responses["api 304"]
    assert revalidated.status_code == 304 and revalidated.headers["Cache-Control"] == "private, no-cache"
    bundle_url = f"/api/v1/inspections/{OWN_INSPECTION}/bundle"
    bundle = client.get(bundle_url, headers=staff)
    assert bundle.headers["Cache-Control"] == "private, no-cache"
    again = client.get(bundle_url, headers={**staff, "If-None-Match": bundle.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"


def test_the_api_docs_page_runs_only_its_own_inline_script(client):
    response = client.get("/api/docs")
    policy = response.headers["Content-Security-Policy"]
    script = re.search(r"<script>(.*?)</script>", response.get_data(as_text=True), re.DOTALL).group(1)
    import base64

    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in policy and "unsafe-eval" not in policy


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/api/v1/health").headers
    secure = client.get("/api/v1/health", base_url="https://kiemtra.example.gov.vn")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/", base_url="https://kiemtra.example.gov.vn").headers["Strict-Transport-Security"]
    # a client cannot claim HTTPS: without a trusted proxy, X-Forwarded-Proto is ignored
    claimed = client.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in claimed.headers


def test_hsts_behind_a_trusted_proxy_follows_x_forwarded_proto(tmp_path):
    from audit_api import create_app

    proxied = create_app({"APP_ENV": "development", "PROXY_FIX_HOPS": 1,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"}).test_client()
    assert proxied.get("/", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in proxied.get("/", headers={"X-Forwarded-Proto": "http"}).headers


# --- CORS -------------------------------------------------------------------------------------------------

FOREIGN = "https://ke-gian.example.com"
TRUSTED = "https://kiemtra.langson.gov.vn"


def _preflight(client, origin: str, url: str = "/api/v1/inspections"):
    return client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "authorization, content-type"})


def test_cors_is_closed_by_default(client, staff):
    assert not any(h.startswith("Access-Control-") for h in _preflight(client, FOREIGN).headers.keys())
    read = client.get("/api/v1/inspections", headers={**staff, "Origin": FOREIGN})
    assert read.status_code == 200
    assert not any(h.startswith("Access-Control-") for h in read.headers.keys())


def test_cors_grants_exactly_the_configured_origins_on_the_api(app, client, staff, monkeypatch):
    monkeypatch.setitem(app.config, "CORS_ORIGINS", (TRUSTED,))
    granted = _preflight(client, TRUSTED)
    assert granted.status_code == 204
    assert granted.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert "POST" in granted.headers["Access-Control-Allow-Methods"]
    assert {"Authorization", "Content-Type"} <= set(granted.headers["Access-Control-Allow-Headers"].split(", "))
    assert "Access-Control-Allow-Credentials" not in granted.headers  # bearer tokens, never cookies
    assert "Origin" in granted.headers["Vary"]
    read = client.get("/api/v1/inspections", headers={**staff, "Origin": TRUSTED})
    assert read.headers["Access-Control-Allow-Origin"] == TRUSTED
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    refused = _preflight(client, FOREIGN)
    assert "Access-Control-Allow-Origin" not in refused.headers and "Origin" in refused.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": TRUSTED}).headers  # the PWA


def test_cors_origins_are_read_from_the_environment_and_a_wildcard_is_refused(monkeypatch):
    from audit_api.config import ConfigError, load_settings

    monkeypatch.setenv("CORS_ORIGINS", "https://A.example.gov.vn/, http://127.0.0.1:8080")
    assert load_settings({"APP_ENV": "testing"})["CORS_ORIGINS"] == ("https://a.example.gov.vn",
                                                                     "http://127.0.0.1:8080")
    monkeypatch.setenv("CORS_ORIGINS", "*")
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        load_settings({"APP_ENV": "testing"})


def test_a_preflight_needs_no_token_and_opens_nothing(client):
    """OPTIONS is answered before authentication (it used to fail with a 500 on protected routes)."""
    for url in ("/api/v1/users", "/api/v1/auth/me", f"/api/v1/photos/{uuid.uuid4()}/upload"):
        response = _preflight(client, FOREIGN, url)
        assert response.status_code == 204 and response.data == b""
        assert "OPTIONS" in response.headers["Allow"]
