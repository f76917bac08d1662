"""Sync benchmark: 200-answer batches through the Flask app next to the raw-insert floor, in one run.

    cd /work/main && .venv/bin/python bench/sync.py [--batches N] [--db sqlite|postgresql] [--no-profile]

App: a fresh database (migrations, checklists, demo data), one fresh inspection per batch (tthc-2018 on a
district and two communes: ≥ 200 distinct (item, unit) slots, values valid for each answer type), a sign-in
through POST /api/v1/auth/login, then POST /api/v1/sync timed in-process through app.test_client() (HTTP
through gunicorn belongs to the load benchmark).
Floor: right after each batch, every row that batch inserted (answers, answer_revisions, sync_mutations,
findings, finding_answers, recommendations, change_log) is read back from the app's database and inserted
again with the bare DBAPI (stdlib sqlite3; psycopg for --db postgresql) into a fresh database with the app's
pragmas and table definitions: one BEGIN IMMEDIATE transaction, one executemany per table, COMMIT. A second
floor does the answers rows alone. --db postgresql makes throwaway databases on BENCH_PG_URL.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.schema import CreateIndex, CreateTable  # noqa: E402

from audit_api import create_app  # noqa: E402
from audit_api.extensions import db  # noqa: E402
from audit_api.models import Team, User  # noqa: E402
from audit_api.services import answer_batch, review  # noqa: E402
from audit_api.services import inspections as inspection_service  # noqa: E402
from audit_api.services.checklists import sync_checklists  # noqa: E402
from audit_api.services.demo import SECTION_ASSIGNEES, demo_id  # noqa: E402
from audit_api.services.demo import seed as seed_demo  # noqa: E402
from bench.results import Row, pass_fail, record  # noqa: E402
from bench.results import command as rerun_command  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105 — a throwaway database
USERNAME = "kiemtra1"  # the team's deputy: may write every section
BATCH, TARGET, DAY, WARMUP, PROFILED = 200, 5.0, 5, 1, 3
# host and sub-units on plan-2024 (team-2024, tthc-2018)
HOSTS = [("LSN-H-VANLANG", ["LSN-X-TANTHANH-2024", "LSN-X-BACVIET"]),
         ("LSN-H-TRANGDINH", ["LSN-X-QUOCVIET", "LSN-X-CHILANG"]),
         ("LSN-H-BACSON", ["LSN-X-TANHUONG", "LSN-X-TANLAP"])]
# Every table a batch inserts into, in foreign-key order: which rows belong to the batch's inspection, and
# the column the database numbers itself (left out of the insert, as the app leaves it out).
FLOOR_TABLES = {
    "answers": ("inspection_id = {p}", None),
    "answer_revisions": ("answer_id IN (SELECT id FROM answers WHERE inspection_id = {p})", "id"),
    "sync_mutations": ("inspection_id = {p}", None),
    "findings": ("inspection_id = {p}", None),
    "finding_answers": ("finding_id IN (SELECT id FROM findings WHERE inspection_id = {p})", None),
    "recommendations": ("inspection_id = {p}", None),
    "change_log": ("inspection_id = {p}", "seq"),
}
STUB_PARENTS = ("inspections", "units", "users")  # referenced by the floor tables: id only, copied once


def sample_value(item: dict):
    """A valid value for the item's answer type (answer_values.validate accepts it)."""
    options = [option["code"] for option in item.get("options") or []]
    return {"count": 7, "yes_no_na": "yes", "ratio": {"numerator": 3, "denominator": 4}, "percent": 50,
            "number": 12.5, "text": "Đã kiểm tra hồ sơ lưu trữ.", "select": options[:1] and options[0],
            "multiselect": options[:1], "date": "2024-06-01", "document_ref": {"number": "12/KH-UBND"},
            "sample": []}[item["answer_type"]]


# --- the app ----------------------------------------------------------------------------------------------


def build_app(url: str, tmp: Path):
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp / "media"),
                      "CHECKLISTS_DIR": str(ROOT / "checklists"), "RATELIMIT_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        report = sync_checklists(ROOT / "checklists")
        assert not report.errors, report.errors
        seed_demo(password=PASSWORD)
        db.session.commit()
    return app


