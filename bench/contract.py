"""The long contract-fuzzing profile: schemathesis against the OpenAPI document, every role, every phase.

    cd /work/main && .venv/bin/python bench/contract.py [--db sqlite|postgresql|both] [--examples N] [--seed N]

The suite runs the short profile (tests/test_contract.py, a fixed seed, about two minutes a database); this runs
the same test with tests/contract.py's "long" profile: many more examples per operation, the coverage phase for
every role, longer stateful runs and a new seed each time (printed, so a failure can be run again with --seed).
A failure is a pytest failure naming the operation, the check and a curl line; make it a regression test in
tests/test_contract.py once fixed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--examples", type=int, help="fuzzing examples per operation (the long profile's default)")
    parser.add_argument("--seed", type=int, help="replay a run (default: a new seed)")
    args = parser.parse_args()
    status = 0
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        env = {**os.environ, "CONTRACT_PROFILE": "long"}
        env.pop("TEST_DATABASE_URL", None)
        if db == "postgresql":
            env["TEST_DATABASE_URL"] = PG_URL
        if args.examples:
            env["CONTRACT_EXAMPLES"] = str(args.examples)
        if args.seed is not None:
            env["CONTRACT_SEED"] = str(args.seed)
        print(f"== contract fuzzing, long profile, {db}", flush=True)
        status |= subprocess.call([str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-s", "-p", "no:cacheprovider",  # noqa: S603
                                   "tests/test_contract.py", "-k", "keeps_its_contract or together"],
                                  cwd=ROOT, env=env)
    return status


if __name__ == "__main__":
    sys.exit(main())
