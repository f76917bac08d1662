"""Publishing checklists (validate, sync, immutability, overrides) and reading them through the API."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import ChecklistVersion, ThresholdOverride
from audit_api.services.checklists import effective_threshold, get_version, sync_checklists

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"

SMALL = textwrap.dedent("""\
    key: thu-nghiem
    version: 1
    title: "Danh mục thử nghiệm"
    regime: {valid_from: 2025-07-01, valid_to: null, label: "Nghị định số 118/2025/NĐ-CP"}
    legal_refs:
      ND118-2025: {title: "Nghị định số 118/2025/NĐ-CP", short: "NĐ 118", effective_from: 2025-07-01}
    sections:
      - code: D
        title: "Tiếp nhận, giải quyết hồ sơ"
        items:
          - code: D2
            question: "Tỷ lệ hồ sơ giải quyết đúng hạn"
            answer_type: ratio
            numerator_label: "Đúng hạn"
            denominator_label: "Đã giải quyết"
            applies_to: [X]
            legal_refs: [{doc: ND118-2025, cite: "Điều 19"}]
            threshold: {metric: percent, op: ">=", value: 95, source: "Mặc định", year: 2025}
            rules:
              - kind: finding
                when: fails_threshold
                text: "Tỷ lệ đúng hạn đạt {percent}% ({numerator}/{denominator}), chưa đạt {threshold}%."
                recommendations: ["Tăng cường đôn đốc giải quyết hồ sơ tại {unit}."]
