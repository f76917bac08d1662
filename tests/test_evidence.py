"""Evidence files of inspected units: the photo upload path (declare, resumable PATCH, checksum) serving the
PDFs and photos a unit attaches to its answer on a corrective action — PDF checked by its signature."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
from PIL import Image

from tests.test_actions import issued  # noqa: F401 — the fixture: the Văn Lãng minutes issued

OFFSET_TYPE = "application/offset+octet-stream"


def pdf_bytes() -> bytes:
    """A small real PDF (Pillow writes one), as a scanned report would be."""
    out = io.BytesIO()
    Image.new("RGB", (200, 280), (250, 250, 250)).save(out, "PDF")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def upload(client, headers_for):
    def send(action_id: str, data: bytes, *, who: str = "dv-vanlang", content_type: str = "application/pdf",
             file_id: uuid.UUID | None = None, caption: str | None = None):
        headers = headers_for(who)
        declared = client.post("/api/v1/photos", headers=headers, json={
            "id": str(file_id or uuid.uuid4()), "action_id": action_id, "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "content_type": content_type, "caption": caption})
        if declared.status_code != 201:
            return declared, None
        sent = client.patch(declared.headers["Location"], data=data,
                            headers={**headers, "Upload-Offset": "0", "Content-Type": OFFSET_TYPE,
                                     "Tus-Resumable": "1.0.0"})
        return declared, sent

    return send


def test_a_unit_attaches_a_pdf_report_to_its_answer(client, headers_for, issued, upload):  # noqa: F811
    action_id, data = issued[0]["id"], pdf_bytes()
    declared, sent = upload(action_id, data)
    assert declared.status_code == 201, declared.get_json()
    assert sent.status_code == 204, sent.get_data(as_text=True)
    file_id = declared.get_json()["id"]
    unit = headers_for("dv-vanlang")
    stored = client.get(f"/api/v1/photos/{file_id}", headers=unit).get_json()
    assert stored["status"] == "ready" and stored["kind"] == "document"
    answered = client.post(f"/api/v1/actions/{action_id}/responses", headers=unit,
                           json={"text": "Báo cáo kết quả khắc phục kèm theo.", "file_ids": [file_id]})
    assert answered.status_code == 201, answered.get_json()
    assert answered.get_json()["responses"][0]["file_ids"] == [file_id]
    original = client.get(f"/api/v1/photos/{file_id}/original", headers=headers_for("thuky"))
    assert original.status_code == 200 and original.data == data and original.mimetype == "application/pdf"


def test_a_photo_of_the_fix_is_evidence_too(client, headers_for, issued, upload):  # noqa: F811
    caption = "Bảng niêm yết TTHC sau khi cập nhật"
    declared, sent = upload(issued[0]["id"], jpeg_bytes(), content_type="image/jpeg", caption=caption)
    assert sent.status_code == 204
    assert declared.get_json()["caption"] == caption  # kept with the evidence file (it has no checklist link)
    stored = client.get(f"/api/v1/photos/{declared.get_json()['id']}", headers=headers_for("thuky")).get_json()
    assert stored["caption"] == caption
    thumb = client.get(f"/api/v1/photos/{declared.get_json()['id']}/thumb", headers=headers_for("dv-vanlang"))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"


def test_a_file_that_is_not_a_pdf_is_refused_by_its_signature(client, headers_for, issued, upload):  # noqa: F811
    declared, sent = upload(issued[0]["id"], b"Day khong phai PDF, chi la van ban thuong." * 10)
    assert sent.status_code == 422 and sent.mimetype == "application/problem+json"
    status = client.get(f"/api/v1/photos/{declared.get_json()['id']}", headers=headers_for("dv-vanlang")).get_json()
    assert status["status"] == "rejected"


def test_only_the_unit_of_the_action_uploads_its_evidence(client, headers_for, issued, upload):  # noqa: F811
    other_unit, _ = upload(issued[0]["id"], pdf_bytes(), who="dv-trangdinh")
    assert other_unit.status_code == 404
    staff, _ = upload(issued[0]["id"], pdf_bytes(), who="thuky")
    assert staff.status_code == 403
    data = jpeg_bytes()
    as_inspection = client.post("/api/v1/photos", headers=headers_for("dv-vanlang"), json={
        "id": str(uuid.uuid4()), "inspection_id": str(uuid.uuid4()), "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "content_type": "image/jpeg"})
    assert as_inspection.status_code in (403, 404)


def test_evidence_of_another_action_cannot_be_attached(client, headers_for, issued, upload):  # noqa: F811
    declared, _ = upload(issued[1]["id"], pdf_bytes())
    answered = client.post(f"/api/v1/actions/{issued[0]['id']}/responses", headers=headers_for("dv-vanlang"),
                           json={"text": "Đã khắc phục.", "file_ids": [declared.get_json()["id"]]})
    assert answered.status_code == 422


def test_another_unit_never_sees_the_evidence(client, headers_for, issued, upload):  # noqa: F811
    declared, _ = upload(issued[0]["id"], pdf_bytes())
    file_id = declared.get_json()["id"]
    assert client.get(f"/api/v1/photos/{file_id}", headers=headers_for("dv-trangdinh")).status_code == 404
    assert client.get(f"/api/v1/photos/{file_id}/original", headers=headers_for("dv-trangdinh")).status_code == 404
