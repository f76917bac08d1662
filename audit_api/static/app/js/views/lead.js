/* "Xem xét": the team lead (deputy, secretary) reviews an inspection online — each section of the checklist with
 * its status and author; a submitted section's answers read-only; approve it, or return it to its author with a
 * comment (required); approve the whole inspection and reopen it (lead, deputy). Server: services/review.py. */

import * as api from "../api.js";
import { appliesTo, DATA_SOURCES, describe, Evaluator } from "../checklist.js";
import * as data from "../data.js";
import { formatDate, formatDateTime, SECTION_STATUSES } from "../format.js";
import { ask, badge, h, replace, toast } from "../ui.js";
import { APPROVERS, canReview, READ_ONLY, refused, screenHead, teamRole, textField, withBusy }
  from "./lead-common.js";

const TITLE = "Xem xét kết quả kiểm tra";
const SECTION_KINDS = { open: "plain", submitted: "info", returned: "danger", approved: "ok" };

export async function render(ctx, inspectionId) {
  const bundle = await api.bundle(inspectionId);
  const role = teamRole(ctx, bundle.inspection);
  if (!canReview(role)) return refused(bundle.inspection, "xem-xet", TITLE, role);
  const definition = await checklistOf(ctx, bundle.inspection.checklist);
  return new ReviewScreen(ctx, bundle, definition, role).element;
}

/* The pinned checklist version: the tablet's copy when downloaded, else from the server. */
export async function checklistOf(ctx, { key, version, sha256 }) {
  const stored = ctx.db ? await ctx.db.get("checklists", data.checklistId(key, version)) : null;
  if (stored && stored.sha256 === sha256) return stored.definition;
  return api.checklist(key, version);
}

class ReviewScreen {
  constructor(ctx, bundle, definition, role) {
    Object.assign(this, { ctx, bundle, definition, role });
    this.opened = new Set(); // sections whose answers are shown
    this.body = h("div", { id: "review" });
    this.element = h("div", { class: "page lead", id: "review-page" });
    this.paint();
  }

  async reload() {
    this.bundle = await api.bundle(this.bundle.inspection.id);
    this.paint();
  }

  paint() {
    const { inspection } = this.bundle;
    replace(this.element, screenHead(inspection, "xem-xet", TITLE,
      "Mở phần đã nộp để xem câu trả lời; duyệt phần đạt yêu cầu hoặc trả lại cho người nhập kèm ý kiến."),
    this.inspectionCard(), this.body);
    replace(this.body, this.definition.sections.map((section) => this.sectionCard(section)));
  }

  assignment(code) {
    return this.bundle.sections.find((s) => s.section_code === code) || null;
  }

  /* --- the whole inspection ------------------------------------------------------------------------- */

  inspectionCard() {
    const { inspection } = this.bundle;
    const counts = { open: 0, submitted: 0, returned: 0, approved: 0 };
    for (const section of this.definition.sections) {
      const status = (this.assignment(section.code) || { status: "open" }).status;
      counts[status] = (counts[status] || 0) + 1;
    }
    const total = this.definition.sections.length;
    const slot = h("div", {});
    const mayApprove = APPROVERS.includes(this.role);
    const actions = [];
    let hint = null;
    if (mayApprove && inspection.status === "approved") {
      actions.push(h("button", { class: "btn", type: "button", id: "reopen-inspection",
        onclick: (e) => this.reopen(e.currentTarget, slot) }, "Mở lại để sửa"));
      hint = "Cuộc kiểm tra đã được duyệt: kết quả, hạn chế và kiến nghị chỉ được xem. Có thể lập và ban hành biên bản.";
    } else if (mayApprove && !READ_ONLY.includes(inspection.status)) {
      const button = h("button", { class: "btn btn-primary", type: "button", id: "approve-inspection",
        onclick: (e) => this.approveAll(e.currentTarget, slot) }, "Duyệt cuộc kiểm tra");
      button.disabled = inspection.status !== "submitted";
      actions.push(button);
      if (inspection.status !== "submitted") {
        hint = "Chỉ duyệt được cuộc kiểm tra khi mọi phần đã nộp và không còn phần bị trả lại.";
      }
    } else if (inspection.status === "minutes_issued" || inspection.status === "closed") {
      hint = "Biên bản đã ban hành: kết quả kiểm tra được giữ nguyên, không mở lại được.";
    } else if (!mayApprove) {
      hint = "Trưởng đoàn hoặc Phó Trưởng đoàn duyệt cả cuộc kiểm tra.";
    }
    return h("section", { class: "card", id: "inspection-review" },
      h("div", { class: "card-row" },
        h("div", { class: "grow" },
          h("h2", {}, "Tình hình các phần"),
          h("div", { class: "actions", id: "section-counts" },
            badge(`${total} phần`, "plain"),
            badge(`Chờ xem xét ${counts.submitted}`, "info"),
            badge(`Đã duyệt ${counts.approved}`, "ok"),
            counts.returned ? badge(`Trả lại ${counts.returned}`, "danger") : null,
            badge(`Đang thực hiện ${counts.open}`, "plain")),
          hint ? h("p", { class: "muted small lead-hint" }, hint) : null),
        actions.length ? h("div", { class: "actions" }, actions) : null),
      slot);
  }