""")


@pytest.fixture
def checklist_dir(tmp_path) -> Path:
    (tmp_path / "shared").mkdir()
    shutil.copy(CHECKLISTS / "shared" / "unit-types.yaml", tmp_path / "shared")
    (tmp_path / "thresholds").mkdir()
    (tmp_path / "thu-nghiem.yaml").write_text(SMALL, encoding="utf-8")
    return tmp_path


def versions(key: str) -> list[ChecklistVersion]:
    return list(db.session.scalars(sa.select(ChecklistVersion).filter_by(key=key)))


def test_sync_publishes_then_is_idempotent(app, checklist_dir):
    first = sync_checklists(checklist_dir)
    assert first.errors == [] and first.created == ["thu-nghiem v1"]
    second = sync_checklists(checklist_dir)
    assert second.errors == [] and second.created == [] and second.unchanged == ["thu-nghiem v1"]
    assert len(versions("thu-nghiem")) == 1


def test_changed_content_under_a_published_version_is_refused_naming_file_item_and_difference(app, checklist_dir):
    sync_checklists(checklist_dir)
    db.session.commit()
    path = checklist_dir / "thu-nghiem.yaml"
    path.write_text(SMALL.replace("Tỷ lệ hồ sơ giải quyết đúng hạn", "Tỷ lệ đúng hạn (sửa)"), encoding="utf-8")
    (checklist_dir / "khac.yaml").write_text(SMALL.replace("thu-nghiem", "khac"), encoding="utf-8")
    report = sync_checklists(checklist_dir)
    assert len(report.errors) == 1
    message = report.errors[0]
    assert str(path) in message and "mục D2" in message and "question" in message
    assert "Tỷ lệ đúng hạn (sửa)" in message
    db.session.rollback()
    assert versions("khac") == []  # all or nothing
    published = versions("thu-nghiem")[0].definition["sections"][0]["items"][0]
    assert published["question"] == "Tỷ lệ hồ sơ giải quyết đúng hạn"


def test_a_new_version_can_be_published_beside_the_old(app, checklist_dir):
    sync_checklists(checklist_dir)
    (checklist_dir / "thu-nghiem-v2.yaml").write_text(
        SMALL.replace("version: 1", "version: 2").replace("95", "98"), encoding="utf-8")
    report = sync_checklists(checklist_dir)
    assert report.errors == [] and report.created == ["thu-nghiem v2"]
    assert sorted(v.version for v in versions("thu-nghiem")) == [1, 2]


def test_published_versions_cannot_be_updated_in_place(app, checklist_dir):
    sync_checklists(checklist_dir)
    version = versions("thu-nghiem")[0]
    version.title = "khác"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_province_threshold_override_applies_from_its_year(app, checklist_dir):
    (checklist_dir / "thresholds" / "lang-son.yaml").write_text(textwrap.dedent("""\
        province: LSN
        checklist: thu-nghiem
        overrides:
          - {item: D2, value: 98, year: 2026, source: "Kế hoạch CCHC năm 2026 của UBND tỉnh Lạng Sơn"}
    """), encoding="utf-8")
    report = sync_checklists(checklist_dir)
    assert report.errors == [] and report.thresholds == 1
    version = get_version("thu-nghiem", 1)
    assert effective_threshold(version, "D2", "LSN", 2026)["value"] == 98
    assert effective_threshold(version, "D2", "LSN", 2026)["source"].startswith("Kế hoạch CCHC năm 2026")
    assert effective_threshold(version, "D2", "LSN", 2025)["value"] == 95
    assert effective_threshold(version, "D2", "HNI", 2026)["value"] == 95
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThresholdOverride)) >= 1


def test_override_of_an_unknown_item_is_refused(app, checklist_dir):
    (checklist_dir / "thresholds" / "sai.yaml").write_text(
        "province: LSN\nchecklist: thu-nghiem\noverrides:\n  - {item: Z9, value: 1, year: 2026, source: x}\n",
        encoding="utf-8")
    report = sync_checklists(checklist_dir)
    assert any("sai.yaml" in e and "Z9" in e for e in report.errors)


def test_cli_validate_names_file_item_and_reason_for_a_malformed_file(runner, tmp_path):
    broken = tmp_path / "hong.yaml"
    broken.write_text(SMALL.replace("{percent}%", "{p}%").replace("applies_to: [X]", "applies_to: [X, nowhere]"),
                      encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}: mục D2, rules[0].text: chỗ trống {{p}} không được quy tắc điền" in result.output
    assert f"{broken}: mục D2, applies_to: loại đơn vị hoặc nhóm 'nowhere'" in result.output


def test_cli_validate_refuses_unknown_keys_and_bad_yaml(runner, tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text(SMALL.replace("answer_type: ratio\n", "answer_type: ratio\n        requierd: true\n"),
                    encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(typo)])
    assert result.exit_code == 1 and "mục D2, requierd: Trường không được phép" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: [unclosed", encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(bad)])
    assert result.exit_code == 1 and "YAML không hợp lệ" in result.output


def test_cli_validate_accepts_the_repository_files(runner):
    result = runner.invoke(args=["checklists", "validate", *map(str, sorted(CHECKLISTS.glob("*.yaml")))])
    assert result.exit_code == 0, result.output
    assert "OK  tthc-2025.yaml: tthc-2025 v1" in result.output


def test_cli_sync_is_idempotent_on_the_repository_files(runner):
    result = runner.invoke(args=["checklists", "sync"])
    assert result.exit_code == 0, result.output
    assert "mới" not in result.output and "không đổi  tthc-2025 v1" in result.output


# --- API ---------------------------------------------------------------------------------------------


def test_list_names_both_checklists(client, staff):
    body = client.get("/api/v1/checklists", headers=staff).get_json()
    keys = {(row["key"], row["version"]) for row in body["data"]}
    assert {("tthc-2025", 1), ("tthc-2018", 1)} <= keys
    row = next(r for r in body["data"] if r["key"] == "tthc-2025")
    assert len(row["sha256"]) == 64 and row["item_count"] >= 1 and row["title"]
    assert body["pagination"]["total"] == len(body["data"])


def test_definition_has_sections_and_items_with_an_etag_and_304(client, staff):
    response = client.get("/api/v1/checklists/tthc-2025/versions/1", headers=staff)
    assert response.status_code == 200
    body = response.get_json()
    item = body["sections"][0]["items"][0]
    assert {"code", "question", "answer_type", "legal_refs", "rules", "evidence", "applies_to"} <= set(item)
    etag = response.headers["ETag"]
    assert etag == f'"{body["sha256"]}"'
    cached = client.get("/api/v1/checklists/tthc-2025/versions/1", headers={**staff, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == etag
    stale = client.get("/api/v1/checklists/tthc-2025/versions/1", headers={**staff, "If-None-Match": '"old"'})
    assert stale.status_code == 200


def test_unknown_version_is_a_404_problem(client, staff):
    response = client.get("/api/v1/checklists/tthc-2025/versions/99", headers=staff)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "tthc-2025" in response.get_json()["detail"]


def test_validation_endpoint_reports_problems_without_writing(client, admin):
    ok = client.post("/api/v1/checklists/validation", headers=admin, json={"yaml": SMALL}).get_json()
    assert ok["valid"] is True and ok["key"] == "thu-nghiem" and ok["item_count"] == 1
    broken = client.post("/api/v1/checklists/validation", headers=admin,
                         json={"yaml": SMALL.replace("{threshold}", "{nguong}"), "filename": "x.yaml"}).get_json()
    assert broken["valid"] is False
    assert any(p.startswith("x.yaml: mục D2") and "{nguong}" in p for p in broken["problems"])
    assert versions("thu-nghiem") == []


def test_repository_override_example_applies_to_its_province_only(app):
    version = get_version("tthc-2025", 1)
    assert effective_threshold(version, "E3", "LDG", 2025)["value"] == 50
    assert effective_threshold(version, "E3", "LDG", 2024)["value"] == 80  # before the province's own target
    assert effective_threshold(version, "E3", "LSN", 2025)["value"] == 80