def create_inspections(app, count: int) -> list[tuple[uuid.UUID, list[tuple[dict, str]]]]:
    """`count` fresh inspections, each with its first 200 answer slots (checklist item, unit id)."""
    made = []
    with app.app_context():
        team = db.session.get(Team, demo_id("team-2024"))
        users = {user.username: user for user in db.session.scalars(sa.select(User))}
        for n in range(count):
            host, subs = HOSTS[n % len(HOSTS)]
            inspection = inspection_service.create_inspection({
                "host_unit_id": demo_id(f"unit:{host}"), "sub_unit_ids": [demo_id(f"unit:{c}") for c in subs],
                "checklist_key": "tthc-2018", "scheduled_on": date(2024, 6, 25), "location": f"bench {n}",
            }, team=team, actor=users["admin"])
            inspection_service.set_assignments(inspection, [
                {"section_code": code, "user_id": users[name].id} for code, name in SECTION_ASSIGNEES.items()
            ], actor=users["admin"])
            slots = [(item, str(unit.id)) for unit in [inspection.host_unit, *inspection.sub_units]
                     for section in inspection.checklist_version.definition["sections"] for item in section["items"]
                     if unit.unit_type in item["applies_to"] and not item.get("visible_if")]
            assert len(slots) >= BATCH, f"only {len(slots)} answer slots"
            made.append((inspection.id, slots[:BATCH]))
        db.session.commit()
    return made


def batch_body(inspection_id, slots) -> dict:
    return {"device_id": "bench-tablet", "mutations": [
        {"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(inspection_id), "base_version": None,
         "payload": {"item_code": item["code"], "unit_id": unit_id, "value": sample_value(item)},
         "client_time": "2024-06-25T09:30:00+07:00"} for item, unit_id in slots]}


def post_batch(client, headers, body) -> float:
    started = time.perf_counter()
    response = client.post("/api/v1/sync", headers=headers, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    refused = [r for r in response.get_json()["results"] if r["status"] != "applied"]
    assert not refused, refused[:3]
    return elapsed


# --- the floor --------------------------------------------------------------------------------------------


class Floor:
    """Bare DBAPI inserts of a batch's rows into a fresh database with the app's table definitions."""

    def __init__(self, app, url: str):
        self.app = app
        with app.app_context():
            dialect = db.engine.dialect
            self.pg = dialect.name == "postgresql"
            tables = [db.metadata.tables[name] for name in FLOOR_TABLES]
            self.columns = {t.name: [c.name for c in t.columns if c.name != FLOOR_TABLES[t.name][1]] for t in tables}
            ddl = [f"CREATE TABLE {name} (id {db.metadata.tables[name].c.id.type.compile(dialect)} PRIMARY KEY)"
                   for name in STUB_PARENTS]
            ddl += [str(CreateTable(t).compile(dialect=dialect)) for t in tables]
            ddl += [str(CreateIndex(index).compile(dialect=dialect)) for t in tables for index in t.indexes]
            parents = {name: self._app_rows(f"SELECT id{'::text' if self.pg else ''} FROM {name}")  # noqa: S608
                       for name in STUB_PARENTS}
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.replace("+psycopg", ""))
        else:  # the app's pragmas (extensions.configure_sqlite); transactions opened by hand
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL",
                           "temp_store=MEMORY"):
                self.conn.execute(f"PRAGMA {pragma}")
        self.mark = "%s" if self.pg else "?"
        cursor = self.conn.cursor()
        for statement in ddl:
            cursor.execute(statement)
        for name, rows in parents.items():
            cursor.executemany(f"INSERT INTO {name} (id) VALUES ({self.mark})", rows)  # noqa: S608
        self.conn.commit()

    def _app_rows(self, sql: str, params=()) -> list[tuple]:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            raw.close()

    def rows_of(self, inspection_id: uuid.UUID) -> dict[str, list[tuple]]:
        """The rows the app stored for one batch, as stored (PostgreSQL: as text, for the server to cast)."""
        key = str(inspection_id) if self.pg else inspection_id.hex
        with self.app.app_context():
            return {name: self._app_rows(
                f"SELECT {', '.join(c + '::text' if self.pg else c for c in self.columns[name])} "  # noqa: S608
                f"FROM {name} WHERE {where.format(p=self.mark)}", (key,)) for name, (where, _) in FLOOR_TABLES.items()}

    def insert(self, rows: dict[str, list[tuple]], tables=tuple(FLOOR_TABLES)) -> float:
        """One timed write transaction: BEGIN IMMEDIATE (SQLite), an executemany per table, COMMIT."""
        started = time.perf_counter()
        cursor = self.conn.cursor()
        if not self.pg:
            cursor.execute("BEGIN IMMEDIATE")
        for name in tables:
            columns = self.columns[name]
            cursor.executemany(f"INSERT INTO {name} ({', '.join(columns)}) "  # noqa: S608
                               f"VALUES ({', '.join([self.mark] * len(columns))})", rows[name])
        self.conn.commit() if self.pg else cursor.execute("COMMIT")
        return time.perf_counter() - started


