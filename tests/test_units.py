"""The unit tree: effective dates, types, nesting, succession."""

from __future__ import annotations

import uuid

from audit_api.services.demo import demo_id


def test_list_is_in_tree_order_with_depths(client, staff):
    rows = client.get("/api/v1/units?page_size=500", headers=staff).get_json()["data"]
    by_code = {row["code"]: row for row in rows}
    assert by_code["LSN"]["depth"] == 0
    assert by_code["LSN-H-VANLANG"]["depth"] == 1
    assert by_code["LSN-X-TANTHANH-2024"]["depth"] == 2
    order = [row["code"] for row in rows]
    assert order.index("LSN") < order.index("LSN-H-VANLANG") < order.index("LSN-X-TANTHANH-2024")
    assert by_code["LSN-X-TANTHANH-2024"]["parent_id"] == by_code["LSN-H-VANLANG"]["id"]


def test_filter_by_type_and_date_of_validity(client, staff):
    before = client.get("/api/v1/units?type=commune&valid_on=2024-06-24", headers=staff).get_json()["data"]
    assert {"LSN-X-TANTHANH-2024", "LSN-X-BACVIET"} <= {row["code"] for row in before}
    assert "LSN-X-TANTHANH" not in {row["code"] for row in before}
    after = client.get("/api/v1/units?type=commune&valid_on=2026-01-01", headers=staff).get_json()["data"]
    assert {row["code"] for row in after if row["code"].startswith("LSN")} == {"LSN-X-TANTHANH"}
    districts = client.get("/api/v1/units?type=district_legacy&valid_on=2026-01-01", headers=staff).get_json()["data"]
    assert districts == []


def test_pagination_windows_the_tree_order(client, staff):
    everything = client.get("/api/v1/units?page_size=500", headers=staff).get_json()["data"]
    first = client.get("/api/v1/units?page=1&page_size=3", headers=staff).get_json()
    second = client.get("/api/v1/units?page=2&page_size=3", headers=staff).get_json()
    assert first["data"] == everything[:3] and second["data"] == everything[3:6]
    assert first["pagination"] == {"page": 1, "page_size": 3, "total": len(everything),
                                   "pages": (len(everything) + 2) // 3}


def test_nested_tree_for_a_date(client, staff):
    tree = client.get("/api/v1/units/tree?valid_on=2024-06-24", headers=staff).get_json()["data"]
    lang_son = next(node for node in tree if node["code"] == "LSN")
    assert "TNG-X-1" not in {child["code"] for node in tree for child in node["children"]}  # not yet in 2024
    van_lang = next(node for node in lang_son["children"] if node["code"] == "LSN-H-VANLANG")
    assert {child["code"] for child in van_lang["children"]} == {"LSN-X-TANTHANH-2024", "LSN-X-BACVIET"}
    today = client.get("/api/v1/units/tree?valid_on=2026-11-24", headers=staff).get_json()["data"]
    lang_son_today = next(node for node in today if node["code"] == "LSN")
    assert "LSN-H-VANLANG" not in {child["code"] for child in lang_son_today["children"]}


def test_unit_detail_shows_succession_both_ways(client, staff):
    old = client.get(f"/api/v1/units/{demo_id('unit:LSN-X-TANTHANH-2024')}", headers=staff).get_json()
    assert old["successors"][0]["kind"] == "merge"
    assert old["successors"][0]["unit_id"] == str(demo_id("unit:LSN-X-TANTHANH"))
    new = client.get(f"/api/v1/units/{demo_id('unit:LSN-X-TANTHANH')}", headers=staff).get_json()
    assert new["predecessors"][0]["unit_name"] == "UBND xã Tân Thanh"
    district = client.get(f"/api/v1/units/{demo_id('unit:LSN-H-VANLANG')}", headers=staff).get_json()
    assert district["successors"][0]["kind"] == "dissolve" and district["successors"][0]["unit_id"] is None
    assert district["unit_type_label"].startswith("Huyện")


def test_unknown_unit_is_404(client, staff):
    response = client.get(f"/api/v1/units/{uuid.uuid4()}", headers=staff)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
