/* What the team lead's screens share (views/lead.js, lead-findings.js, lead-documents.js): who may do what on
 * an inspection (the server's rules, services/review.py, finding_edits.py, documents.py), the screen head with
 * the tabs between the three screens, If-Match calls, and how errors and conflicts are shown.
 * These screens work online: every read and write goes to the server through api.js. */

import * as api from "../api.js";
import { formatDate, INSPECTION_STATUSES, TEAM_ROLES } from "../format.js";
import { badge, h, replace } from "../ui.js";

export const REVIEWERS = ["lead", "deputy", "secretary"]; // review sections, edit findings, draft documents
export const APPROVERS = ["lead", "deputy"]; // approve and reopen the whole inspection
export const ISSUERS = ["lead"]; // sign and issue documents
export const READ_ONLY = ["approved", "minutes_issued", "closed"]; // findings can no longer change

const SCREENS = [
  ["xem-xet", "Xem xét"],
  ["han-che", "Hạn chế và kiến nghị"],
  ["van-ban", "Văn bản"],
];

/* The caller's role in the inspection's team (lead, deputy, secretary, member) or null. */
export function teamRole(ctx, inspection) {
  const teams = (ctx.session && ctx.session.user.teams) || [];
  const found = teams.find((t) => t.team_id === inspection.team_id);
  return found ? found.team_role : null;
}

export const canReview = (role) => REVIEWERS.includes(role);

/* The links a lead, deputy or secretary sees on an inspection card (views/inspections.js). */
export function entryLinks(ctx, inspection) {
  if (!canReview(teamRole(ctx, inspection))) return null;
  if (!navigator.onLine) return h("p", { class: "muted small lead-entry" }, "Xem xét, hạn chế và văn bản cần có mạng.");
  return h("nav", { class: "actions lead-entry", "aria-label": "Việc của Trưởng đoàn, Thư ký" },
    SCREENS.map(([slug, label]) => h("a", { class: "btn", href: `#/${slug}/${inspection.id}`, dataset: { lead: slug } },
      label)));
}

/* The head of each screen: where we are, the inspection, and the tabs between the three screens. */
export function screenHead(inspection, current, title, note) {
  return h("div", { class: "lead-head" },
    h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Cuộc kiểm tra của tôi"), " › ", inspection.host_unit.name),
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, title),
        h("div", { class: "meta" },
          h("span", {}, inspection.host_unit.name),
          h("span", {}, `Ngày kiểm tra: ${formatDate(inspection.scheduled_on)}`),
          badge(INSPECTION_STATUSES[inspection.status] || inspection.status, statusKind(inspection.status))),
        note ? h("p", { class: "muted" }, note) : null)),
    h("nav", { class: "lead-tabs", "aria-label": "Màn hình của Trưởng đoàn" },
      SCREENS.map(([slug, label]) => h("a", { class: "tab", href: `#/${slug}/${inspection.id}`,
        "aria-current": slug === current ? "page" : null, dataset: { screen: slug } }, label))));
}

export function statusKind(status) {
  return { approved: "ok", minutes_issued: "ok", closed: "ok", returned: "danger", submitted: "info" }[status] || "plain";
}

/* A screen the caller may not use: says why and leads back. */
export function refused(inspection, current, title, role) {
  const who = role ? `Bạn là ${TEAM_ROLES[role] || role} của Đoàn` : "Bạn không thuộc Đoàn kiểm tra này";
  return h("div", { class: "page lead" }, screenHead(inspection, current, title),
    h("div", { class: "card empty", id: "lead-refused" },
      h("p", {}, `${who}: màn hình này dành cho Trưởng đoàn, Phó Trưởng đoàn và Thư ký.`),
      h("a", { class: "btn btn-primary", href: "#/" }, "Về danh sách cuộc kiểm tra")));
}

/* --- calls ------------------------------------------------------------------------------------------ */

export function inspection(id) {
  return api.get(`/inspections/${id}`);
}

/* A call that also returns the ETag (for the next If-Match); `etag` is sent as If-Match. Errors are thrown
 * as api.ApiError with the problem+json body (a 412 carries the server's current version in `current`). */