# --- where the time goes ---------------------------------------------------------------------------------

RUN, VIEW = ("services/answer_batch.py", "apply_run"), ("api/sync.py", "sync")
# label: [(function, called from (None: anywhere), sign)] — summed cumulative time under cProfile
COSTS = {
    "answers: parse envelopes (quick parser, marshmallow fallback)": [(("services/sync.py", "_fast_candidate"),
                                                                        None, 1)],
    "answers: locked read of the inspection's answers (_open)": [(("services/answer_batch.py", "_open"), None, 1)],
    "answers: validate and apply in memory (_apply minus _open)": [(("services/answer_batch.py", "_apply"), None, 1),
                                                                    (("services/answer_batch.py", "_open"), None, -1)],
    "answers: executemany answers, revisions, sync_mutations (_flush)": [(("services/answer_batch.py", "_flush"),
                                                                          None, 1)],
    "per batch: rules engine (rules.regenerate)": [(("services/rules.py", "regenerate"), None, 1)],
    "per batch: inspection status (_refresh_status)": [(("services/review.py", "_refresh_status"), None, 1)],
    "per batch: commit (change_log executemany, cursor, COMMIT)": [(("services/changes.py", "commit"), VIEW, 1)],
    "outside the view: Flask, JWT, body schema, response": [(("bench/sync.py", "post_batch"), None, 1),
                                                             (VIEW, None, -1)],
    "(inside the rows above) json.dumps + json.loads": [(("json/__init__.py", "dumps"), None, 1),
                                                        (("json/__init__.py", "loads"), None, 1)],
}


def wall_split(client, headers, bodies) -> None:
    """Unprofiled: time the answer runs and the rules step by wrapping them (restored afterwards)."""
    spent = {"apply": 0.0, "rules": 0.0}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    originals = answer_batch.apply_run, review.after_answers_changed
    answer_batch.apply_run, review.after_answers_changed = timed("apply", originals[0]), timed("rules", originals[1])
    try:
        total = sum(post_batch(client, headers, body) for _, body in bodies)
    finally:
        answer_batch.apply_run, review.after_answers_changed = originals
    rest = total - spent["apply"] - spent["rules"]
    print(f"\nwall clock, no profiler, {len(bodies)} batches: {total / len(bodies) * 1000:.0f} ms a batch = "
          + ", ".join(f"{label} {value / len(bodies) * 1000:.0f} ms ({value / total:.0%})" for label, value in
                      (("answer runs (validate, apply, bulk write)", spent["apply"]),
                       ("rules + status", spent["rules"]),
                       ("rest (Flask, JWT, body schema, commit, response)", rest))))


