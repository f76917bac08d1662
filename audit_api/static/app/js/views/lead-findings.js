/* "Hạn chế và kiến nghị": the findings and strengths of an inspection (generated from the answers by the rules, or
 * written by hand) with their wording, the unit concerned and their flags; edit the wording, keep, drop with a
 * reason, restore; the recommendations of each finding: add (offering the checklist's suggested wording), edit the
 * text and deadline, delete; and the readiness check the minutes rely on. Server: api/findings.py.
 *
 * Every edit of one finding or recommendation sends If-Match with its ETag. When someone changed it meanwhile the
 * server answers 412 with its current version: the card shows both and lets the person apply their change again
 * on top of the current version, or take the server's. */

import * as api from "../api.js";
import { badge, h, replace, toast } from "../ui.js";
import { canReview, changedFields, describeChanges, inspection as getInspection, READ_ONLY, refused, screenHead, send,
  showError, staleBox, staleCurrent, teamRole, textField, withBusy } from "./lead-common.js";
import { RecommendationRow } from "./lead-recommendations.js";

const TITLE = "Hạn chế và kiến nghị";
export const FINDING_STATUSES = {
  draft: ["Dự thảo: chưa xem", "warn"],
  kept: ["Giữ", "ok"],
  edited: ["Đã sửa câu chữ", "info"],
  dropped: ["Đã bỏ", "plain"],
};
const SEVERITIES = { minor: "Mức độ: nhẹ", major: "Mức độ: đáng kể", critical: "Mức độ: nghiêm trọng" };

export async function render(ctx, inspectionId) {
  const inspection = await getInspection(inspectionId);
  const role = teamRole(ctx, inspection);
  if (!canReview(role)) return refused(inspection, "han-che", TITLE, role);
  const screen = new FindingsScreen(ctx, inspection);
  await screen.reload();
  return screen.element;
}

class FindingsScreen {
  constructor(ctx, inspection) {
    Object.assign(this, { ctx, inspection });
    this.readiness = h("section", { class: "card", id: "readiness", "aria-live": "polite" });
    this.lists = h("div", { id: "findings" });
    this.banner = h("div", {});
    this.element = h("div", { class: "page lead", id: "findings-page" });
  }

  get editable() {
    return !READ_ONLY.includes(this.inspection.status);
  }

  async reload() {
    const id = this.inspection.id;
    const [inspection, page, readiness] = await Promise.all([getInspection(id),
      api.get(`/inspections/${id}/findings?page_size=500`), api.get(`/inspections/${id}/findings/readiness`)]);
    this.inspection = inspection;
    this.findings = page.data;
    replace(this.element, screenHead(inspection, "han-che", TITLE,
      "Hạn chế do danh mục sinh từ câu trả lời được sửa câu chữ, giữ hoặc bỏ (ghi lý do). Mỗi hạn chế cần ít nhất một kiến nghị."),
    this.banner, this.readiness, this.lists);
    replace(this.banner, this.editable ? null : h("div", { class: "banner info lead-banner", id: "findings-read-only" },
      h("span", { class: "grow" }, "Cuộc kiểm tra đã được duyệt hoặc đã ban hành biên bản: hạn chế và kiến nghị chỉ được xem. ",
        "Trưởng đoàn mở lại cuộc kiểm tra ở màn hình Xem xét để sửa.")));
    this.paintReadiness(readiness);
    this.paintLists();
  }

  paintReadiness(readiness) {
    const refs = (list) => h("ul", { class: "lead-refs" }, list.map((f) => h("li", {},
      h("a", { href: `#finding-${f.id}`, onclick: (event) => this.jump(event, f.id) },
        f.item_code ? h("span", { class: "code-chip" }, f.item_code) : null, " ", f.text))));
    replace(this.readiness,
      h("h2", {}, "Kiểm tra trước khi lập văn bản"),
      readiness.ready
        ? h("p", {}, badge("Sẵn sàng: mọi hạn chế đã giữ hoặc đã sửa đều có kiến nghị", "ok"))
        : h("div", {}, h("p", {}, badge(`${readiness.missing_recommendations.length} hạn chế chưa có kiến nghị`, "danger"),
          " Biên bản chưa ban hành được cho đến khi bổ sung kiến nghị."), refs(readiness.missing_recommendations)),
      readiness.undecided.length
        ? h("div", {}, h("p", {}, badge(`${readiness.undecided.length} hạn chế còn dự thảo`, "warn"),
          " Chưa ai giữ, sửa hay bỏ; hạn chế dự thảo vẫn được đưa vào văn bản."), refs(readiness.undecided))
        : h("p", { class: "muted" }, "Không còn hạn chế dự thảo."));
    this.readiness.dataset.ready = String(readiness.ready);
  }

