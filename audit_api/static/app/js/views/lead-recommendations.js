/* One recommendation (kiến nghị) of a finding on the findings screen (views/lead-findings.js): its text, unit and
 * deadline; edit and delete with If-Match, and the 412 conflict when someone changed it meanwhile. */

import { formatDate } from "../format.js";
import { ask, h, replace, toast } from "../ui.js";
import { changedFields, describeChanges, send, showError, staleBox, staleCurrent, textField, withBusy }
  from "./lead-common.js";

/* --- one recommendation ----------------------------------------------------------------------------------- */

export class RecommendationRow {
  constructor(card, recommendation) {
    Object.assign(this, { card, recommendation });
    this.form = h("div", { class: "lead-form hidden" });
    this.slot = h("div", {});
    this.element = h("li", { class: "lead-rec", dataset: { recommendationId: recommendation.id } });
    this.paint();
  }

  paint() {
    const r = this.recommendation;
    replace(this.element,
      h("p", { class: "lead-rec-text" }, r.text),
      h("div", { class: "meta" },
        h("span", {}, `Đơn vị thực hiện: ${r.responsible_unit.name}`),
        h("span", { class: "lead-rec-deadline" }, r.deadline ? `Thời hạn: ${formatDate(r.deadline)}` : "Chưa có thời hạn"),
        h("span", {}, r.origin === "rule" ? "Câu chữ danh mục" : "Đã viết lại")),
      this.card.editable ? h("div", { class: "actions" },
        h("button", { class: "btn", type: "button", dataset: { action: "edit-recommendation" }, onclick: () => this.openEditor() },
          "Sửa kiến nghị"),
        h("button", { class: "btn", type: "button", dataset: { action: "delete-recommendation" },
          onclick: (e) => this.remove(e.currentTarget) }, "Xóa")) : null,
      this.form, this.slot);
  }

  openEditor() {
    const r = this.recommendation;
    const text = textField("Nội dung kiến nghị", { value: r.text, rows: 4, name: "text", required: true });
    const deadline = textField("Thời hạn khắc phục", { type: "date", name: "deadline", value: r.deadline || "",
      hint: "Để trống: không ghi thời hạn." });
    const save = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "save-recommendation" } }, "Lưu");
    save.addEventListener("click", () => {
      const typed = { text: text.control.value.trim(), deadline: deadline.control.value || null };
      if (!typed.text) {
        showError(this.slot, new Error("Nội dung kiến nghị không được để trống."));
        return;
      }
      const changes = changedFields(r, typed);
      if (!Object.keys(changes).length) {
        this.form.classList.add("hidden");
        return;
      }
      this.run(save, "Đang lưu…", (etag) => send("PATCH", `/recommendations/${r.id}`, { etag, body: changes }),
        describeChanges(changes), "Đã lưu kiến nghị.");
    });
    replace(this.form, text.field, deadline.field, h("div", { class: "actions" }, save,
      h("button", { class: "btn btn-ghost", type: "button", onclick: () => this.form.classList.add("hidden") }, "Hủy")));
    this.form.classList.remove("hidden");
    text.control.focus();
  }

  async remove(button) {
    const choice = await ask({ title: "Xóa kiến nghị?", body: [this.recommendation.text,
      "Kiến nghị bị xóa không được đưa vào văn bản."],
    buttons: [{ label: "Quay lại", value: "cancel" }, { label: "Xóa kiến nghị", value: "delete", class: "btn-danger" }] });
    if (choice !== "delete") return;
    await this.run(button, "Đang xóa…", (etag) => send("DELETE", `/recommendations/${this.recommendation.id}`, { etag }),
      "xóa kiến nghị", "Đã xóa kiến nghị.");
  }

  async run(button, busyLabel, request, mine, done) {
    await withBusy(button, busyLabel, async () => {
      try {
        await request(this.recommendation.etag);
      } catch (error) {
        const current = staleCurrent(error);
        if (!current) throw error;
        const reapply = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "reapply" } },
          "Áp dụng lại thay đổi của tôi");
        reapply.addEventListener("click", () => {
          this.recommendation = current;
          this.run(reapply, busyLabel, request, mine, done);
        });
        replace(this.slot, staleBox("Kiến nghị này vừa được người khác thay đổi trên máy chủ; thay đổi của bạn chưa được lưu.",
          [h("p", {}, h("strong", {}, `Bản hiện tại (phiên bản ${current.version}): `), current.text),
            h("p", { class: "muted small" }, current.deadline ? `Thời hạn: ${formatDate(current.deadline)}` : "Chưa có thời hạn")],
          `Thay đổi của bạn: ${mine}.`, reapply, () => this.card.screen.reload()));
        return;
      }
      toast(done);
      await this.card.screen.reload();
    }, this.slot);
  }
}
