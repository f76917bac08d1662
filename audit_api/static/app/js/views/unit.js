/* "Văn bản và kiến nghị": the home of an inspected unit (role `unit`). Its issued documents (minutes and
 * conclusion notices: number, date, title; preview, PDF, DOCX) and its corrective actions with state, deadline,
 * overdue marking and filters. The unit works online, in its office: everything comes from the server. */

import * as api from "../api.js";
import { formatDate } from "../format.js";
import { badge, h, replace } from "../ui.js";
import {
  actionState, deadlineParts, downloadButton, errorBox, FILTERS, HOME, isUnitUser, kindLabel, releaseUrls,
  stateBadge,
} from "./unit-shared.js";

export { isUnitUser } from "./unit-shared.js";

const PAGE_SIZE = 200;
/* Waiting for the unit first, then waiting for the team, then closed; earliest deadline first in each. */
const ORDER = { returned: 0, open: 0, responded: 1, "cannot-fix": 1, closed: 2, "closed-cannot-fix": 2 };

async function allPages(path) {
  const rows = [];
  for (let page = 1; page <= 50; page += 1) {
    const got = await api.get(`${path}${path.includes("?") ? "&" : "?"}page=${page}&page_size=${PAGE_SIZE}`);
    rows.push(...got.data);
    if (page >= got.pagination.pages) break;
  }
  return rows;
}

/* The list leaves the document's own title out; the detail has it (the "trích yếu" as printed). */
async function withTitles(documents) {
  return Promise.all(documents.map(async (doc) => {
    try {
      const full = await api.get(`/documents/${doc.id}`);
      return { ...doc, summary: (full.view && full.view.summary) || [] };
    } catch {
      return { ...doc, summary: [] };
    }
  }));
}

export async function render(ctx, slug = "tat-ca") {
  releaseUrls();
  const user = ctx.session.user;
  if (!isUnitUser(user)) return notForStaff();
  let documents;
  let actions;
  try {
    [documents, actions] = await Promise.all([allPages("/documents").then(withTitles), allPages("/actions")]);
  } catch (error) {
    return failed(error);
  }
  const filter = FILTERS.find((f) => f.slug === slug) || FILTERS[0];
  const overdue = actions.filter((a) => a.is_overdue).length;
  return h("div", { class: "page unit-home", id: "unit-home" },
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, "Văn bản và kiến nghị"),
        h("p", { class: "muted" }, user.unit ? user.unit.name : user.full_name, " · ",
          "Văn bản Đoàn kiểm tra đã ban hành cho đơn vị và các kiến nghị cần khắc phục."))),
    overdue ? h("div", { class: "banner danger unit-alert", role: "status" },
      h("span", { class: "grow" }, `Có ${overdue} kiến nghị đã quá thời hạn khắc phục và đang chờ đơn vị trả lời. `,
        "Hãy báo cáo kết quả hoặc lý do không thể khắc phục."),
      h("a", { class: "btn", href: `${HOME}/qua-han` }, "Xem kiến nghị quá hạn")) : null,
    documentsSection(documents),
    actionsSection(actions, filter));
}

function notForStaff() {
  return h("div", { class: "page" }, h("div", { class: "card empty" },
    h("h1", {}, "Màn hình dành cho đơn vị được kiểm tra"),
    h("p", {}, "Tài khoản của bạn thuộc Đoàn kiểm tra. Việc khắc phục của các đơn vị được xem trong màn hình của Đoàn."),
    h("a", { class: "btn btn-primary", href: "#/" }, "Về danh sách cuộc kiểm tra")));
}

/* --- documents ------------------------------------------------------------------------------------------ */

function documentsSection(documents) {
  const list = h("div", { id: "unit-documents", class: "unit-documents" });
  if (!documents.length) {
    list.append(h("div", { class: "card empty" }, "Chưa có văn bản nào được ban hành cho đơn vị."));
  } else {
    list.append(...documents.map(documentCard));
  }
  return h("section", { class: "unit-section", "aria-labelledby": "unit-documents-title" },
    h("h2", { id: "unit-documents-title" }, "Văn bản đã ban hành ", h("span", { class: "muted" }, `(${documents.length})`)),
    list);
}

