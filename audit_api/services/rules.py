"""The rules engine: turns an inspection's answers into draft findings, strengths and recommendations.

Rules are data in the pinned checklist version (checklists/README.md, "Conditions" and "Rules"); this
module only evaluates them. regenerate() runs after every sync batch, so it reads the answers and the
existing rule findings once and works in memory. It never overwrites what a person wrote: an edited finding
keeps its text and is flagged instead, a dropped one keeps its reason, an edited recommendation is left alone.
"""

from __future__ import annotations

import operator
import re
import string
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import checklist_format as fmt
from ..answer_values import display, format_date, metrics
from ..extensions import db
from ..models import Answer, Finding, Inspection, Recommendation, ThresholdOverride, Unit, finding_answers
from ..models.common import utcnow
from . import bulk
from .changes import record_change, record_changes
from .checklists import effective_threshold

MISSING = object()  # an operand that is not answered, or a metric that cannot be computed


@dataclass(frozen=True, slots=True)
class _UnitView:
    """What evaluation reads of a unit, as plain attributes: a regeneration looks a unit up ~1,400 times and
    an ORM attribute read costs several times a slot's."""

    id: uuid.UUID
    unit_type: str
    label: str

    @classmethod
    def of(cls, unit: Unit) -> _UnitView:
        return cls(unit.id, unit.unit_type, unit.short_name or unit.name)


# (checklist version id, sha256, item code, rule index) → the item codes a rule reads
_RULE_ITEMS: dict[tuple, frozenset[str]] = {}
_NUMERIC = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class RulesReport:
    """Rule keys ("item:rule index:unit id") by what regeneration did to their finding."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)  # a person's finding whose figures changed under it
    removed: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # fired with a var unanswered: "[chưa có số liệu]"


@dataclass
class Draft:
    """What one firing rule would write for one unit."""

    rule_key: str
    kind: str
    item_code: str
    section_code: str
    unit_id: uuid.UUID
    severity: str
    sort_order: int
    text: str
    templates: list[str]
    recommendations: list[str]
    answer_ids: set[uuid.UUID]
    incomplete: bool


# --- evaluating ------------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(left, op: str, right) -> bool:
    """A checklist operator; operands of the wrong type (text against a number) simply do not hold."""
    if op in fmt.EQUALITY_OPS:
        return (left == right) == (op == "==")
    if op in _NUMERIC:
        return _is_number(left) and _is_number(right) and _NUMERIC[op](left, right)
    if op in fmt.LIST_OPS:
        return isinstance(right, list) and (left in right) == (op == "in")
    if op in fmt.SET_OPS and isinstance(left, list):
        wanted = right if isinstance(right, list) else [right]
        return all(code in left for code in wanted) if op == "includes" else not any(c in left for c in wanted)
    return False


class _Filler(string.Formatter):
    """str.format for rule texts: every value printed by answer_values.display (Vietnamese numbers, `:02`,
    lists joined), and a name with no value prints "[chưa có số liệu]" instead of failing."""

    def get_value(self, key, args, kwargs):
        return kwargs.get(key)

    def format_field(self, value, format_spec):
        return display(value, format_spec)


_PIECES: dict[str, tuple | None] = {}


def _pieces(template: str) -> tuple | None:
    """The template as (literal, name, spec) pieces when every field is a plain `{name}` or `{name:spec}`
    (all the checklists use), parsed once per template; None for anything else, which _Filler formats."""
    if template not in _PIECES:
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            parsed = None
        plain = parsed is not None and all(
            name is None or (name.isidentifier() and conversion is None and "{" not in spec)
            for _literal, name, spec, conversion in parsed)
        _PIECES[template] = tuple((literal, name, spec) for literal, name, spec, _ in parsed) if plain else None
    return _PIECES[template]


def fill(template: str, values: dict) -> str:
    pieces = _pieces(template)
    if pieces is None:
        return _Filler().vformat(template, (), values)
    return "".join(literal if name is None else literal + display(values.get(name), spec)
                   for literal, name, spec in pieces)


def _rule_wrote(text: str, template: str) -> bool:
    """Could this template have produced the text, whatever its figures? If not, a person rewrote it."""
    pattern = "".join(re.escape(literal) + (".*?" if name is not None else "")
                      for literal, name, _spec, _conv in string.Formatter().parse(template))
    return re.fullmatch(pattern, text, re.DOTALL) is not None


def _period(answer: Answer | None) -> str:
    bounds = (("từ", answer.period_from), ("đến", answer.period_to)) if answer is not None else ()
    return " ".join(f"{word} {format_date(day)}" for word, day in bounds if day)


def _referenced_items(node) -> set[str]:
    """Item codes named anywhere in conditions or vars: the answers a finding is linked to."""
    if isinstance(node, dict):
        return ({node["item"]} if "item" in node else set()).union(*map(_referenced_items, node.values()))
    if isinstance(node, list):
        return set().union(*map(_referenced_items, node))
    return set()


# Statements regeneration runs every time, built once (building one costs more than running it).
_units, _overrides = Unit.__table__.c, ThresholdOverride.__table__.c
PROVINCE_CODE = sa.select(_units.code).where(_units.id == sa.bindparam("id"))
OVERRIDDEN = sa.select(_overrides.item_code).where(
    _overrides.province_code == sa.bindparam("province"), _overrides.checklist_key == sa.bindparam("key"),
    _overrides.year <= sa.bindparam("year"))
FINDINGS = (sa.select(Finding).where(Finding.inspection_id == sa.bindparam("inspection_id"))
            .options(selectinload(Finding.recommendations)))
RULE_LINKS = sa.select(finding_answers).join(Finding).where(Finding.inspection_id == sa.bindparam("inspection_id"),
                                                             Finding.origin == "rule")


def _thresholds(inspection: Inspection, items: dict[str, dict]) -> dict[str, dict]:
    """Effective thresholds by item. One query finds the items the province overrides; only those go
    through effective_threshold (one query each), the rest keep the checklist's own threshold."""
    version, year = inspection.checklist_version, inspection.scheduled_on.year
    province = db.session.scalar(PROVINCE_CODE, {"id": inspection.team.province_id})
    overridden = set(db.session.scalars(OVERRIDDEN, {"province": province, "key": version.key, "year": year}))
    return {code: effective_threshold(version, code, province, year) if code in overridden else item["threshold"]
            for code, item in items.items() if item.get("threshold")}