  async approveAll(button, slot) {
    const choice = await ask({
      title: "Duyệt cuộc kiểm tra?",
      body: ["Mọi phần được duyệt. Từ đây kết quả, hạn chế và kiến nghị chỉ được xem cho đến khi Trưởng đoàn mở lại.",
        "Sau khi duyệt có thể ban hành biên bản."],
      buttons: [{ label: "Quay lại", value: "cancel" }, { label: "Duyệt cuộc kiểm tra", value: "approve", class: "btn-primary" }],
    });
    if (choice !== "approve") return;
    await withBusy(button, "Đang duyệt…", async () => {
      await api.post(`/inspections/${this.bundle.inspection.id}/approve`);
      toast("Đã duyệt cuộc kiểm tra.");
      await this.reload();
    }, slot);
  }

  async reopen(button, slot) {
    const choice = await ask({
      title: "Mở lại cuộc kiểm tra?",
      body: ["Mọi phần trở về trạng thái đang thực hiện để thành viên sửa kết quả; sau đó các phần cần nộp và duyệt lại."],
      buttons: [{ label: "Quay lại", value: "cancel" }, { label: "Mở lại", value: "reopen", class: "btn-primary" }],
    });
    if (choice !== "reopen") return;
    await withBusy(button, "Đang mở lại…", async () => {
      await api.post(`/inspections/${this.bundle.inspection.id}/reopen`);
      toast("Đã mở lại cuộc kiểm tra.");
      await this.reload();
    }, slot);
  }

  /* --- one section ---------------------------------------------------------------------------------- */

  sectionCard(section) {
    const assignment = this.assignment(section.code);
    const status = assignment ? assignment.status : "open";
    const codes = new Set(section.items.map((item) => item.code));
    const answered = this.bundle.answers.filter((a) => codes.has(a.item_code) && a.value !== null).length;
    const slot = h("div", {});
    const panel = h("div", { class: "review-answers", id: `answers-${section.code}` });
    const returnForm = h("div", { class: "review-return hidden" });
    const toggle = h("button", { class: "btn", type: "button", dataset: { action: "answers" },
      "aria-controls": `answers-${section.code}` });
    const show = (open) => {
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Ẩn câu trả lời" : `Xem câu trả lời (${answered})`;
      replace(panel, open ? this.answers(section) : null);
    };
    toggle.addEventListener("click", () => {
      const open = !this.opened.has(section.code);
      if (open) this.opened.add(section.code);
      else this.opened.delete(section.code);
      show(open);
    });
    show(this.opened.has(section.code));
    const reviewable = canReview(this.role) && status === "submitted" && !READ_ONLY.includes(this.bundle.inspection.status);
    const actions = [toggle];
    if (reviewable) {
      actions.push(
        h("button", { class: "btn btn-primary", type: "button", dataset: { action: "approve" },
          onclick: (e) => this.review(section.code, "approve", null, e.currentTarget, slot) }, "Duyệt phần này"),
        h("button", { class: "btn", type: "button", dataset: { action: "return" }, onclick: () => {
          returnForm.classList.remove("hidden");
          returnForm.querySelector("textarea").focus();
        } }, "Trả lại"));
      this.fillReturnForm(returnForm, section.code, slot);
    }
    return h("article", { class: `card review-section status-${status}`, dataset: { section: section.code, status } },
      h("div", { class: "review-head" },
        h("span", { class: "review-letter", "aria-hidden": "true" }, section.code),
        h("div", { class: "grow" },
          h("h2", {}, `Phần ${section.code}. ${section.title}`),
          h("div", { class: "meta" },
            h("span", {}, assignment && assignment.assignee ? `Người nhập: ${assignment.assignee.full_name}` : "Chưa phân công"),
            assignment && assignment.submitted_at ? h("span", {}, `Nộp lúc ${formatDateTime(assignment.submitted_at)}`) : null,
            assignment && assignment.reviewed_at ? h("span", {}, `Xem xét lúc ${formatDateTime(assignment.reviewed_at)}`) : null),
          h("div", { class: "actions" }, badge(SECTION_STATUSES[status] || status, SECTION_KINDS[status] || "plain"),
            badge(`${answered} câu trả lời`, "plain")),
          assignment && assignment.review_comment ? h("p", { class: `review-comment${status === "returned" ? " returned" : ""}` },
            h("strong", {}, status === "returned" ? "Ý kiến khi trả lại: " : "Ý kiến xem xét gần nhất: "),
            assignment.review_comment) : null)),
      h("div", { class: "actions review-actions" }, actions),
      returnForm, slot, panel);
  }