function documentCard(doc) {
  const number = doc.display_number.replace(/^Số:\s*/, "");
  const title = doc.summary.length ? doc.summary.join(" ") : kindLabel(doc.kind, true);
  const file = number.replace(/[^0-9A-Za-zĐđ-]+/g, "-");
  return h("article", { class: "card unit-doc", dataset: { documentId: doc.id, kind: doc.kind } },
    h("div", { class: "unit-doc-main" },
      h("div", { class: "unit-doc-kind" }, badge(kindLabel(doc.kind), doc.kind === "minutes" ? "info plain" : "ok plain")),
      h("h3", { class: "unit-doc-number" }, `Số ${number}`),
      h("p", { class: "unit-doc-title" }, title),
      h("div", { class: "meta" },
        h("span", {}, `Ngày ban hành: ${formatDate(doc.issued_on)}`),
        doc.signer_name ? h("span", {}, `Người ký: ${doc.signer_name}`) : null)),
    h("div", { class: "unit-doc-actions" },
      h("a", { class: "btn btn-primary", href: `${HOME}/van-ban/${doc.id}`, dataset: { action: "preview" } },
        "Xem văn bản"),
      downloadButton("Tải PDF", `/documents/${doc.id}/pdf`, `${file}.pdf`, { dataset: { action: "pdf" } }),
      downloadButton("Tải DOCX", `/documents/${doc.id}/docx`, `${file}.docx`, { dataset: { action: "docx" } })));
}

/* --- corrective actions ------------------------------------------------------------------------------- */

function sortActions(actions) {
  return [...actions].sort((a, b) => (ORDER[actionState(a).key] - ORDER[actionState(b).key])
    || (a.deadline || "9999").localeCompare(b.deadline || "9999"));
}

function actionsSection(actions, initial) {
  const list = h("div", { id: "unit-actions", class: "unit-actions" });
  const buttons = FILTERS.map((f) => h("button", {
    class: "unit-filter", type: "button", dataset: { filter: f.slug },
    "aria-pressed": String(f === initial),
  }, f.label, h("span", { class: "unit-count" }, String(actions.filter(f.test).length))));
  const sorted = sortActions(actions);

  function show(filter) {
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.filter === filter.slug));
    const shown = sorted.filter(filter.test);
    list.dataset.filter = filter.slug;
    if (!actions.length) {
      replace(list, h("div", { class: "card empty" }, "Đơn vị chưa có kiến nghị khắc phục nào."));
    } else if (!shown.length) {
      replace(list, h("div", { class: "card empty" }, `Không có kiến nghị nào ở mục “${filter.label}”.`));
    } else {
      replace(list, shown.map(actionCard));
    }
  }

  for (const button of buttons) {
    button.addEventListener("click", () => {
      const filter = FILTERS.find((f) => f.slug === button.dataset.filter);
      show(filter);
      // the address keeps the filter (back and reload come back to it) without drawing the screen again
      history.replaceState(null, "", filter.slug === "tat-ca" ? HOME : `${HOME}/${filter.slug}`);
    });
  }
  show(initial);
  return h("section", { class: "unit-section", "aria-labelledby": "unit-actions-title" },
    h("h2", { id: "unit-actions-title" }, "Kiến nghị khắc phục ", h("span", { class: "muted" }, `(${actions.length})`)),
    h("div", { class: "unit-filters", id: "action-filters", role: "group", "aria-label": "Lọc kiến nghị" }, buttons),
    list);
}

function actionCard(action) {
  const state = actionState(action);
  const deadline = deadlineParts(action);
  const waiting = action.status === "open";
  return h("article", {
    class: `card unit-action ${action.is_overdue ? "overdue" : ""}`,
    dataset: { actionId: action.id, status: action.status, state: state.key, overdue: String(action.is_overdue) },
  },
  h("div", { class: "unit-action-main" },
    h("p", { class: "unit-action-text" }, action.text),
    h("div", { class: "meta" },
      h("span", { class: action.is_overdue ? "unit-late" : "" }, deadline.text),
      h("span", {}, `Theo văn bản số ${action.document_number.replace(/^Số:\s*/, "")}`)),
    h("div", { class: "actions" }, stateBadge(action), deadline.flag)),
  h("div", { class: "unit-action-go" },
    h("a", { class: `btn ${waiting ? "btn-primary" : ""}`, href: `${HOME}/kien-nghi/${action.id}` },
      waiting ? "Trả lời" : "Xem chi tiết")));
}

/* The screen could not load (no connection, server error): say so, offer to try again. */
function failed(error) {
  return h("div", { class: "page" }, h("div", { class: "card" },
    h("h1", {}, "Chưa tải được dữ liệu của đơn vị"), errorBox(error),
    h("button", { class: "btn btn-primary", type: "button", onclick: () => location.reload() }, "Thử lại")));
}
