"""Constants shared by conftest and tests."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "mật-khẩu-thử"
# TEST_CHECKLISTS_DIR lets a developer point the suite at other checklist files while authoring them.
CHECKLISTS_DIR = Path(os.environ.get("TEST_CHECKLISTS_DIR", PROJECT_ROOT / "checklists"))
