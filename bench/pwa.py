"""PWA benchmark: how long a 40-item checklist section takes to open from IndexedDB, offline, in Chromium.

    cd /work/main && .venv/bin/python bench/pwa.py [--opens N]

Set-up: a fresh server in this process (migrations, the project's checklists plus one bench checklist, the
demo data) on 127.0.0.1. The bench checklist is tthc-2018 with 20 items of section D moved into section B, so
that B holds 40 items (every answer type but the sample table; the rules still resolve, the items keep their
codes). One inspection of UBND huyện Văn Lãng uses it; all 40 items of the host unit's section B get an answer
through POST /api/v1/sync, then Debian's Chromium (headless, 1280×800) signs in as kiemtra1, downloads the
inspection and goes offline.

Measured with the browser's performance API, in the page:
- open (warm): from the hash change to the moment all 40 item cards are in the document, alternating between
  sections B and A (the app reads the bundle, checklist and answers from IndexedDB and builds the screen);
- open (cold): a reload of the section's URL offline (shell from the service worker), from navigation start to
  the 40 cards;
- floor: in the same page, the bare IndexedDB reads the screen needs (the bundle, the checklist version and the
  inspection's answers by index), with no rendering.
Target (issue 7): the section opens in under a second.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import uuid
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from audit_api import create_app  # noqa: E402
from audit_api.extensions import db  # noqa: E402
from audit_api.models import Team, User  # noqa: E402
from audit_api.services import inspections as inspection_service  # noqa: E402
from audit_api.services.checklists import sync_checklists  # noqa: E402
from audit_api.services.demo import SECTION_ASSIGNEES, demo_id  # noqa: E402
from audit_api.services.demo import seed as seed_demo  # noqa: E402
from bench.results import Row, pass_fail, record  # noqa: E402
from bench.results import command as rerun_command  # noqa: E402
from bench.sync import sample_value  # noqa: E402 — one valid value per answer type, as the sync bench sends

PASSWORD = "bench-password-1"  # noqa: S105 — a throwaway database
KEY = "bench-40muc"
SECTION, OTHER, ITEMS = "B", "A", 40
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TARGET_MS = 1000

# In the page: time from a hash change to the 40 cards (MutationObserver on the document).
OPEN = """async ([hash, count]) => {
  const started = performance.now();
  const ready = () => document.querySelectorAll('article.item').length === count
    && document.querySelector('#section-title')?.textContent.startsWith('Phần ' + hash.slice(-1) + '.');
  const done = new Promise((resolve) => {
    const observer = new MutationObserver(() => { if (ready()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { childList: true, subtree: true });
  });
  location.hash = hash;
  await done;
  return performance.now() - started;
}"""
# The same reads with the bare IndexedDB API: the floor.
FLOOR = """async ([userId, inspectionId, checklistId]) => {
  const started = performance.now();
  const idb = await new Promise((resolve, reject) => {
    const request = indexedDB.open('audit-' + userId);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const read = (store, key, index) => new Promise((resolve, reject) => {
    const source = idb.transaction(store, 'readonly').objectStore(store);
    const request = index ? source.index(index).getAll(key) : source.get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await read('bundles', inspectionId);
  await read('checklists', checklistId);
  await read('answers', inspectionId, 'by_inspection');
  const elapsed = performance.now() - started;
  idb.close();
  return elapsed;
}"""


def bench_checklists(folder: Path) -> Path:
    """The project's checklists plus the bench checklist (section B with 40 items)."""
    target = folder / "checklists"
    shutil.copytree(ROOT / "checklists", target)
    source = (ROOT / "checklists" / "tthc-2018.yaml").read_text(encoding="utf-8")
    definition = yaml.safe_load(source)
    sections = {s["code"]: s for s in definition["sections"]}
    host_items = [i for i in sections["D"]["items"] if "H" in i["applies_to"] and i["answer_type"] != "sample"]
    moved = [i["code"] for i in host_items[:ITEMS - len(sections[SECTION]["items"])]]
    # An item's code starts with its section's: the moved items become B16, B17, … and every reference to
    # them (visible_if, rules, checks, wording) is renamed with them.
    renamed = {code: f"{SECTION}{16 + n}" for n, code in enumerate(moved)}
    text = re.sub(r"\b(" + "|".join(sorted(map(re.escape, renamed), key=len, reverse=True)) + r")\b",
                  lambda m: renamed[m.group(1)], source)
    definition = yaml.safe_load(text)
    definition["key"] = KEY
    definition["title"] = "Danh mục đo thời gian mở (40 mục trong Phần B)"
    sections = {s["code"]: s for s in definition["sections"]}
    sections[SECTION]["items"] += [i for i in sections["D"]["items"] if i["code"] in renamed.values()]
    sections["D"]["items"] = [i for i in sections["D"]["items"] if i["code"] not in renamed.values()]
    (target / f"{KEY}.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    return target


def build(folder: Path):
    checklists = bench_checklists(folder)
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'app.db'}",
                      "MEDIA_ROOT": str(folder / "media"), "CHECKLISTS_DIR": str(checklists),
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        report = sync_checklists(checklists)
        assert not report.errors, report.errors
        seed_demo(password=PASSWORD)
        team = db.session.get(Team, demo_id("team-2024"))
        users = {user.username: user for user in db.session.query(User)}
        inspection = inspection_service.create_inspection({
            "host_unit_id": demo_id("unit:LSN-H-VANLANG"), "sub_unit_ids": [], "checklist_key": KEY,
            "scheduled_on": date(2024, 6, 25), "location": "bench pwa"}, team=team, actor=users["admin"])
        inspection_service.set_assignments(inspection, [
            {"section_code": code, "user_id": users[name].id} for code, name in SECTION_ASSIGNEES.items()
        ], actor=users["admin"])
        section = next(s for s in inspection.checklist_version.definition["sections"] if s["code"] == SECTION)
        assert len(section["items"]) == ITEMS, len(section["items"])
        ids = (inspection.id, inspection.host_unit_id, section["items"], inspection.checklist_version.version,
               users["kiemtra1"].id)
        db.session.commit()
    return app, ids


def answer_all(client, inspection_id, unit_id, items) -> None:
    token = client.post("/api/v1/auth/login", json={"username": "kiemtra1", "password": PASSWORD}).get_json()
    visible = [i for i in items if not i.get("visible_if")]
    body = {"device_id": "bench", "mutations": [
        {"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(inspection_id), "base_version": None,
         "payload": {"item_code": i["code"], "unit_id": str(unit_id), "value": sample_value(i)},
         "client_time": "2024-06-25T09:30:00+07:00"} for i in visible]}
    response = client.post("/api/v1/sync", json=body, headers={"Authorization": f"Bearer {token['access_token']}"})
    statuses = {r["status"] for r in response.get_json()["results"]}
    assert statuses == {"applied"}, response.get_json()["results"][:3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opens", type=int, default=20, help="timed warm opens of the 40-item section")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the table
    folder = Path(tempfile.mkdtemp(prefix="bench-pwa-"))
    try:
        app, (inspection_id, unit_id, items, version, user_id) = build(folder)
        answer_all(app.test_client(), inspection_id, unit_id, items)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                                 env={**os.environ, "LANGUAGE": "vi"})
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN",
                                          service_workers="allow")
            page = context.new_page()
            page.goto(f"{url}/#/dang-nhap")
            page.wait_for_selector("html[data-ready='true']")
            page.fill("#username", "kiemtra1")
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_selector("#inspection-list")
            card = f"article[data-inspection-id='{inspection_id}']"
            page.click(f"{card} [data-action=download]")
            page.wait_for_selector(f"{card} a.btn-primary")
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            context.set_offline(True)
            base = f"#/kiem-tra/{inspection_id}/{unit_id}"
            page.goto(f"{url}/{base}/{OTHER}")
            page.wait_for_selector(f"#section-title:has-text('Phần {OTHER}.')")
            other_count = page.locator("article.item").count()
            answered = None
            warm, floor = [], []
            for n in range(args.opens + 2):  # the first two are warm-up
                elapsed = page.evaluate(OPEN, [f"{base}/{SECTION}", ITEMS])
                answered = page.locator("article.item[data-state=synced]").count()
                page.evaluate(OPEN, [f"{base}/{OTHER}", other_count])
                read = page.evaluate(FLOOR, [str(user_id), str(inspection_id), f"{KEY}@{version}"])
                if n >= 2:
                    warm.append(elapsed)
                    floor.append(read)
            cold = []
            for _ in range(5):
                page.goto("about:blank")
                page.goto(f"{url}/{base}/{SECTION}")
                page.wait_for_function("count => document.querySelectorAll('article.item').length === count", arg=ITEMS)
                cold.append(page.evaluate("performance.now()"))
            browser.close()
        server.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def row(label, values):
        ordered = sorted(values)
        return (f"| {label} | {statistics.median(values):.0f} | {ordered[int(0.9 * (len(ordered) - 1))]:.0f} | "
                f"{max(values):.0f} |")

    print(f"bench/pwa.py: a {ITEMS}-item section ({answered} answered and synced; the rest are conditional items, "
          f"hidden) opened offline from "
          f"IndexedDB in Chromium {CHROMIUM}, 1280x800, {os.cpu_count()} cores\n")
    print(f"| measure ({len(warm)} warm opens, {len(cold)} cold) | p50 ms | p90 ms | max ms |\n|---|---|---|---|")
    print(row("app: hash change → 40 cards (warm)", warm))
    print(row("app: reload offline → 40 cards (cold, from navigation start)", cold))
    print(row("floor: the same IndexedDB reads, no rendering", floor))
    worst = max(max(warm), max(cold))
    print(f"\nratio p50(warm) / p50(floor) = {statistics.median(warm) / statistics.median(floor):.1f}x; "
          f"slowest open {worst:.0f} ms (target < {TARGET_MS} ms): {'PASS' if worst < TARGET_MS else 'FAIL'}")
    record_rows(args, warm, cold, floor)
    return 0 if worst < TARGET_MS else 1


def record_rows(args, warm: list[float], cold: list[float], floor: list[float]) -> None:
    """This run's figures in bench/results/pwa.json, for bench/README.md's table."""
    rerun = rerun_command("pwa.py", *(["--opens", args.opens] if args.opens != 20 else []))
    floor_p50 = statistics.median(floor)
    reads = (f"the bare IndexedDB reads the screen needs (bundle, checklist, answers), same page, {len(floor)} "
             f"times: p50 **{floor_p50:.0f} ms** (max {max(floor):.0f})")
    what = f"PWA, a {ITEMS}-item section opened offline (Chromium, 1280×800)"
    record("pwa", [
        Row(benchmark=f"{what}, warm: by hash change", command=rerun, floor=reads,
            figure=f"hash change to the {ITEMS} cards, {len(warm)} opens: p50 **{statistics.median(warm):.0f} ms**, "
                   f"max {max(warm):.0f}",
            ratio=f"{statistics.median(warm) / floor_p50:.1f}× floor (p50)", target=f"every open < {TARGET_MS} ms",
            verdict=pass_fail(max(warm) < TARGET_MS)),
        Row(benchmark=f"{what}, cold: a reload", command=rerun, floor=reads,
            figure=f"navigation start to the {ITEMS} cards (shell from the service worker), {len(cold)} reloads: "
                   f"p50 **{statistics.median(cold):.0f} ms**, max {max(cold):.0f}",
            ratio=f"{statistics.median(cold) / floor_p50:.1f}× floor (p50)", target=f"every open < {TARGET_MS} ms",
            verdict=pass_fail(max(cold) < TARGET_MS)),
    ])


if __name__ == "__main__":
    sys.exit(main())