_ITEM_MAPS: dict[tuple, tuple[dict, dict]] = {}


def _version_key(version) -> tuple | None:
    """Published versions never change, so what is derived from one is kept per (id, sha256); a version not
    yet flushed (no id) is derived afresh."""
    return None if version.id is None else (version.id, version.sha256)


def _item_maps(version) -> tuple[dict[str, dict], dict[str, str]]:
    """Items by code and their section codes."""
    key = _version_key(version)
    if key is None or key not in _ITEM_MAPS:
        sections = version.definition["sections"]
        maps = ({item["code"]: item for section in sections for item in section["items"]},
                {item["code"]: section["code"] for section in sections for item in section["items"]})
        if key is None:
            return maps
        _ITEM_MAPS[key] = maps
    return _ITEM_MAPS[key]


class _Evaluation:
    """The pinned checklist, the answers and the effective thresholds of one inspection, read once."""

    def __init__(self, inspection: Inspection, answers: Iterable[Answer]):
        self.inspection = inspection
        self.items, self.section_of = _item_maps(inspection.checklist_version)
        self.answers = {(answer.item_code, answer.unit_id): answer for answer in answers}

    @cached_property
    def thresholds(self) -> dict[str, dict]:
        return _thresholds(self.inspection, self.items)

    def answered(self, code: str, unit: Unit) -> Answer | None:
        answer = self.answers.get((code, unit.id))
        return answer if answer is not None and answer.value is not None else None

    def operand(self, operand: dict, code: str, unit: Unit):
        """An operand's value for this unit (other items read the same unit's answer), or MISSING."""
        if "literal" in operand:
            return operand["literal"]
        if "threshold" in operand:
            return self.thresholds[code]["value"] if code in self.thresholds else MISSING
        if "sum" in operand:
            terms = [self.operand(term, code, unit) for term in operand["sum"]]
            return sum(terms) if all(_is_number(term) for term in terms) else MISSING
        item, answer = self.items.get(operand["item"]), self.answered(operand["item"], unit)
        if item is None or answer is None:
            return MISSING
        return metrics(item, answer.value).get(operand["metric"], MISSING)

    def holds(self, condition: dict, code: str, unit: Unit) -> bool:
        """A condition with an operand not answered (or not computable) is not met; `absent` is its mirror."""
        left = self.operand(condition["left"], code, unit)
        if condition["op"] in fmt.UNARY_OPS:
            return (left is MISSING) == (condition["op"] == "absent")
        right = self.operand(condition["right"], code, unit)
        return left is not MISSING and right is not MISSING and _compare(left, condition["op"], right)

    def passes(self, item: dict, unit: Unit) -> bool | None:
        """Does the answer meet the effective threshold (the pass condition)? None when it cannot say:
        no threshold, no answer, "na", or a metric that cannot be computed (a ratio over 0)."""
        threshold, answer = self.thresholds.get(item["code"]), self.answered(item["code"], unit)
        if threshold is None or answer is None or answer.value == "na":
            return None
        value = metrics(item, answer.value).get(threshold["metric"], MISSING)
        return None if value is MISSING else _compare(value, threshold["op"], threshold["value"])

    def fires(self, rule: dict, item: dict, unit: Unit) -> bool:
        when = rule["when"]
        if isinstance(when, list):
            return bool(when) and all(self.holds(condition, item["code"], unit) for condition in when)
        passed = self.passes(item, unit)
        return passed is not None and passed == (when == "meets_threshold")

    def applies(self, item: dict, unit: Unit) -> bool:
        """An item not asked of this unit (type outside applies_to, hidden by visible_if) or answered "na"
        (not applicable) fires none of its rules."""
        own = self.answered(item["code"], unit)
        if unit.unit_type not in item["applies_to"] or (own is not None and own.value == "na"):
            return False
        return self.visible(item, unit)

    def visible(self, item: dict, unit: Unit) -> bool:
        conditions = item.get("visible_if")
        return not conditions or all(self.holds(condition, item["code"], unit) for condition in conditions)

    def drafts(self, units: list[Unit]) -> Iterator[Draft]:
        for unit in map(_UnitView.of, units):
            for position, item in enumerate(self.items.values()):
                if not item["rules"] or not self.applies(item, unit):
                    continue
                for index, rule in enumerate(item["rules"]):
                    if self.fires(rule, item, unit):
                        yield self.draft(item, index, rule, unit, sort_order=position * 100 + index)

    def draft(self, item: dict, index: int, rule: dict, unit: Unit | _UnitView, *, sort_order: int) -> Draft:
        unit = unit if isinstance(unit, _UnitView) else _UnitView.of(unit)
        code, own = item["code"], self.answered(item["code"], unit)
        values = dict(metrics(item, own.value)) if own else {}
        values.update(unit=unit.label, period=_period(own))
        if code in self.thresholds:
            values["threshold"] = self.thresholds[code]["value"]
        for name, var in rule["vars"].items():
            value = self.operand(var, code, unit)
            values[name] = None if value is MISSING else value
        used = self.rule_items(code, index, rule)
        return Draft(
            rule_key=f"{code}:{index}:{unit.id}", kind=rule["kind"], item_code=code, section_code=self.section_of[code],
            unit_id=unit.id, severity=rule["severity"], sort_order=sort_order, text=fill(rule["text"], values),
            templates=rule["recommendations"], recommendations=[fill(text, values) for text in rule["recommendations"]],
            answer_ids={answer.id for used_code in used if (answer := self.answered(used_code, unit))},
            incomplete=any(values[name] is None for name in rule["vars"]),
        )

    def rule_items(self, code: str, index: int, rule: dict) -> frozenset[str]:
        version = _version_key(self.inspection.checklist_version)
        key = (*version, code, index) if version else None
        found = _RULE_ITEMS.get(key) if key else None
        if found is None:
            found = frozenset({code} | _referenced_items(rule["vars"]) | _referenced_items(rule["when"]))
            if key:
                _RULE_ITEMS[key] = found
        return found

    def templates_for(self, rule_key: str) -> list[str] | None:
        """The recommendation templates of the rule a key names; None if the checklist has no such rule."""
        code, _, rest = rule_key.partition(":")
        index = rest.partition(":")[0]
        rules = (self.items.get(code) or {}).get("rules") or []
        return rules[int(index)]["recommendations"] if index.isdigit() and int(index) < len(rules) else None


