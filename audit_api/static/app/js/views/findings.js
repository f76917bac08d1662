/* Findings and strengths of a downloaded inspection, as the tablet holds them (offline too): the ones the
 * checklist's rules generated from the answers, and the team's own. A member edits the wording and the causes
 * of the findings of the sections they may write; the edit is saved on the tablet and goes out with the queue
 * (finding.update, on the version the tablet last saw). Generated findings appear after the answers are synced:
 * the server's rules write them, the change feed brings them. */

import * as data from "../data.js";
import { formatDateTime, SYNC_STATES } from "../format.js";
import * as outbox from "../outbox.js";
import { badge, h, replace, toast } from "../ui.js";

const FINDING_STATUSES = { draft: "Do hệ thống gợi ý", kept: "Đã giữ", edited: "Đã sửa", dropped: "Đã bỏ" };
const WRITERS = ["lead", "deputy", "secretary"];

export async function render(ctx, inspectionId) {
  const loaded = await data.loadInspection(ctx.db, inspectionId);
  if (!loaded) {
    return h("div", { class: "page" }, h("div", { class: "card empty" },
      h("h1", {}, "Cuộc kiểm tra chưa được tải về máy này"),
      h("a", { class: "btn btn-primary", href: "#/" }, "Về danh sách cuộc kiểm tra")));
  }
  const screen = new FindingsScreen(ctx, loaded, await data.findingsOf(ctx.db, inspectionId));
  return screen.element;
}

class FindingsScreen {
  constructor(ctx, loaded, findings) {
    Object.assign(this, { ctx, loaded });
    this.inspection = loaded.bundle.inspection;
    this.units = new Map(loaded.bundle.units.map((u) => [u.id, u]));
    this.list = h("div", { class: "finding-groups" });
    this.element = this.build();
    this.paint(findings);
    this.onChange = () => this.reload();
    outbox.events.addEventListener("change", this.onChange);
  }

  async reload() {
    if (!this.element.isConnected) {
      if (this.painted) outbox.events.removeEventListener("change", this.onChange);
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (this.element.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA") return;
      this.paint(await data.findingsOf(this.ctx.db, this.inspection.id));
    }, 200);
  }

  canEdit(finding) {
    const user = this.ctx.session.user;
    const team = (user.teams || []).find((t) => t.team_id === this.inspection.team_id);
    if (!team || !["planned", "in_progress", "returned"].includes(this.inspection.status)) return false;
    if (!finding.section_code || WRITERS.includes(team.team_role)) return Boolean(team);
    const section = this.loaded.bundle.sections.find((s) => s.section_code === finding.section_code);
    if (section && !["open", "returned"].includes(section.status)) return false;
    return !section || !section.assignee || section.assignee.id === user.id;
  }

