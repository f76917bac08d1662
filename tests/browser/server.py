"""The real app on loopback for the browser tests, in its own process.

    python -m tests.browser.server <folder>

Builds a fresh SQLite database in <folder> the way `make setup` does (migrations, checklists, demo data with
the tests' demo password; other settings from the environment, as in production), serves it with werkzeug's
threaded server on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves until killed.
Its own process: the app's extensions (limiter, engines) are module-level objects that a second app in the
pytest process would share with the API tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import flask_migrate
from werkzeug.serving import make_server

from audit_api import create_app
from audit_api.extensions import db
from audit_api.services.checklists import sync_checklists
from audit_api.services.demo import seed
from tests.support import CHECKLISTS_DIR, DEMO_PASSWORD


def build(folder: Path):
    app = create_app({
        "APP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'audit.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "CHECKLISTS_DIR": str(CHECKLISTS_DIR),
        "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        flask_migrate.upgrade()
        report = sync_checklists(CHECKLISTS_DIR)
        assert not report.errors, report.errors
        seed(password=DEMO_PASSWORD)
        db.session.commit()
    return app


def main() -> None:
    folder = Path(sys.argv[1])
    app = build(folder)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