# --- reconciling with what exists -------------------------------------------------------------------


def _untouched(finding: Finding) -> bool:
    return finding.status == "draft" and finding.text == finding.generated_text


def _changed(entity, kind: str) -> None:
    entity.version += 1
    record_change(entity.inspection_id, kind, entity.id)


class _Reconciler:
    """Brings the stored rule findings in line with the drafts, keeping every person's edit."""

    def __init__(self, inspection: Inspection, evaluation: _Evaluation):
        self.inspection, self.evaluation, self.report = inspection, evaluation, RulesReport()
        self.inspection_id = inspection.id
        findings = list(db.session.scalars(FINDINGS, {"inspection_id": inspection.id}))
        self.existing = {f.rule_key: f for f in findings if f.origin == "rule" and f.rule_key}
        self.merge_targets = {f.merged_into_id for f in findings if f.merged_into_id}
        # the answer links of the rule findings (only those in `existing` are ever relinked or retired)
        rows = db.session.execute(RULE_LINKS, {"inspection_id": inspection.id}) if self.existing else ()
        self.links: dict[uuid.UUID, set[uuid.UUID]] = {}
        for finding_id, answer_id in rows:
            self.links.setdefault(finding_id, set()).add(answer_id)
        self.link_adds: list[dict] = []
        self.new_findings: list[dict] = []
        self.new_recommendations: list[dict] = []
        self.link_removals: list[tuple[uuid.UUID, uuid.UUID]] = []

    def create(self, draft: Draft) -> None:
        """A new draft, written with the others in one executemany per table (write_rows)."""
        finding_id, inspection_id = uuid.uuid4(), self.inspection_id
        self.new_findings.append({
            "id": finding_id, "inspection_id": inspection_id, "unit_id": draft.unit_id, "kind": draft.kind,
            "origin": "rule", "item_code": draft.item_code, "section_code": draft.section_code,
            "rule_key": draft.rule_key, "text": draft.text, "generated_text": draft.text, "severity": draft.severity,
            "status": "draft", "sort_order": draft.sort_order, "is_incomplete": draft.incomplete,
        })
        changes = [(inspection_id, "finding", str(finding_id))]
        for order, text in enumerate(draft.recommendations):
            recommendation_id = uuid.uuid4()
            self.new_recommendations.append({
                "id": recommendation_id, "inspection_id": inspection_id, "finding_id": finding_id,
                "responsible_unit_id": draft.unit_id, "origin": "rule", "text": text, "sort_order": order,
            })
            changes.append((inspection_id, "recommendation", str(recommendation_id)))
        record_changes(changes)
        self.link_adds += [{"finding_id": finding_id, "answer_id": answer_id} for answer_id in draft.answer_ids]
        self.report.created.append(draft.rule_key)

    def refresh(self, finding: Finding, draft: Draft) -> None:
        """The rule still fires: new figures reach an untouched draft; a person's text is kept and flagged
        when the figures under it changed; a dropped finding only learns the new generated text."""
        untouched, flagged = _untouched(finding), False
        # a merge target also holds the links of the findings merged into it: add the rule's, remove none
        keep = finding.id in self.merge_targets
        changed = self.relink(finding, draft.answer_ids, keep_others=keep) or finding.generated_text != draft.text
        if finding.is_incomplete != draft.incomplete:
            finding.is_incomplete, changed = draft.incomplete, True
        if untouched:
            finding.text = draft.text
        elif finding.status != "dropped" and finding.generated_text != draft.text:
            flagged = finding.is_answer_changed_since_edit = True
        finding.generated_text = draft.text
        if changed:
            _changed(finding, "finding")
        recommendations_changed = finding.status != "dropped" and self.refresh_recommendations(finding, draft)
        if flagged:
            self.report.flagged.append(draft.rule_key)
        elif changed or recommendations_changed:
            self.report.updated.append(draft.rule_key)

    def refresh_recommendations(self, finding: Finding, draft: Draft) -> bool:
        """Regenerate the rule's recommendations nobody rewrote; one a person edited or deleted stays theirs."""
        candidates, changed = [r for r in finding.recommendations if r.origin == "rule"], False
        for template, text in zip(draft.templates, draft.recommendations, strict=True):
            match = next((r for r in candidates if _rule_wrote(r.text, template)), None)
            if match is None:
                continue
            candidates.remove(match)
            if match.text != text:
                match.text, changed = text, True
                _changed(match, "recommendation")
        return changed

    def retire(self, finding: Finding) -> None:
        """The rule no longer fires: an untouched draft goes (with its untouched recommendations); a
        person's finding stays, flagged; a dropped one stays as it is."""
        if finding.status == "dropped":
            return
        if self.deletable(finding):
            for recommendation in finding.recommendations:
                record_change(recommendation.inspection_id, "recommendation", recommendation.id, deleted=True)
                db.session.delete(recommendation)
            record_change(finding.inspection_id, "finding", finding.id, deleted=True)
            db.session.delete(finding)  # its finding_answers rows go with it (ON DELETE CASCADE)
            self.report.removed.append(finding.rule_key)
        elif not finding.is_answer_changed_since_edit:
            finding.is_answer_changed_since_edit = True
            _changed(finding, "finding")
            self.report.flagged.append(finding.rule_key)

    def deletable(self, finding: Finding) -> bool:
        """Untouched, not merged, no causes written, and every recommendation still as the rule wrote it."""
        templates = self.evaluation.templates_for(finding.rule_key) or []
        if not _untouched(finding) or finding.merged_into_id or finding.id in self.merge_targets:
            return False
        if finding.cause_subjective or finding.cause_objective:
            return False
        return all(r.origin == "rule" and any(_rule_wrote(r.text, t) for t in templates)
                   for r in finding.recommendations)

    def relink(self, finding: Finding, wanted: set[uuid.UUID], *, keep_others: bool = False) -> bool:
        current = self.links.get(finding.id, set())
        self.link_adds += [{"finding_id": finding.id, "answer_id": answer_id} for answer_id in wanted - current]
        if keep_others:
            return bool(wanted - current)
        self.link_removals += [(finding.id, answer_id) for answer_id in current - wanted]
        return current != wanted

    def write_links(self) -> None:
        """New findings, their recommendations and the answer links, after the flush (one executemany each)."""
        now = utcnow()
        bulk.insert_many(Finding.__table__, [{**row, **NEW_FINDING, "created_at": now, "updated_at": now}
                                             for row in self.new_findings])
        bulk.insert_many(Recommendation.__table__, [{**row, "version": 1, "deadline": None, "report_form": None,
                                                     "created_at": now, "updated_at": now}
                                                    for row in self.new_recommendations])
        for finding_id, answer_id in self.link_removals:
            db.session.execute(sa.delete(finding_answers).where(
                finding_answers.c.finding_id == finding_id, finding_answers.c.answer_id == answer_id))
        bulk.insert_many(finding_answers, self.link_adds)