  build() {
    const base = `#/kiem-tra/${this.inspection.id}`;
    return h("div", { class: "page" },
      h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Cuộc kiểm tra của tôi"), " › ",
        h("a", { href: base }, this.inspection.host_unit.name), " › Hạn chế và ưu điểm"),
      h("div", { class: "page-head" },
        h("div", { class: "grow" },
          h("h1", { id: "findings-title" }, "Hạn chế và ưu điểm"),
          h("p", { class: "muted" }, "Hệ thống gợi ý từ các câu trả lời đã đồng bộ; Đoàn kiểm tra giữ, sửa hoặc bỏ. ",
            "Bản sửa được lưu trên máy và gửi khi có mạng.")),
        h("a", { class: "btn", href: base }, "Về danh mục kiểm tra")),
      this.list);
  }

  paint(findings) {
    this.painted = true;
    const groups = [
      ["finding", "Hạn chế, tồn tại", "Chưa có hạn chế nào. Hạn chế được gợi ý sau khi các câu trả lời được đồng bộ."],
      ["strength", "Ưu điểm, kết quả nổi bật", "Chưa có ưu điểm nào."],
    ];
    const order = (f) => [this.units.get(f.unit_id)?.role === "host" ? 0 : 1, f.section_code || "", f.item_code || ""].join("|");
    replace(this.list, groups.map(([kind, title, none]) => {
      const rows = findings.filter((f) => (kind === "strength" ? f.kind === "strength" : f.kind !== "strength"))
        .sort((a, b) => order(a).localeCompare(order(b)));
      return h("section", { class: "card finding-group", dataset: { kind } },
        h("h2", {}, `${title} (${rows.length})`),
        rows.length ? rows.map((f) => this.row(f)) : h("p", { class: "muted" }, none));
    }));
  }

  row(finding) {
    const unit = this.units.get(finding.unit_id);
    const state = finding.sync_state && finding.sync_state !== "synced" ? finding.sync_state : null;
    const editable = this.canEdit(finding) && finding.status !== "dropped";
    const text = h("p", { class: "finding-text", dataset: { role: "text" } }, finding.text);
    const body = h("div", {}, text);
    const article = h("article", { class: `finding ${finding.status === "dropped" ? "dropped" : ""}`,
      dataset: { findingId: finding.id, item: finding.item_code || "", unit: finding.unit_id, state: state || "synced" } },
      h("div", { class: "finding-head" },
        h("div", { class: "grow meta" },
          unit ? h("strong", {}, unit.name) : null,
          finding.section_code ? h("span", {}, `Phần ${finding.section_code}${finding.item_code ? `, mục ${finding.item_code}` : ""}`) : null,
          h("span", {}, finding.origin === "rule" ? "Sinh từ câu trả lời" : "Do Đoàn ghi")),
        badge(FINDING_STATUSES[finding.status] || finding.status, finding.status === "dropped" ? "danger plain" : "info plain"),
        state ? h("span", { class: `badge state-${state}` }, SYNC_STATES[state]) : null),
      finding.answer_changed_since_edit ? h("div", { class: "item-message warn" },
        "Câu trả lời đã thay đổi sau khi hạn chế này được sửa: hãy xem lại nội dung.") : null,
      finding.incomplete ? h("div", { class: "item-message" }, "Chưa đủ số liệu để hoàn chỉnh nội dung.") : null,
      body,
      finding.status === "dropped" && finding.drop_reason ? h("p", { class: "small muted" }, `Lý do bỏ: ${finding.drop_reason}`) : null,
      this.resolution(finding),
      finding.problem ? h("div", { class: "item-message error" }, finding.problem.detail || finding.problem.title) : null);
    if (editable) {
      body.append(h("button", { type: "button", class: "btn btn-ghost", dataset: { action: "edit-finding" },
        onclick: () => this.edit(article, body, finding) }, "Sửa nội dung"));
    }
    return article;
  }

  edit(article, body, finding) {
    const area = h("textarea", { rows: "5", class: "finding-editor", dataset: { role: "editor" } });
    area.value = finding.text;
    const subjective = h("textarea", { rows: "2", placeholder: "Nguyên nhân chủ quan" });
    subjective.value = finding.cause_subjective || "";
    const objective = h("textarea", { rows: "2", placeholder: "Nguyên nhân khách quan" });
    objective.value = finding.cause_objective || "";
    replace(body,
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Nội dung"), area),
      finding.kind === "strength" ? null : h("div", { class: "grid-2" },
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Nguyên nhân chủ quan"), subjective),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Nguyên nhân khách quan"), objective)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-primary", dataset: { action: "save-finding" }, onclick: async () => {
          const textValue = area.value.trim();
          if (!textValue) {
            toast("Nội dung không được để trống.");
            return;
          }
          const fields = { text: textValue };
          if (finding.kind !== "strength") {
            fields.cause_subjective = subjective.value.trim() || null;
            fields.cause_objective = objective.value.trim() || null;
          }
          await outbox.editFinding(finding.id, fields);
          toast("Đã lưu trên máy; sẽ gửi khi có mạng.");
          this.paint(await data.findingsOf(this.ctx.db, this.inspection.id));
        } }, "Lưu"),
        h("button", { type: "button", class: "btn", onclick: async () => {
          this.paint(await data.findingsOf(this.ctx.db, this.inspection.id));
        } }, "Hủy")));
    area.focus();
    article.scrollIntoView({ block: "nearest" });
  }

  resolution(finding) {
    if (finding.sync_state !== "conflict" || !finding.conflict) return null;
    const theirs = finding.conflict;
    const who = theirs.author ? theirs.author.full_name : "người khác";
    return h("div", { class: "item-message problem", dataset: { role: "conflict" } },
      h("p", {}, `Trên máy chủ, ${who} đã sửa hạn chế này${theirs.updated_at ? ` lúc ${formatDateTime(theirs.updated_at)}` : ""}:`),
      h("p", {}, h("strong", {}, theirs.text)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-primary", dataset: { action: "keep-mine" },
          onclick: () => outbox.settleFinding(finding.id, "mine") }, "Giữ nội dung của tôi"),
        h("button", { type: "button", class: "btn", dataset: { action: "keep-theirs" },
          onclick: () => outbox.settleFinding(finding.id, "theirs") }, "Dùng nội dung trên máy chủ")));
  }
}