def where_time_goes(profiler: cProfile.Profile, batches: int) -> None:
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)

    def cumulative(function, caller) -> float:
        total = 0.0
        for (file, _, name), (_, _, _, cum, callers) in stats.items():
            if file.endswith(function[0]) and name == function[1]:
                total += cum if caller is None else sum(
                    c[3] for (f, _, n), c in callers.items() if f.endswith(caller[0]) and n == caller[1])
        return total

    total = cumulative(("bench/sync.py", "post_batch"), None)
    print(f"\ncProfile over {batches} batches ({total / batches * 1000:.0f} ms a batch under the profiler, "
          "which inflates Python-heavy parts):\n| part | ms a batch | share |\n|---|---|---|")
    for label, parts in COSTS.items():
        spent = sum(sign * cumulative(function, caller) for function, caller, sign in parts)
        print(f"| {label} | {spent / batches * 1000:.1f} | {spent / total:.0%} |")
    print("\ntop 15 app functions by cumulative time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(r"audit_api/", 15)


# --- running ----------------------------------------------------------------------------------------------


def databases(kind: str, tmp: Path):
    """(app url, [floor urls], cleanup): fresh SQLite files, or throwaway PostgreSQL databases."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'app.sqlite3'}", [f"sqlite:///{tmp / f'floor{n}.sqlite3'}" for n in (1, 2)], \
            lambda: None
    server = sa.make_url(os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    names = [f"audit_bench_{role}_{uuid.uuid4().hex[:8]}" for role in ("app", "floor", "floor_answers")]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")

    def cleanup():
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    urls = [server.set(database=name).render_as_string(hide_password=False) for name in names]
    return urls[0], urls[1:], cleanup


def row(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"| {label} | " + " | ".join(f"{t * 1000:.1f}" for t in (statistics.median(times), p90, ordered[-1])) + " |"


def run(args, app_url: str, floor_urls: list[str], tmp: Path) -> None:
    print(f"bench/sync.py: {args.db}, {args.batches} batches of {BATCH} answers, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}, SQLAlchemy {sa.__version__}"
          + (f", SQLite {sqlite3.sqlite_version}" if args.db == "sqlite" else ""))
    started = time.perf_counter()
    app = build_app(app_url, tmp)
    extra = 0 if args.no_profile else 2 * PROFILED
    bodies = [(inspection_id, batch_body(inspection_id, slots))
              for inspection_id, slots in create_inspections(app, WARMUP + args.batches + DAY + extra)]
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD})
    assert login.status_code == 200, login.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    floor, answers_floor = Floor(app, floor_urls[0]), Floor(app, floor_urls[1])
    print(f"set-up (migrate, checklists, demo, {len(bodies)} inspections, sign-in): "
          f"{time.perf_counter() - started:.1f} s")

    # 1 + 2: each batch through the app, then the same rows through both floors (interleaved, same run)
    app_times, floor_times, answers_times = [], [], []
    for n, (inspection_id, body) in enumerate(bodies[:WARMUP + args.batches]):
        app_time = post_batch(client, headers, body)
        rows = floor.rows_of(inspection_id)
        assert len(rows["answers"]) == BATCH, len(rows["answers"])
        floor_time, answers_time = floor.insert(rows), answers_floor.insert(rows, tables=("answers",))
        if n >= WARMUP:
            for times, value in ((app_times, app_time), (floor_times, floor_time), (answers_times, answers_time)):
                times.append(value)

    # 4: a full day, 5 inspections × 200 answers sent as 5 batches back to back
    rest = bodies[WARMUP + args.batches:]
    day_started = time.perf_counter()
    for _, body in rest[:DAY]:
        post_batch(client, headers, body)
    day_seconds = time.perf_counter() - day_started

    # 3: ratios and verdicts
    app_p50 = statistics.median(app_times)
    ratios = {"all rows": app_p50 / statistics.median(floor_times),
              "answers only": app_p50 / statistics.median(answers_times)}
    # The target is against the floor of every row the batch writes (the same rows); the answers-only floor is
    # printed to show what the rules engine and the bookkeeping tables add, with no verdict of its own.
    verdicts = {"all rows": "PASS" if ratios["all rows"] <= TARGET else "FAIL", "answers only": "for reference"}
    print(f"\nfloor rows of one batch ({'sqlite3' if args.db == 'sqlite' else 'psycopg'} executemany, one "
          f"{'BEGIN IMMEDIATE ' if args.db == 'sqlite' else ''}transaction): "
          + ", ".join(f"{len(v)} {k}" for k, v in rows.items()))
    print(f"\n| measure ({len(app_times)} batches of {BATCH} answers) | p50 ms | p90 ms | max ms |\n|---|---|---|---|")
    print(row("app: POST /api/v1/sync (test_client)", app_times))
    print(row(f"floor: same rows, all {len(FLOOR_TABLES)} tables", floor_times))
    print(row("floor: answers rows only", answers_times))
    print()
    for floor_name, ratio in ratios.items():
        target = f"target <= {TARGET:.0f}x" if floor_name == "all rows" else "no target"
        print(f"ratio p50(app) / p50(floor, {floor_name}) = {ratio:.1f}x ({target}): {verdicts[floor_name]}")
    print(f"full day: {DAY} inspections x {BATCH} answers in {DAY} batches: {day_seconds:.2f} s, "
          f"{DAY * BATCH / day_seconds:.0f} answers/s")
    with app.app_context():
        server = ".".join(map(str, db.engine.dialect.server_version_info or ()))
    record_rows(args, server, rows, app_times, floor_times, answers_times, ratios, day_seconds)

    if "FAIL" in verdicts.values() and not args.no_profile:
        wall_split(client, headers, rest[DAY:DAY + PROFILED])
        profiler = cProfile.Profile()
        for _, body in rest[DAY + PROFILED:]:
            profiler.runcall(post_batch, client, headers, body)
        where_time_goes(profiler, PROFILED)


def record_rows(args, server, rows, app_times, floor_times, answers_times, ratios, day_seconds) -> None:
    """This run's figures in bench/results/sync-<db>.json, for bench/README.md's table."""
    database = {"sqlite": f"SQLite {server}", "postgresql": f"PostgreSQL {server}, loopback"}[args.db]
    driver = "`sqlite3` `executemany`, one `BEGIN IMMEDIATE` transaction, the app's pragmas" if args.db == "sqlite" \
        else "psycopg `executemany`, one transaction"
    app_p50, floor_p50 = statistics.median(app_times) * 1000, statistics.median(floor_times) * 1000
    figure = (f"`POST /api/v1/sync` in-process, {len(app_times)} batches: p50 **{app_p50:.1f} ms** "
              f"(max {max(app_times) * 1000:.1f}); a full day ({DAY} × {BATCH} answers) at "
              f"{DAY * BATCH / day_seconds:.0f} answers/s")
    rerun = rerun_command("sync.py", *sys.argv[1:])
    record(f"sync-{args.db}", [
        Row(benchmark=f"sync, {BATCH}-answer batch ({database})", command=rerun,
            floor=f"raw {driver}: the same {sum(map(len, rows.values())):,} rows in {len(rows)} tables, "
                  f"p50 **{floor_p50:.1f} ms**",
            figure=figure, ratio=f"{ratios['all rows']:.1f}×", target=f"p50 ≤ {TARGET:.0f}× floor",
            verdict=pass_fail(ratios["all rows"] <= TARGET)),
        Row(benchmark=f"sync, {BATCH}-answer batch ({database}), against the answers rows alone",
            command=rerun, floor=f"the {len(rows['answers'])} `answers` rows alone, same driver: "
                                 f"p50 {statistics.median(answers_times) * 1000:.1f} ms",
            figure=f"p50 {app_p50:.1f} ms (the same batches)", ratio=f"{ratios['answers only']:.1f}×",
            target="none: shows what the rules engine and the bookkeeping tables add", verdict="INFO"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20, help="timed 200-answer batches (default 20)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile even when the target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as folder:
        app_url, floor_urls, cleanup = databases(args.db, Path(folder))
        try:
            run(args, app_url, floor_urls, Path(folder))
        finally:
            cleanup()
    return 0  # a missed target is reported, not an error: speed is never asserted


if __name__ == "__main__":
    sys.exit(main())