  jump(event, id) {
    event.preventDefault(); // the hash is the router's
    const card = document.getElementById(`finding-${id}`);
    if (card) card.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  paintLists() {
    const shown = this.findings.filter((f) => f.status !== "dropped");
    const groups = [
      ["Tồn tại, hạn chế", "findings-kept", shown.filter((f) => f.kind === "finding"), "Không có hạn chế nào."],
      ["Kết quả đạt được", "strengths", shown.filter((f) => f.kind === "strength"), "Chưa có kết quả đạt được nào."],
      ["Đã bỏ", "dropped", this.findings.filter((f) => f.status === "dropped"), "Không có hạn chế nào bị bỏ."],
    ];
    replace(this.lists, groups.map(([title, id, list, empty]) => h("section", { class: "lead-group", id },
      h("h2", {}, `${title} (${list.length})`),
      list.length ? list.map((finding) => new FindingCard(this, finding).element)
        : h("p", { class: "muted card" }, empty))));
  }
}

/* --- one finding ---------------------------------------------------------------------------------------- */

class FindingCard {
  constructor(screen, finding) {
    Object.assign(this, { screen, finding });
    this.slot = h("div", { class: "lead-slot" });
    this.form = h("div", { class: "lead-form hidden" });
    this.element = h("article", { class: `card lead-finding status-${finding.status}`, id: `finding-${finding.id}`,
      dataset: { findingId: finding.id, item: finding.item_code || "", status: finding.status, kind: finding.kind } });
    this.paint();
  }

  get editable() {
    return this.screen.editable;
  }

  paint() {
    const f = this.finding;
    const [statusLabel, statusKind] = FINDING_STATUSES[f.status] || [f.status, "plain"];
    replace(this.element,
      h("div", { class: "lead-finding-head" },
        f.item_code ? h("span", { class: "code-chip" }, f.item_code) : h("span", { class: "code-chip" }, "—"),
        h("div", { class: "grow" },
          h("div", { class: "meta" },
            h("span", { class: "lead-finding-unit" }, `Đơn vị: ${f.unit.name}`),
            f.section_code ? h("span", {}, `Phần ${f.section_code}`) : null,
            h("span", {}, f.origin === "rule" ? "Sinh từ danh mục" : `Ghi tay${f.created_by ? `: ${f.created_by.full_name}` : ""}`)),
          h("div", { class: "actions" }, badge(statusLabel, statusKind),
            f.severity ? badge(SEVERITIES[f.severity] || f.severity, "plain") : null,
            f.is_answer_changed_since_edit ? badge("Câu trả lời đã thay đổi sau khi sửa", "warn") : null,
            f.is_incomplete ? badge("Còn thiếu số liệu", "warn") : null))),
      h("p", { class: "lead-finding-text" }, f.text),
      this.changedFigures(),
      f.cause_subjective ? h("p", { class: "small" }, h("strong", {}, "Nguyên nhân chủ quan: "), f.cause_subjective) : null,
      f.cause_objective ? h("p", { class: "small" }, h("strong", {}, "Nguyên nhân khách quan: "), f.cause_objective) : null,
      f.status === "dropped" ? h("p", { class: "lead-drop-reason" }, h("strong", {}, "Lý do bỏ: "), f.drop_reason) : null,
      this.actions(), this.form, this.slot,
      f.kind === "finding" && f.status !== "dropped" ? this.recommendations() : null);
  }

  /* The figures under an edited finding changed: offer the wording the rule now generates. */
  changedFigures() {
    const f = this.finding;
    if (!f.generated_text || f.generated_text === f.text || f.status === "dropped") return null;
    const box = h("div", { class: f.is_answer_changed_since_edit ? "lead-note warn" : "lead-note" },
      h("p", {}, h("strong", {}, f.is_answer_changed_since_edit ? "Câu chữ theo số liệu mới: " : "Câu chữ danh mục sinh ra: "),
        f.generated_text));
    if (this.editable && f.is_answer_changed_since_edit) {
      box.append(h("div", { class: "actions" },
        h("button", { class: "btn", type: "button", dataset: { action: "use-generated" },
          onclick: (e) => this.save(e.currentTarget, { text: f.generated_text }, "dùng câu chữ theo số liệu mới") },
        "Dùng câu chữ theo số liệu mới"),
        h("button", { class: "btn", type: "button", dataset: { action: "confirm-text" },
          onclick: (e) => this.save(e.currentTarget, { text: f.text }, "giữ câu chữ đã sửa") }, "Giữ câu chữ đã sửa")));
    }
    return box;
  }

