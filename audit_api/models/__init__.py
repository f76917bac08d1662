"""All models, imported so that Alembic and the app see the whole metadata."""

from .actions import ActionResponse, ActionReview, CorrectiveAction, action_response_files
from .audit import AuditEvent
from .auth import RefreshToken, TokenFamily
from .changes import ChangeLogEntry
from .checklists import ChecklistVersion, ThresholdOverride
from .documents import Document, NumberSeries, document_units
from .evidence import Photo, PhotoLink, Upload
from .findings import Finding, Recommendation, finding_answers
from .inspections import Answer, AnswerRevision, Inspection, SectionAssignment, inspection_units
from .sync import SyncMutation
from .teams import Plan, Team, TeamMember, plan_units
from .units import Unit, UnitName, UnitSuccession, UnitType
from .users import User, UserRole

__all__ = [
    "ActionResponse",
    "ActionReview",
    "Answer",
    "AnswerRevision",
    "AuditEvent",
    "ChangeLogEntry",
    "ChecklistVersion",
    "CorrectiveAction",
    "Document",
    "Finding",
    "Inspection",
    "NumberSeries",
    "Photo",
    "PhotoLink",
    "Plan",
    "Recommendation",
    "RefreshToken",
    "SectionAssignment",
    "SyncMutation",
    "Team",
    "TeamMember",
    "ThresholdOverride",
    "TokenFamily",
    "Unit",
    "UnitName",
    "UnitSuccession",
    "UnitType",
    "Upload",
    "User",
    "UserRole",
    "action_response_files",
    "document_units",
    "finding_answers",
    "inspection_units",
    "plan_units",
]
