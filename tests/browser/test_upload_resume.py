"""A photo whose bytes all reached the server but whose processing was cut short (the worker died after staging
the last chunk: the fault harness's most frequent landing, tests/faults/test_kills.py) is finished by the
tablet: declared again, it stands at offset = size and still `uploading`, so the tablet sends the empty PATCH
at the full offset that the protocol asks for, and the photo becomes ready. Before, the tablet stopped there
and set the photo aside as refused ("Cần xử lý"), with nothing left to retry it."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid

from PIL import Image

from audit_api.services.demo import demo_id
from tests.browser.conftest import wait_ready

VANLANG = demo_id("insp-vanlang-2024")


def test_every_byte_staged_but_not_processed_is_finished_by_the_tablet(page, live_server):
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(out, "JPEG", quality=85)
    data, photo_id = out.getvalue(), str(uuid.uuid4())
    declaration = {"id": photo_id, "inspection_id": str(VANLANG), "sha256": hashlib.sha256(data).hexdigest(),
                   "size": len(data), "content_type": "image/jpeg"}
    live_server.api("POST", "/photos", token=live_server.token("kiemtra1"), body=declaration)
    # what a worker killed while processing the last chunk leaves: the staged bytes, no Photo row
    staged = live_server.folder / "media" / "staging" / photo_id
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(data)

    page.goto(f"{live_server.url}/")
    wait_ready(page)
    held = page.evaluate("""async ([b64, declaration, password]) => {
      const api = await import('/app/js/api.js');
      const upload = await import('/app/js/upload.js');
      await api.login('kiemtra1', password);
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      return await upload.send(new Blob([bytes], { type: 'image/jpeg' }), declaration);
    }""", [base64.b64encode(data).decode(), declaration, live_server.password])
    assert held["status"] == "ready" and held["sha256"] == declaration["sha256"], held
    assert live_server.query("SELECT status FROM photos WHERE id = ?", (uuid.UUID(photo_id).hex,)) == [("ready",)]