export async function send(method, path, { body, etag } = {}) {
  const headers = etag ? { "If-Match": etag } : {};
  const response = await api.call(method, path, { body, headers, raw: true });
  if (!response.ok) throw new api.ApiError(response.status, await api.problemOf(response));
  const data = response.status === 204 ? null : await response.json();
  return { data, etag: response.headers.get("ETag") };
}

/* The server's current version when an If-Match edit came too late (412), else null. */
export function staleCurrent(error) {
  return error instanceof api.ApiError && error.status === 412 && error.problem ? error.problem.current || null : null;
}

/* --- showing errors --------------------------------------------------------------------------------- */

/* The Vietnamese message of an error, with the fields the server named (problem+json `errors`). */
export function messageOf(error) {
  if (!(error instanceof api.ApiError)) return error.message || String(error);
  const problem = error.problem || {};
  const fields = problem.errors && typeof problem.errors === "object"
    ? Object.values(problem.errors).flat(Infinity).filter((m) => typeof m === "string") : [];
  const detail = problem.detail || problem.title || `Lỗi ${error.status}`;
  return fields.length && !detail.includes(fields[0]) ? `${detail} (${fields.join("; ")})` : detail;
}

export function errorBox(error) {
  return h("div", { class: "lead-error", role: "alert" }, messageOf(error));
}

/* Show an error (or clear it with null) in a slot element. */
export function showError(slot, error) {
  if (!slot) return;
  replace(slot, error ? errorBox(error) : null);
}

/* Run `work` with the button disabled and a busy label; errors go to `slot` (and are not rethrown). */
export async function withBusy(button, busyLabel, work, slot) {
  const label = button ? button.textContent : "";
  if (button) {
    button.disabled = true;
    button.textContent = busyLabel;
  }
  showError(slot, null);
  try {
    return await work();
  } catch (error) {
    if (slot) showError(slot, error);
    else throw error;
    return undefined;
  } finally {
    if (button && button.isConnected) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

/* The 412 box: what the server holds now, what the person tried, and the two ways on. */
export function staleBox(title, current, mine, reapply, takeTheirs) {
  return h("div", { class: "lead-conflict", role: "alert" },
    h("p", {}, h("strong", {}, title)),
    current,
    h("div", { class: "lead-mine" }, mine),
    h("div", { class: "actions" }, reapply,
      h("button", { class: "btn", type: "button", dataset: { action: "take-theirs" }, onclick: takeTheirs },
        "Dùng bản trên máy chủ")));
}

/* A labelled text area or input (the field styles of css/app.css). */
export function textField(label, { value = "", rows = 3, name, required = false, type = null, hint = null } = {}) {
  const control = type
    ? h("input", { type, name, value: value || "", required })
    : h("textarea", { name, rows, required }, value || "");
  if (!type) control.value = value || "";
  const field = h("label", { class: "field" }, h("span", { class: "field-label" }, label,
    required ? h("span", { class: "required", "aria-hidden": "true" }, "*") : null), control,
  hint ? h("span", { class: "muted small" }, hint) : null);
  return { field, control };
}

/* One line per entry (bases, recipients…) ⇄ the text of a text area. */
export const linesToText = (lines) => (lines || []).join("\n");
export const textToLines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);

/* The fields of `typed` that differ from what the form was opened with. */
export function changedFields(opened, typed) {
  return Object.fromEntries(Object.entries(typed).filter(([name, value]) => (opened[name] ?? null) !== value));
}

const FIELD_LABELS = { text: "câu chữ", cause_subjective: "nguyên nhân chủ quan", cause_objective: "nguyên nhân khách quan",
  deadline: "thời hạn", status: "trạng thái" };

export function describeChanges(changes) {
  return Object.entries(changes).map(([name, value]) => {
    const shown = value === null ? "(để trống)" : name === "deadline" ? formatDate(value) : `“${value}”`;
    return `${FIELD_LABELS[name] || name}: ${shown}`;
  }).join("; ");
}
