"""Object-level rules of audit_api/access.py that later routes (sync) build on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from audit_api import access
from audit_api.errors import Forbidden, NotFound
from audit_api.extensions import db
from audit_api.models import Inspection, User
from audit_api.services.demo import demo_id


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


@pytest.fixture
def van_lang(app) -> Inspection:
    return db.session.get(Inspection, demo_id("insp-vanlang-2024"))  # sections A–C kiemtra1, D–F kiemtra2, G–H thuky


def test_members_write_their_assigned_sections_only(van_lang):
    access.require_section_write(user("kiemtra2"), van_lang, "D")
    with pytest.raises(Forbidden, match="thành viên khác"):
        access.require_section_write(user("kiemtra2"), van_lang, "A")


def test_lead_deputy_and_secretary_write_any_section(van_lang):
    for username in ("truongdoan", "kiemtra1", "thuky"):
        access.require_section_write(user(username), van_lang, "D")


def test_an_unassigned_section_is_open_to_every_member(van_lang):
    van_lang.assignments = [a for a in van_lang.assignments if a.section_code != "A"]
    db.session.flush()
    access.require_section_write(user("kiemtra2"), van_lang, "A")


def test_nobody_writes_once_the_inspection_or_the_section_is_submitted(van_lang):
    section = next(a for a in van_lang.assignments if a.section_code == "D")
    section.status = "submitted"
    with pytest.raises(Forbidden, match="Phần D"):
        access.require_section_write(user("kiemtra2"), van_lang, "D")
    van_lang.status = "approved"
    with pytest.raises(Forbidden, match="đã nộp hoặc đã duyệt"):
        access.require_section_write(user("truongdoan"), van_lang, "E")


def test_outsiders_do_not_even_see_the_inspection(van_lang):
    with pytest.raises(NotFound):
        access.require_section_write(user("kiemtra-tng"), van_lang, "A")
    with pytest.raises(Forbidden, match="Chỉ thành viên"):
        access.require_section_write(user("admin"), van_lang, "A")  # admins see it but are not on the team
