"""The schema comes only from the migrations, and the models do not drift from them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from audit_api.extensions import db


def test_models_match_the_migrated_schema(app):
    with app.app_context():
        connection = db.session.connection()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_core_constraints_exist(app):
    with app.app_context():
        inspector = sa.inspect(db.session.connection())
        answers = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("answers")}
        assert ("inspection_id", "item_code", "unit_id") in answers
        assert {tuple(c["column_names"]) for c in inspector.get_unique_constraints("checklist_versions")} == {
            ("key", "version")
        }
        assert inspector.get_pk_constraint("sync_mutations")["constrained_columns"] == ["id"]
        photo_fks = {fk["referred_table"] for fk in inspector.get_foreign_keys("photos")}
        assert {"inspections", "users"} <= photo_fks
        link_fks = {fk["referred_table"] for fk in inspector.get_foreign_keys("photo_links")}
        assert {"inspections", "units", "findings", "users"} <= link_fks
