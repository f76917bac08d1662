"""Thin blueprints under /api/v1, one per resource."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory


def register_blueprints(app: Flask, api) -> None:
    from . import actions, auth, checklists, documents, health, inspections, photos, plans, sync, teams, units, users
    from .findings import blp as findings_blp

    for module in (health, auth, checklists, units, users, teams, plans, inspections, sync, photos, documents,
                   actions):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")
    api.register_blueprint(photos.config_blp, url_prefix="/api/v1/config")
    api.register_blueprint(documents.scoped_blp, url_prefix="/api/v1")
    api.register_blueprint(findings_blp, url_prefix="/api/v1")  # its routes name their own resource paths
    _serve_docs_assets(app)


def _serve_docs_assets(app: Flask) -> None:
    """Swagger UI's files come from the swagger-ui-bundle package, so /api/docs works offline."""
    import swagger_ui_bundle

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/api/docs/assets/<path:filename>", endpoint="swagger_ui_assets")
    def swagger_ui_assets(filename: str):
        """Swagger UI static files."""
        return send_from_directory(assets, filename, max_age=86400)