  actions() {
    if (!this.editable) return null;
    const f = this.finding;
    if (f.status === "dropped") {
      return h("div", { class: "actions" }, h("button", { class: "btn", type: "button", dataset: { action: "restore" },
        onclick: (e) => this.run(e.currentTarget, "Đang khôi phục…", (etag) => send("POST", `/findings/${f.id}/restore`, { etag }),
          "khôi phục hạn chế", "Đã khôi phục.") }, "Khôi phục"));
    }
    return h("div", { class: "actions" },
      h("button", { class: "btn", type: "button", dataset: { action: "edit" }, onclick: () => this.openEditor() }, "Sửa câu chữ"),
      f.status === "draft" ? h("button", { class: "btn", type: "button", dataset: { action: "keep" },
        onclick: (e) => this.save(e.currentTarget, { status: "kept" }, "giữ hạn chế") }, "Giữ") : null,
      h("button", { class: "btn", type: "button", dataset: { action: "drop" }, onclick: () => this.openDrop() },
        f.kind === "strength" ? "Bỏ kết quả này" : "Bỏ hạn chế"));
  }

  /* --- editing ----------------------------------------------------------------------------------------- */

  openEditor() {
    const f = this.finding;
    const text = textField("Câu chữ", { value: f.text, rows: 4, name: "text", required: true });
    const subjective = textField("Nguyên nhân chủ quan", { value: f.cause_subjective, rows: 2, name: "cause_subjective" });
    const objective = textField("Nguyên nhân khách quan", { value: f.cause_objective, rows: 2, name: "cause_objective" });
    const save = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "save" } }, "Lưu");
    save.addEventListener("click", () => {
      const typed = { text: text.control.value.trim(), cause_subjective: subjective.control.value.trim() || null,
        cause_objective: objective.control.value.trim() || null };
      if (!typed.text) {
        showError(this.slot, new Error("Câu chữ của hạn chế không được để trống."));
        return;
      }
      // only what the person changed: re-applied after a 412, it must not undo someone else's other fields
      const changes = changedFields(f, typed);
      if (!Object.keys(changes).length) {
        this.form.classList.add("hidden");
        return;
      }
      this.save(save, changes, describeChanges(changes));
    });
    this.showForm(text.field, f.kind === "finding" ? [subjective.field, objective.field] : null,
      h("div", { class: "actions" }, save, this.cancel()));
    text.control.focus();
  }

  openDrop() {
    const reason = textField("Lý do bỏ (bắt buộc)", { rows: 2, name: "reason", required: true,
      hint: "Hạn chế bị bỏ vẫn được lưu cùng lý do và khôi phục được." });
    const confirm = h("button", { class: "btn btn-danger", type: "button", dataset: { action: "confirm-drop" } }, "Bỏ");
    confirm.addEventListener("click", () => {
      const text = reason.control.value.trim();
      if (!text) {
        reason.control.setAttribute("aria-invalid", "true");
        showError(this.slot, new Error("Cần ghi lý do bỏ hạn chế."));
        return;
      }
      this.run(confirm, "Đang bỏ…", (etag) => send("POST", `/findings/${this.finding.id}/drop`, { etag, body: { reason: text } }),
        `bỏ với lý do “${text}”`, "Đã bỏ hạn chế.");
    });
    this.showForm(reason.field, h("div", { class: "actions" }, confirm, this.cancel()));
    reason.control.focus();
  }

  showForm(...children) {
    showError(this.slot, null);
    replace(this.form, children);
    this.form.classList.remove("hidden");
  }

  cancel() {
    return h("button", { class: "btn btn-ghost", type: "button", onclick: () => {
      this.form.classList.add("hidden");
      replace(this.form);
      showError(this.slot, null);
    } }, "Hủy");
  }

  save(button, changes, mine) {
    return this.run(button, "Đang lưu…", (etag) => send("PATCH", `/findings/${this.finding.id}`, { etag, body: changes }),
      mine, "Đã lưu.");
  }

  /* An If-Match request on this finding; a 412 shows the conflict with the server's current version. */
  async run(button, busyLabel, request, mine, done) {
    await withBusy(button, busyLabel, async () => {
      try {
        await request(this.finding.etag);
      } catch (error) {
        const current = staleCurrent(error);
        if (!current) throw error;
        this.conflict(current, mine, request, done);
        return;
      }
      toast(done);
      await this.screen.reload();
    }, this.slot);
  }

  conflict(current, mine, request, done) {
    const [label] = FINDING_STATUSES[current.status] || [current.status];
    const reapply = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "reapply" } },
      "Áp dụng lại thay đổi của tôi");
    reapply.addEventListener("click", () => {
      this.finding = current; // the next If-Match is the current version's ETag
      this.run(reapply, "Đang lưu…", request, mine, done);
    });
    replace(this.slot, staleBox("Hạn chế này vừa được người khác thay đổi trên máy chủ; thay đổi của bạn chưa được lưu.",
      [h("p", {}, h("strong", {}, `Bản hiện tại (phiên bản ${current.version}, ${label}): `), current.text),
        current.cause_subjective ? h("p", {}, h("strong", {}, "Nguyên nhân chủ quan: "), current.cause_subjective) : null,
        current.cause_objective ? h("p", {}, h("strong", {}, "Nguyên nhân khách quan: "), current.cause_objective) : null,
        current.status === "dropped" ? h("p", {}, h("strong", {}, "Lý do bỏ: "), current.drop_reason) : null],
      `Thay đổi của bạn: ${mine}.`, reapply, () => this.screen.reload()));
  }

  /* --- recommendations ------------------------------------------------------------------------------- */

  recommendations() {
    const list = this.finding.recommendations;
    const adder = h("div", { class: "lead-form hidden" });
    const slot = h("div", {});
    return h("div", { class: "lead-recs" },
      h("h3", {}, `Kiến nghị (${list.length})`),
      list.length ? h("ol", { class: "lead-rec-list" }, list.map((r) => new RecommendationRow(this, r).element))
        : h("p", { class: "muted small" }, "Chưa có kiến nghị: cần ít nhất một kiến nghị cho hạn chế này."),
      this.editable ? h("div", { class: "actions" }, h("button", { class: "btn", type: "button",
        dataset: { action: "add-recommendation" }, onclick: (e) => this.openAdder(adder, slot, e.currentTarget) },
      "Thêm kiến nghị")) : null,
      adder, slot);
  }

  async openAdder(adder, slot, button) {
    const detail = await withBusy(button, "Đang mở…", () => api.get(`/findings/${this.finding.id}`), slot);
    if (!detail) return;
    const used = new Set(this.finding.recommendations.map((r) => r.text));
    const unused = detail.suggested_recommendations.filter((text) => !used.has(text));
    const text = textField("Nội dung kiến nghị", { rows: 4, name: "text", required: true, value: unused[0] || "" });
    const deadline = textField("Thời hạn khắc phục", { type: "date", name: "deadline",
      hint: "Để trống: thời hạn mặc định theo cấu hình của tỉnh." });
    const suggestions = detail.suggested_recommendations.length ? h("div", { class: "lead-suggestions" },
      h("p", { class: "field-label" }, "Câu chữ danh mục gợi ý (chạm để dùng):"),
      detail.suggested_recommendations.map((suggestion) => h("button", { class: "choice lead-suggestion", type: "button",
        dataset: { action: "use-suggestion" }, onclick: () => { text.control.value = suggestion; text.control.focus(); } },
      suggestion, used.has(suggestion) ? h("span", { class: "muted small" }, " (đã có)") : null)))
      : h("p", { class: "muted small" }, "Danh mục không có câu chữ gợi ý cho hạn chế này.");
    const save = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "save-recommendation" } },
      "Thêm kiến nghị");
    save.addEventListener("click", () => withBusy(save, "Đang thêm…", async () => {
      const body = { text: text.control.value.trim() };
      if (!body.text) throw new Error("Cần nhập nội dung kiến nghị.");
      if (body.text === unused[0]) delete body.text; // the checklist's wording: its figures stay current
      if (deadline.control.value) body.deadline = deadline.control.value;
      await api.post(`/findings/${this.finding.id}/recommendations`, body);
      toast("Đã thêm kiến nghị.");
      await this.screen.reload();
    }, slot));
    replace(adder, suggestions, text.field, deadline.field, h("div", { class: "actions" }, save,
      h("button", { class: "btn btn-ghost", type: "button", onclick: () => adder.classList.add("hidden") }, "Hủy")));
    adder.classList.remove("hidden");
  }
}
