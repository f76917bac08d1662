"""Contract fuzzing with schemathesis, in-process on the WSGI app: the run, its profiles and its report.

tests/test_contract.py runs the short profile in the suite (both databases in .ci/run); bench/contract.py runs
the long one. Both sign in as each role, run every phase schemathesis has (examples, coverage, fuzzing, and
the stateful phase over the links it infers from the responses), and count every call by operation and
status, so a run that skipped an operation cannot pass.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import io
import os
import uuid

import schemathesis
import sqlalchemy as sa
from flask import Flask
from hypothesis import strategies as st
from PIL import Image
from schemathesis.engine import events, from_schema
from schemathesis.transport import wsgi as schemathesis_wsgi
from werkzeug.http import quote_etag

from audit_api.api.preconditions import etag_of
from audit_api.extensions import db
from audit_api.models import (
    ChecklistVersion,
    CorrectiveAction,
    Document,
    Finding,
    Inspection,
    Plan,
    Recommendation,
    SectionAssignment,
    Team,
    Unit,
    Upload,
    User,
    UserRole,
)
from audit_api.services.auth import open_session
from audit_api.services.demo import demo_id
from audit_api.services.uploads import offset_of

OPENAPI = "/api/v1/openapi.json"
# One user per role of the demo data (audit_api/services/demo.py); kiemtra1 is also the team's deputy.
ROLE_USERS = {"admin": "admin", "lead": "truongdoan", "secretary": "thuky", "inspector": "kiemtra1",
              "unit": "dv-trangdinh"}
# The checks that make the contract: no 5xx; every status, content type, header and body as documented; a
# request that breaks the schema refused; an operation that says it needs a token refuses a request
# without one. positive_data_acceptance is left out: a body valid by the schema may still break a rule
# of the domain (a 409 for an issued document, a 404 for a made-up id), which is a correct answer.
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "ignored_auth", "unsupported_method", "missing_required_header", "use_after_free",
          "ensure_resource_availability")


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # per operation in the fuzzing phase, as Hypothesis's max_examples
    stateful_examples: int  # scenarios of the stateful phase (chains of calls along the links)
    coverage_roles: frozenset[str]  # roles whose run includes the coverage phase (the slowest)
    seed: int | None  # None: a new seed each run, printed in the report


PROFILES = {
    # In the suite: every role, every operation, a fixed seed so a failure is the same on the next run.
    "short": Profile("short", max_examples=8, stateful_examples=60, coverage_roles=frozenset({"admin"}),
                     seed=20261124),
    # bench/contract.py: more examples, the coverage phase for every role, a new seed each time.
    "long": Profile("long", max_examples=60, stateful_examples=500, coverage_roles=frozenset(ROLE_USERS),
                    seed=None),
}


def profile(name: str | None = None) -> Profile:
    """The profile CONTRACT_PROFILE names (short by default); CONTRACT_EXAMPLES and CONTRACT_SEED override its
    examples per operation and its seed (bench/contract.py passes them)."""
    chosen = PROFILES[name or os.environ.get("CONTRACT_PROFILE", "short")]
    if os.environ.get("CONTRACT_EXAMPLES"):
        chosen = dataclasses.replace(chosen, max_examples=int(os.environ["CONTRACT_EXAMPLES"]))
    if os.environ.get("CONTRACT_SEED"):
        chosen = dataclasses.replace(chosen, seed=int(os.environ["CONTRACT_SEED"]))
    return chosen


@dataclasses.dataclass
class Report:
    role: str
    seed: int | None
    calls: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # (operation, status)
    failures: dict = dataclasses.field(default_factory=dict)  # (operation, check, title) -> message and curl
    errors: list = dataclasses.field(default_factory=list)  # engine errors: a case it could not send or check
    inferred_links: int = 0
    phase: str = ""
    calls_by_phase: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    @property
    def operations(self) -> set[str]:
        return {operation for operation, _ in self.calls}

    def statuses(self, operation: str) -> set[int]:
        return {status for op, status in self.calls if op == operation}

    def describe_failures(self) -> str:
        return "\n".join(f"{op} [{check}] {title}: {message}\n    {curl}"
                         for (op, check, title), (message, curl) in sorted(self.failures.items()))


def documented_operations(app: Flask) -> set[str]:
    spec = app.test_client().get(OPENAPI).get_json()
    methods = {"get", "put", "post", "delete", "patch", "head"}
    return {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item if method in methods}


def _send_in_process(send):
    """schemathesis 4.32.5's ignored_auth check sends its unauthenticated probe to a WSGI app with the run's
    network settings (max_redirects, verify…), which werkzeug's test client refuses with a TypeError. Drop
    them as the WSGI transport already does when it is handed a requests.Session."""

    def wrapper(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    wrapper.wraps_schemathesis = True
    return wrapper


if not getattr(schemathesis_wsgi.WSGITransport.send, "wraps_schemathesis", False):
    schemathesis_wsgi.WSGITransport.send = _send_in_process(schemathesis_wsgi.WSGITransport.send)
# A chunk of a resumable upload is plain bytes.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


class SignedIn:
    """Each request gets a fresh token of the role's user, minted by the service as sign-in would (no password
    hashing per call). Fresh, because the fuzzer signs out (revoking the token's family), refreshes, resets
    passwords and, as an admin, may deactivate the very user it runs as or take away its role: the harness
    puts the user back as it was before each request, so the run stays signed in as that role."""

    def __init__(self, app: Flask, username: str):
        self.app = app
        with app.app_context():
            user = db.session.scalar(sa.select(User).filter_by(username=username))
            self.user_id, self.roles = user.id, set(user.roles)

    def mint(self):
        with self.app.app_context():
            user = db.session.get(User, self.user_id)
            user.is_active = True
            if user.roles != self.roles:
                db.session.execute(sa.delete(UserRole).where(UserRole.user_id == user.id))
                db.session.add_all(UserRole(user_id=user.id, role=role) for role in self.roles)
                db.session.flush()
                db.session.expire(user)
            pair = open_session(user)
            db.session.commit()
            return pair


VAN_LANG, TRANG_DINH = demo_id("insp-vanlang-2024"), demo_id("insp-trangdinh-2024")
# What the team found at UBND huyện Văn Lãng (DOMAIN.md §3.11): answers whose rules make findings, strengths
# and suggested recommendations, so the finding and recommendation operations have something to act on.
FIGURES = [("H2", {"numerator": 15, "denominator": 17}), ("D6", {"numerator": 6118, "denominator": 6118}),
           ("D13", 14), ("E3", "no")]


def stage(app: Flask) -> None:
    """The demo data plus a day's work, through the API as the team would do it: answers on Văn Lãng (open for
    edits) and on Tràng Định, whose minutes are then issued (corrective actions for the unit) and corrected
    (a draft to edit)."""
    client = app.test_client()

    def call(method: str, path: str, username: str, body: dict | None = None, *, etag: str | None = None):
        headers = {"Authorization": f"Bearer {SignedIn(app, username).mint().access_token}"}
        if etag:
            headers["If-Match"] = etag
        response = client.open(f"/api/v1{path}", method=method, headers=headers, json=body)
        assert response.status_code in (200, 201), (path, response.get_json())
        return response

    for inspection in (VAN_LANG, TRANG_DINH):
        mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(inspection),
                      "base_version": None, "payload": {"item_code": code, "value": value}} for code, value in FIGURES]
        synced = call("POST", "/sync", "kiemtra1", {"device_id": "contract", "mutations": mutations})
        results = synced.get_json()["results"]
        assert [r["status"] for r in results] == ["applied"] * len(FIGURES), results
    with app.app_context():  # the review flow has its own tests; here the team has approved Tràng Định
        db.session.get(Inspection, TRANG_DINH).status = "approved"
        db.session.commit()
    minutes = call("POST", f"/inspections/{TRANG_DINH}/documents", "thuky", {"kind": "minutes"})
    issued = call("POST", f"/documents/{minutes.get_json()['id']}/issue", "truongdoan", {},
                  etag=minutes.headers["ETag"])
    call("POST", f"/documents/{issued.get_json()['id']}/corrections", "thuky")
    # A photo of item H2 on Văn Lãng, uploaded, and a second one declared and not yet sent.
    for sent in (True, False):
        image = io.BytesIO()
        Image.new("RGB", (64, 48), (40, 120 if sent else 200, 90)).save(image, "JPEG")
        data = image.getvalue()
        declared = call("POST", "/photos", "kiemtra1", {
            "id": str(uuid.uuid4()), "inspection_id": str(VAN_LANG), "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data), "content_type": "image/jpeg", "item_code": "H2", "caption": "Bảng niêm yết TTHC"})
        if sent:
            headers = {"Authorization": f"Bearer {SignedIn(app, 'kiemtra1').mint().access_token}",
                       "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
            assert client.patch(declared.headers["Location"], headers=headers, data=data).status_code == 204


# Path parameters whose made-up values would only ever meet a 404: the run also draws them from the rows the
# database holds (schemathesis adds the ids it meets in responses), so the fuzzer reaches real resources.
KNOWN = {"inspection_id": Inspection.id, "finding_id": Finding.id, "recommendation_id": Recommendation.id,
         "document_id": Document.id, "photo_id": Upload.id, "action_id": CorrectiveAction.id, "plan_id": Plan.id,
         "team_id": Team.id, "user_id": User.id, "unit_id": Unit.id, "section_code": SectionAssignment.section_code,
         "key": ChecklistVersion.key, "version": ChecklistVersion.version}
# The resources edited with If-Match, by path parameter, and the kind their ETag names (api/preconditions.py).
VERSIONED = {"finding_id": ("finding", Finding), "recommendation_id": ("recommendation", Recommendation),
             "document_id": ("document", Document)}


def known_values(app: Flask) -> dict[str, list]:
    with app.app_context():
        return {name: sorted({str(value) if name.endswith("_id") else value
                              for value in db.session.scalars(sa.select(column).distinct().limit(60))}, key=str)
                for name, column in KNOWN.items()}


def _read(app: Flask, model, value, read):
    """`read(row)` of the row whose id is `value`, or None when `value` is no id or names no row."""
    try:
        row_id = uuid.UUID(str(value))
    except ValueError:
        return None
    with app.app_context():
        row = db.session.get(model, row_id)
        return None if row is None else read(row)


def current_etag(app: Flask, parameter: str, value) -> str | None:
    kind, model = VERSIONED[parameter]
    return _read(app, model, value, lambda row: quote_etag(etag_of(kind, row)))


def as_informed_client(app: Flask, case):
    parameters, headers = case.path_parameters or {}, case.headers
    if headers is None:
        return case
    parameter = next((name for name in VERSIONED if name in parameters), None)
    if parameter is not None and "If-Match" in headers:
        etag = current_etag(app, parameter, parameters[parameter])
        if etag is not None:
            case.headers = {**headers, "If-Match": etag}
    if case.operation.path.endswith("/upload") and case.method.upper() == "PATCH" and "Upload-Offset" in headers:
        offset = current_offset(app, parameters.get("photo_id"))
        if offset is not None:
            case.headers = {**headers, "Upload-Offset": str(offset)}
    return case


def current_offset(app: Flask, photo_id) -> int | None:
    return _read(app, Upload, photo_id, offset_of)


def run(app: Flask, role: str, chosen: Profile) -> Report:
    """One schemathesis run of every phase against the app, signed in as `role`."""
    seed = chosen.seed if chosen.seed is not None else uuid.uuid4().int % 2**32
    config = schemathesis.Config.from_dict({
        "seed": seed,
        "generation": {"max-examples": chosen.max_examples, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"coverage": {"enabled": role in chosen.coverage_roles},
                   "stateful": {"enabled": True, "generation": {"max-examples": chosen.stateful_examples}}},
        "suppress-health-check": ["all"],
    })
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app, config=config)
    report = Report(role=role, seed=seed)
    signed_in = SignedIn(app, ROLE_USERS[role])

    @schema.auth(refresh_interval=None)
    class Token:
        def get(self, case, ctx):
            return signed_in.mint()

        def set(self, case, pair, ctx):
            refresh = case.operation.path == "/api/v1/auth/refresh"
            token = pair.refresh_token if refresh else pair.access_token
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    known = known_values(app)

    @schema.hook
    def flatmap_path_parameters(ctx, parameters):
        """Half the time, each parameter with known values takes one of them instead of the generated one."""
        names = [name for name in parameters or () if known.get(name)]
        if not names:
            return st.just(parameters)
        choices = [st.one_of(st.just(parameters[name]), st.sampled_from(known[name])) for name in names]
        return st.tuples(*choices).map(lambda values: {**parameters, **dict(zip(names, values, strict=True))})

    @schema.hook
    def flatmap_case(ctx, case):
        """Half the time, a request on a real resource carries what a client that just read it would send: an
        If-Match edit its current ETag, an upload chunk the offset the server holds. Made-up ones only ever
        meet 412 or 409; the other half keeps them, so those answers are fuzzed too."""
        return st.booleans().map(lambda informed: as_informed_client(app, case) if informed else case)

    @schema.hook
    def after_call(ctx, case, response):
        report.calls[(case.operation.label, response.status_code)] += 1
        report.calls_by_phase[report.phase] += 1

    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            report.phase = event.phase.name
            if isinstance(event.payload, events.StatefulPhasePayload):
                report.inferred_links = event.payload.inferred_transitions
        elif isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            _collect_failures(report, event.recorder)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            report.errors.extend(f"after run: {failure.title}" for failure in event.failures)
    return report


def _collect_failures(report: Report, recorder) -> None:
    for nodes in recorder.checks.values():
        for node in nodes:
            if node.failure_info is None:
                continue
            failure = node.failure_info.failure
            key = (recorder.label, node.name, failure.title)
            if key not in report.failures:
                curl = node.failure_info.code_sample.replace("\n", " ")
                report.failures[key] = (" ".join(str(failure.message).split())[:600], curl[:600])
