"""audit_api: inspections of administrative-procedure control — the API and the offline tablet app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .config import load_settings


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: configuration → extensions → security headers → errors → API blueprints → CLI."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.update(load_settings(overrides))
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    _init_extensions(app)
    _init_security(app)
    _init_errors(app)
    _register_api(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401 — the whole metadata must be known to Alembic
    from .extensions import configure_sqlite, db, jwt, limiter, mark_deferred_start, migrate, report_unreachable
    from .services import changes  # noqa: F401 — registers the change-log hook on session commit

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        report_unreachable(db.engine)
    app.before_request(lambda: mark_deferred_start(app))  # before the access hook's first query
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    jwt.init_app(app)
    limiter.init_app(app)
    from .storage import make_store

    app.extensions["media_store"] = make_store(app.config)
    if app.config["PROXY_FIX_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_HOPS"], x_proto=1)


def _init_security(app: Flask) -> None:
    from . import security

    security.register(app)  # its before_request runs first: OPTIONS and oversized bodies before authentication


def _init_errors(app: Flask) -> None:
    from . import access
    from .errors import register_error_handlers, register_jwt_callbacks
    from .extensions import jwt
    from .services.auth import register_jwt_loaders

    register_error_handlers(app)
    register_jwt_callbacks(jwt)
    register_jwt_loaders(jwt)
    access.register(app)


def _register_api(app: Flask) -> None:
    from .access import document_security
    from .api import register_blueprints
    from .extensions import api
    from .web import blp as tablet_app

    api.init_app(app)
    document_security(api)
    register_blueprints(app, api)
    app.register_blueprint(tablet_app)  # the PWA at /, its service worker at /sw.js


def _register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)
