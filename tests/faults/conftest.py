"""Fault tests: the app under gunicorn on its own database and media folder (never the suite's).

On SQLite a file in a temporary folder; with TEST_DATABASE_URL (CI's PostgreSQL leg) a database made for the
run on the same server and dropped afterwards. The suite's rolled-back transaction and limiter reset are
turned off here: the app runs in other processes. What the harness measured is printed at the end of the
run ("fault harness" section) and written to test-artifacts/faults/<database>.txt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.harness import Observer, app_env, build, throwaway_database
from tests.support import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "faults"
REPORT: list[str] = []


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.no_db_transaction)


@pytest.fixture(autouse=True)
def db_session():
    """Overrides the suite's rolled-back transaction: the app runs in gunicorn on its own database."""
    yield None


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Overrides the suite's limiter reset: the limiter lives in the gunicorn workers."""


@dataclass
class FaultApp:
    folder: Path
    database_url: str
    env: dict[str, str]
    media_root: Path
    observer: Observer

    @property
    def dialect(self) -> str:
        return self.observer.dialect


@pytest.fixture(scope="session")
def fault_app(tmp_path_factory) -> Iterator[FaultApp]:
    """A database built as a release builds it (migrations, checklists, demo data), and a media folder."""
    folder = tmp_path_factory.mktemp("faults")
    with throwaway_database(folder) as url:
        env = app_env(url, folder / "media")
        build(env)
        observer = Observer(url)
        try:
            yield FaultApp(folder, url, env, folder / "media", observer)
        finally:
            observer.close()


@pytest.fixture(scope="session")
def fault_report(fault_app):
    """report(line): a line of the harness's figures, shown after the run and kept in test-artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{fault_app.dialect}.txt"
    path.write_text("")

    def report(line: str) -> None:
        REPORT.append(f"[{fault_app.dialect}] {line}")
        with path.open("a") as out:
            out.write(line + "\n")

    return report


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("fault harness")
        for line in REPORT:
            terminalreporter.write_line(line)