  fillReturnForm(form, code, slot) {
    const { field, control } = textField("Ý kiến gửi người nhập (bắt buộc)", { rows: 3, name: "comment", required: true,
      hint: "Nêu rõ cần bổ sung, sửa nội dung gì. Phần được mở lại cho người nhập." });
    const message = h("p", { class: "item-message error", role: "alert" });
    const send = h("button", { class: "btn btn-danger", type: "button", dataset: { action: "confirm-return" } }, "Gửi trả lại");
    send.addEventListener("click", () => {
      const comment = control.value.trim();
      if (!comment) {
        message.textContent = "Cần ghi ý kiến khi trả lại phần kiểm tra.";
        control.setAttribute("aria-invalid", "true");
        control.focus();
        return;
      }
      this.review(code, "return", comment, send, slot);
    });
    replace(form, field, message, h("div", { class: "actions" }, send,
      h("button", { class: "btn btn-ghost", type: "button", onclick: () => form.classList.add("hidden") }, "Hủy")));
  }

  async review(code, decision, comment, button, slot) {
    await withBusy(button, decision === "approve" ? "Đang duyệt…" : "Đang gửi…", async () => {
      await api.post(`/inspections/${this.bundle.inspection.id}/sections/${code}/review`, { decision, comment });
      toast(decision === "approve" ? `Đã duyệt phần ${code}.` : `Đã trả lại phần ${code} cho người nhập.`);
      await this.reload();
    }, slot);
  }

  /* --- the answers of a section, read-only ---------------------------------------------------------- */

  answers(section) {
    const units = this.bundle.units.filter((unit) => section.items.some((item) => appliesTo(item, unit)));
    return units.map((unit) => {
      const values = new Map(this.bundle.answers.filter((a) => a.unit_id === unit.id).map((a) => [a.item_code, a]));
      const evaluator = new Evaluator(this.definition, (code) => (values.get(code) || {}).value ?? null);
      const items = section.items.filter((item) => appliesTo(item, unit) && evaluator.visible(item));
      const shown = items.filter((item) => values.has(item.code) && values.get(item.code).value !== null);
      const missing = items.filter((item) => !shown.includes(item));
      return h("div", { class: "review-unit", dataset: { unit: unit.id } },
        units.length > 1 ? h("h3", {}, unit.name) : null,
        shown.length ? h("ol", { class: "review-answer-list" }, shown.map((item) =>
          this.answerRow(item, values.get(item.code), evaluator.passes(item), unit)))
          : h("p", { class: "muted" }, "Chưa có câu trả lời nào."),
        missing.length ? h("p", { class: "muted small" }, `Chưa trả lời (${missing.length}): `,
          missing.map((item) => item.code).join(", ")) : null);
    });
  }

  answerRow(item, answer, passes, unit) {
    const host = this.bundle.inspection.host_unit.id;
    const photos = this.bundle.photos.filter((p) => p.item_code === item.code && (p.unit_id || host) === unit.id);
    const details = [
      answer.note ? `Ghi chú: ${answer.note}` : null,
      answer.source ? `Nguồn: ${DATA_SOURCES[answer.source] || answer.source}` : null,
      answer.period ? `Kỳ số liệu: ${formatDate(answer.period.from)} – ${formatDate(answer.period.to)}` : null,
      answer.author ? `Người nhập: ${answer.author.full_name}` : null,
    ].filter(Boolean);
    return h("li", { class: "review-answer-row", dataset: { item: item.code } },
      h("span", { class: "code-chip" }, item.code),
      h("div", { class: "grow" },
        h("div", { class: "question" }, item.question),
        h("div", { class: "review-answer-value" }, describe(item, answer.value)),
        details.length ? h("div", { class: "muted small" }, details.join(" · ")) : null),
      h("div", { class: "review-answer-badges" },
        passes === true ? badge("Đạt", "ok") : passes === false ? badge("Chưa đạt", "danger") : null,
        photos.length ? badge(`${photos.length} ảnh`, "plain") : null));
  }
}