# Columns a new rule finding starts with (bulk inserts do not run the models' Python defaults).
NEW_FINDING = {"version": 1, "is_answer_changed_since_edit": False, "merged_into_id": None, "drop_reason": None,
               "cause_subjective": None, "cause_objective": None, "created_by": None}


# Sync (answer_batch.py) evaluates visibility on the answers of a batch as it applies them.
Evaluation = _Evaluation
UnitView = _UnitView


ANSWER_FIELDS = (Answer.id, Answer.item_code, Answer.unit_id, Answer.value, Answer.period_from, Answer.period_to)


ANSWER_ROWS = sa.select(*ANSWER_FIELDS).where(Answer.inspection_id == sa.bindparam("inspection_id"))


def answer_rows(inspection_id: uuid.UUID, **filters) -> list:
    """The answers rules read, as plain rows: evaluation needs values, not ORM objects (cheaper by far)."""
    query = ANSWER_ROWS
    for name, value in filters.items():
        query = query.where(getattr(Answer, name) == value)
    return db.session.execute(query, {"inspection_id": inspection_id}).all()


def regenerate(inspection: Inspection, *, answers: Iterable | None = None) -> RulesReport:
    """Evaluate every rule of the pinned checklist for every unit of the inspection (host and sub-units)
    against the current answers, and bring the generated findings/strengths and their recommendations in
    line. Flushes, never commits. Returns what was created / updated / flagged / removed.

    `answers`: the inspection's answers as they stand in this transaction (rows with the attributes of
    ANSWER_FIELDS), when the caller holds exactly those (sync, where writers take turns); read otherwise."""
    evaluation = _Evaluation(inspection, answer_rows(inspection.id) if answers is None else answers)
    reconciler = _Reconciler(inspection, evaluation)
    drafts = {draft.rule_key: draft for draft in evaluation.drafts([inspection.host_unit, *inspection.sub_units])}
    for key, draft in drafts.items():
        finding = reconciler.existing.pop(key, None)
        if finding is None:
            reconciler.create(draft)
        else:
            reconciler.refresh(finding, draft)
        if draft.incomplete:
            reconciler.report.incomplete.append(key)
    for finding in reconciler.existing.values():
        reconciler.retire(finding)
    db.session.flush()
    reconciler.write_links()
    return reconciler.report
