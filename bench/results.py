"""One table of every benchmark: each bench records its rows here, `make bench` rebuilds bench/README.md's table.

    record("sync-sqlite", [Row(...), ...])   # at the end of a bench run: bench/results/sync-sqlite.json
    .venv/bin/python bench/results.py        # rewrite the table between the markers in bench/README.md

A bench writes its own file each run, replacing the previous one; the table is built from every file in
bench/results/, so a bench not run this time keeps its last figures, with the date they were measured.
Under the table, a generated summary counts the verdicts and names every row that misses its target, with
the load average it was measured at; why it misses is in that bench's section of bench/README.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
VERDICTS = ("PASS", "FAIL", "INFO")  # INFO: a figure printed for reference, with no target of its own
# The load average when this module was imported, which every bench does as it starts: what other sessions were
# running before the bench added its own load (the value at record() time includes it).
LOAD_AT_START = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
# The table's order (the issue's): a result file named NAME or NAME-something sorts with NAME; others last.
ORDER = ("sync-sqlite", "sync-postgresql", "sync", "photos-local", "photos-s3", "photos", "documents", "pwa", "load")


@dataclasses.dataclass(frozen=True)
class Row:
    benchmark: str  # what is measured, in a few words
    command: str  # how to run it again
    floor: str  # what the figure is compared with, and its value
    figure: str  # the project's measured value
    ratio: str  # figure against floor, as the target states it ("4.3x", "41 %")
    target: str  # the target ("p50 <= 5x floor")
    verdict: str  # PASS, FAIL or INFO

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")


def pass_fail(met: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if met else "FAIL"


def command(script: str, *args: object) -> str:
    """The command line that runs a bench again from the project's root: `.venv/bin/python bench/<script> ...`."""
    return shlex.join([".venv/bin/python", f"bench/{script}", *map(str, args)])


def record(name: str, rows: list[Row]) -> Path:
    """Replace bench/results/<name>.json with this run's rows and where and when they were measured."""
    if not rows:
        raise ValueError(f"{name}: no rows to record")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    payload = {
        "name": name,
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": None if load is None else round(load, 2),  # 1 minute, at the end of the run
        "load_average_at_start": None if LOAD_AT_START is None else round(LOAD_AT_START, 2),
        "rows": [dataclasses.asdict(row) for row in rows],
    }
    temporary = path.with_suffix(".json.tmp")  # a reader never sees half a file
    temporary.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    print(f"recorded {len(rows)} row(s) in {path.relative_to(HERE.parent)}")
    return path


def _order(path: Path) -> tuple[int, str]:
    name = path.stem
    for n, known in enumerate(ORDER):
        if name == known or name.startswith(known + "-"):
            return n, name
    return len(ORDER), name


def runs() -> list[dict]:
    """Every recorded run, in the table's order."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(RESULTS.glob("*.json"), key=_order)]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _when(run: dict) -> str:
    start, end = run.get("load_average_at_start"), run.get("load_average")
    if end is None:
        return run["measured"]
    return run["measured"] + (f", load {end}" if start is None else f", load {start} → {end}")


def table(recorded: list[dict] | None = None) -> str:
    """The Markdown table of every recorded row, benches in the issue's order (sync, photos, documents, PWA, load)."""
    lines = ["| benchmark | command | floor | figure | ratio | target | verdict | measured |",
             "|---|---|---|---|---|---|---|---|"]
    for run in runs() if recorded is None else recorded:
        for row in run["rows"]:
            cells = [_cell(row[key]) for key in ("benchmark", "command", "floor", "figure", "ratio", "target")]
            cells[1] = f"`{cells[1]}`"
            verdict_cell = f"**{row['verdict']}**" if row["verdict"] == "FAIL" else row["verdict"]
            lines.append("| " + " | ".join([*cells, verdict_cell, _when(run)]) + " |")
    return "\n".join(lines)


def summary(recorded: list[dict] | None = None) -> str:
    """The verdicts counted, and every row that misses its target named with its figure and load average."""
    recorded = runs() if recorded is None else recorded
    rows = [(run, row) for run in recorded for row in run["rows"]]
    if not rows:
        return "No bench has recorded a result yet: run `make bench`."
    counts = {v: sum(row["verdict"] == v for _, row in rows) for v in VERDICTS}
    machines = sorted({run.get("machine", "?") for run in recorded})
    dates = sorted(run["measured"] for run in recorded)
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    text = (f"{len(rows)} rows from {len(recorded)} run{'s' * (len(recorded) > 1)}, measured {when} on "
            f"{'; '.join(machines)}: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['INFO']} INFO "
            "(for reference, no target of their own). ")
    failed = [(run, row) for run, row in rows if row["verdict"] == "FAIL"]
    if not failed:
        return text + "**Every figure with a target meets it.**"
    return text + "**Not met:** " + "; ".join(
        f"{_cell(row['benchmark'])} (`{run['name']}`, {_when(run)}): {_cell(row['figure'])}, ratio "
        f"{_cell(row['ratio'])}, target {_cell(row['target'])}" for run, row in failed
    ) + ". Why each misses is in that benchmark's section below."


def generated() -> str:
    recorded = runs()
    return (f"<!-- generated by `make bench` (bench/results.py) from bench/results/*.json: do not edit by hand -->\n"
            f"{table(recorded)}\n\n{summary(recorded)}")


def rewrite_readme() -> None:
    text = README.read_text(encoding="utf-8")
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"{README}: expected one {START} followed by one {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{generated()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    rewrite_readme()
    print(generated())
    sys.exit(0)
