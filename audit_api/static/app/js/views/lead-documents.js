/* "Văn bản": the minutes (Biên bản kiểm tra) of an inspection — create the draft, edit its prose sections (If-Match),
 * refresh it from the findings, preview its HTML, download PDF/DOCX, and issue it (lead only): issuing gives it
 * the official number and freezes it forever; a mistake afterwards is put right by a correction, a new document.
 * Server: api/documents.py, services/documents.py. */

import * as api from "../api.js";
import { formatDate, formatDateTime } from "../format.js";
import { ask, badge, h, replace, toast } from "../ui.js";
import { canReview, inspection as getInspection, ISSUERS, refused, screenHead, send, showError,
  staleBox, staleCurrent, teamRole, textField, withBusy } from "./lead-common.js";
import { fetchFile, saveBlob, showDocumentPreview } from "../files.js";
import { display, PROSE, sectionCard, sectionsOf } from "./lead-sections.js";

const TITLE = "Biên bản kiểm tra";
const KIND_NAMES = { minutes: "Biên bản kiểm tra", conclusion: "Thông báo kết luận kiểm tra" };

export async function render(ctx, inspectionId) {
  const inspection = await getInspection(inspectionId);
  const role = teamRole(ctx, inspection);
  if (!canReview(role)) return refused(inspection, "van-ban", TITLE, role);
  const screen = new DocumentsScreen(ctx, inspection, role);
  await screen.reload();
  return screen.element;
}

function todayInVietnam() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date());
}

class DocumentsScreen {
  constructor(ctx, inspection, role) {
    Object.assign(this, { ctx, inspection, role });
    this.element = h("div", { class: "page lead", id: "documents-page" });
    this.slot = h("div", { class: "lead-slot", id: "document-error" });
    this.previewHost = h("div", { class: "doc-preview", id: "document-preview" });
    this.previewOpen = false;
  }

  get isIssuer() {
    return ISSUERS.includes(this.role);
  }

  /* The inspection and its minutes; shows `documentId`, else the draft in progress, else the latest issued. */
  async reload(documentId = null) {
    const id = this.inspection.id;
    const [inspection, page] = await Promise.all([getInspection(id),
      api.get(`/documents?inspection_id=${id}&kind=minutes&page_size=100`)]);
    this.inspection = inspection;
    this.list = page.data;
    const chosen = this.list.find((d) => d.id === (documentId || (this.doc && this.doc.id)))
      || this.list.find((d) => d.status === "draft") || this.list[0];
    this.doc = null;
    if (chosen) ({ data: this.doc, etag: this.etag } = await send("GET", `/documents/${chosen.id}`));
    this.paint();
    if (this.previewOpen && this.doc) await this.preview();
  }

  paint() {
    const parts = [screenHead(this.inspection, "van-ban", TITLE,
      "Thư ký soạn dự thảo biên bản từ kết quả kiểm tra; Trưởng đoàn xem trước rồi ký ban hành."), this.slot];
    if (!this.doc) {
      parts.push(this.emptyCard());
    } else {
      const editable = this.doc.status === "draft" && this.doc.number === null;
      parts.push(this.statusCard(), this.toolbar(), h("div", { id: "issue-panel", class: "hidden" }),
        this.partsCard(), h("h2", { class: "lead-subhead" }, editable ? "Các phần soạn thảo" : "Các phần của văn bản"),
        h("div", { id: "document-sections" }, sectionsOf(this.doc.kind).map((spec) => sectionCard(this.doc, spec,
          { editable, save: (...args) => this.saveSection(...args) }))),
        this.previewCard(), this.historyCard());
    }
    replace(this.element, parts);
  }

  emptyCard() {
    const create = h("button", { class: "btn btn-primary", type: "button", id: "create-minutes" }, "Lập dự thảo biên bản");
    create.addEventListener("click", () => withBusy(create, "Đang lập…", async () => {
      const made = await api.post(`/inspections/${this.inspection.id}/documents`, { kind: "minutes" });
      toast("Đã lập dự thảo biên bản từ số liệu hiện tại.");
      await this.reload(made.id);
    }, this.slot));
    return h("section", { class: "card empty", id: "document-status", dataset: { status: "none" } },
      h("p", {}, "Cuộc kiểm tra chưa có biên bản."),
      h("p", { class: "muted" }, "Dự thảo được lập từ câu trả lời, hạn chế, kiến nghị và ảnh hiện có; soạn tiếp các phần "
        + "như thành phần, giải trình của đơn vị, rồi cập nhật số liệu khi hạn chế thay đổi."),
      create);
  }

  statusCard() {
    const d = this.doc;
    const name = KIND_NAMES[d.kind] || d.kind;
    if (d.status === "issued") {
      return h("section", { class: "card", id: "document-status", dataset: { status: "issued", version: d.version } },
        h("h2", {}, `${name} — `, h("span", { id: "document-number" }, d.display_number)),
        h("div", { class: "actions" }, badge("Đã ban hành", "ok"),
          badge(`Ngày ký ${formatDate(d.issued_on)}`, "plain"),
          badge(`Người ký: ${d.signer_name}${d.signer_title ? ` (${d.signer_title})` : ""}`, "plain")),
        h("div", { class: "banner info lead-banner", id: "document-frozen" }, h("span", { class: "grow" },
          "Văn bản đã ban hành: số, ngày và nội dung được giữ nguyên vĩnh viễn, không ai sửa được nữa. ",
          "Muốn sửa sai sót, hãy lập văn bản đính chính (văn bản này vẫn giữ nguyên).")),
        d.pdf_sha256 ? h("p", { class: "muted small lead-hash" }, `Mã kiểm tra (SHA-256) của bản PDF đã lưu: ${d.pdf_sha256}`) : null,
        d.corrects_id ? h("p", { class: "muted small" }, "Văn bản này đính chính một văn bản đã ban hành trước.") : null);
    }
    const notApproved = this.inspection.status !== "approved";
    return h("section", { class: "card", id: "document-status", dataset: { status: d.status, version: d.version } },
      h("h2", {}, `${name} — dự thảo`),
      h("div", { class: "actions" }, badge("Dự thảo", "warn"), badge(d.display_number, "plain"),
        badge(`Phiên bản ${d.version}`, "plain"), h("span", { class: "muted small" }, `Sửa lần cuối ${formatDateTime(d.updated_at)}`)),
      d.number !== null ? h("p", { class: "form-error" },
        "Văn bản đã được cấp số và đang ban hành dở; bấm Ban hành để hoàn tất.") : null,
      notApproved ? h("p", { class: "muted lead-hint", id: "issue-blocked" }, "Cuộc kiểm tra chưa được duyệt: chỉ ban hành được sau khi "
        + "Trưởng đoàn duyệt ở màn hình ", h("a", { href: `#/xem-xet/${this.inspection.id}` }, "Xem xét"), ".") : null);
  }

  toolbar() {
    const d = this.doc;
    const draft = d.status === "draft";
    const previewButton = h("button", { class: "btn", type: "button", dataset: { action: "preview" } },
      this.previewOpen ? "Ẩn bản xem trước" : "Xem trước");
    previewButton.addEventListener("click", () => this.togglePreview(previewButton));
    const fileButton = (format, label) => {
      const button = h("button", { class: "btn", type: "button", dataset: { action: format } }, label);
      button.addEventListener("click", () => withBusy(button, "Đang tải…", async () => {
        toast(`Đã tải ${await download(d.id, format)}.`);
      }, this.slot));
      return button;
    };
    return h("div", { class: "actions lead-toolbar", id: "document-actions" }, previewButton,
      fileButton("pdf", "Tải PDF"), fileButton("docx", "Tải DOCX"),
      draft && d.number === null ? this.refreshButton() : null,
      draft && this.isIssuer ? h("button", { class: "btn btn-primary", type: "button", dataset: { action: "issue" },
        disabled: d.number === null && this.inspection.status !== "approved", onclick: () => this.openIssue() },
      d.number === null ? "Ban hành…" : "Hoàn tất ban hành…") : null,
      draft && !this.isIssuer ? h("span", { class: "muted small" }, "Trưởng đoàn ký ban hành.") : null,
      !draft ? this.correctionButton() : null);
  }

  refreshButton() {
    const button = h("button", { class: "btn", type: "button", dataset: { action: "refresh" } }, "Cập nhật số liệu từ hạn chế");
    button.addEventListener("click", () => withBusy(button, "Đang cập nhật…", async () => {
      try {
        ({ data: this.doc, etag: this.etag } = await send("POST", `/documents/${this.doc.id}/refresh`, { etag: this.etag }));
      } catch (error) {
        if (!staleCurrent(error)) throw error;
        await this.reload();
        throw new Error("Văn bản vừa được người khác sửa; đã tải bản mới nhất. Bấm “Cập nhật số liệu” lần nữa nếu vẫn cần.");
      }
      toast("Đã cập nhật số liệu từ hạn chế, kiến nghị và câu trả lời hiện tại.");
      this.paint();
      if (this.previewOpen) await this.preview();
    }, this.slot));
    return button;
  }

  correctionButton() {
    if (!canReview(this.role)) return null;
    const button = h("button", { class: "btn", type: "button", dataset: { action: "correct" } }, "Lập văn bản đính chính");
    button.addEventListener("click", async () => {
      const choice = await ask({ title: "Lập văn bản đính chính?", body: [
        "Một dự thảo mới được lập, trỏ tới văn bản đã ban hành; văn bản đã ban hành vẫn giữ nguyên."],
      buttons: [{ label: "Quay lại", value: "cancel" }, { label: "Lập đính chính", value: "correct", class: "btn-primary" }] });
      if (choice !== "correct") return;
      await withBusy(button, "Đang lập…", async () => {
        const made = await api.post(`/documents/${this.doc.id}/corrections`);
        toast("Đã lập dự thảo văn bản đính chính.");
        await this.reload(made.id);
      }, this.slot);
    });
    return button;
  }

  /* What comes from the data: changed on the findings screen, then "Cập nhật số liệu". */
  partsCard() {
    const v = this.doc.view;
    const results = (v.sections || []).reduce((n, s) => n + (s.results || []).length, 0);
    const row = (label, count) => h("li", {}, h("strong", {}, `${count}`), ` ${label}`);
    return h("section", { class: "card", id: "document-data" },
      h("h2", {}, "Nội dung lấy từ số liệu"),
      h("ul", { class: "lead-counts" },
        row(`kết quả kiểm tra ở ${(v.sections || []).length} phần`, results),
        row("kết quả đạt được", (v.strengths || []).length),
        row("tồn tại, hạn chế", (v.findings || []).length),
        row("kiến nghị", (v.recommendations || []).length),
        row("ảnh minh chứng", (v.photos || []).length)),
      this.doc.status === "draft" ? h("p", { class: "muted small" }, "Sửa câu chữ hạn chế, kiến nghị ở màn hình ",
        h("a", { href: `#/han-che/${this.inspection.id}` }, "Hạn chế và kiến nghị"),
        ", rồi bấm “Cập nhật số liệu từ hạn chế” để đưa vào dự thảo.") : null);
  }

  /* --- preview ------------------------------------------------------------------------------------------ */

  previewCard() {
    this.previewSlot = h("div", {});
    return h("section", { class: `card doc-preview-card${this.previewOpen ? "" : " hidden"}`, id: "preview-card" },
      h("h2", {}, "Xem trước"), this.previewSlot, this.previewHost);
  }

  async togglePreview(button) {
    this.previewOpen = !this.previewOpen;
    button.textContent = this.previewOpen ? "Ẩn bản xem trước" : "Xem trước";
    this.element.querySelector("#preview-card").classList.toggle("hidden", !this.previewOpen);
    if (this.previewOpen) {
      await withBusy(button, "Đang dựng bản xem trước…", () => this.preview(), this.previewSlot);
      button.textContent = "Ẩn bản xem trước";
      this.element.querySelector("#preview-card").scrollIntoView({ block: "start" });
    }
  }

  async preview() {
    await showDocumentPreview(this.previewHost, this.doc.id);
    this.previewHost.dataset.version = String(this.doc.version);
    this.previewHost.dataset.status = this.doc.status;
  }

  historyCard() {
    if (this.list.length < 2) return null;
    return h("section", { class: "card", id: "document-history" }, h("h2", {}, "Các văn bản của cuộc kiểm tra"),
      h("ul", { class: "lead-history" }, this.list.map((d) => h("li", { dataset: { documentId: d.id } },
        h("span", { class: "grow" }, d.display_number, " · ", d.status === "issued"
          ? `ban hành ngày ${formatDate(d.issued_on)}` : `dự thảo, lập ${formatDateTime(d.created_at)}`),
        d.id === this.doc.id ? badge("Đang xem", "info")
          : h("button", { class: "btn", type: "button", onclick: () => this.reload(d.id) }, "Mở")))));
  }

  /* --- editing a prose section (If-Match) ---------------------------------------------------------------- */

  async saveSection(key, value, button, slot, shown) {
    await withBusy(button, "Đang lưu…", async () => {
      try {
        ({ data: this.doc, etag: this.etag } = await send("PATCH", `/documents/${this.doc.id}`,
          { etag: this.etag, body: { sections: { [key]: value } } }));
      } catch (error) {
        if (!staleCurrent(error)) throw error;
        await this.sectionConflict(key, value, slot, shown);
        return;
      }
      toast("Đã lưu.");
      this.paint();
      if (this.previewOpen) await this.preview();
    }, slot);
  }

  /* 412: someone saved the draft meanwhile. Show their version of this section beside the person's, fetched
   * with its ETag, so "apply mine again" edits on top of the current version. */
  async sectionConflict(key, value, slot, shown) {
    const fresh = await send("GET", `/documents/${this.doc.id}`);
    const [, label, shape] = PROSE.find(([name]) => name === key);
    const reapply = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "reapply" } },
      "Áp dụng lại thay đổi của tôi");
    reapply.addEventListener("click", () => {
      this.doc = fresh.data;
      this.etag = fresh.etag;
      this.saveSection(key, value, reapply, slot, shown);
    });
    replace(slot, staleBox(`Văn bản vừa được người khác sửa (nay là phiên bản ${fresh.data.version}); thay đổi của bạn chưa được lưu.`,
      [h("p", {}, h("strong", {}, `Phần “${label}” trên máy chủ:`)), display(shape, fresh.data.view[key])],
      [h("p", {}, h("strong", {}, "Nội dung bạn định lưu:")), shown], reapply, () => {
        this.doc = fresh.data;
        this.etag = fresh.etag;
        this.paint();
      }));
  }

  /* --- issuing ---------------------------------------------------------------------------------------------- */

  openIssue() {
    const panel = this.element.querySelector("#issue-panel");
    const user = this.ctx.session.user;
    const day = textField("Ngày ký", { type: "date", name: "issued_on", value: todayInVietnam() });
    const signer = textField("Người ký", { type: "text", name: "signer_name", value: user.full_name });
    const title = textField("Chức danh người ký", { type: "text", name: "signer_title", value: "Trưởng đoàn" });
    const slot = h("div", {});
    const confirm = h("button", { class: "btn btn-danger", type: "button", dataset: { action: "confirm-issue" } },
      "Ban hành văn bản");
    confirm.addEventListener("click", () => this.issue(confirm, slot, {
      issued_on: day.control.value || null, signer_name: signer.control.value.trim() || null,
      signer_title: title.control.value.trim() || null }));
    replace(panel, h("section", { class: "card lead-issue" },
      h("h2", {}, "Ban hành văn bản"),
      h("p", {}, "Ban hành sẽ cấp số chính thức trong sổ của Đoàn, ghi ngày ký và người ký, lưu bản PDF (kèm mã kiểm tra) "
        + "và chuyển các kiến nghị thành việc đơn vị phải khắc phục."),
      h("p", { class: "lead-warning" }, h("strong", {}, "Sau khi ban hành, văn bản được giữ nguyên vĩnh viễn: "),
        "không ai sửa hay xóa được nữa. Hãy xem trước bản cuối cùng trước khi ban hành."),
      h("div", { class: "grid-3" }, day.field, signer.field, title.field),
      h("div", { class: "actions" }, confirm,
        h("button", { class: "btn btn-ghost", type: "button", onclick: () => panel.classList.add("hidden") }, "Hủy")),
      slot));
    panel.classList.remove("hidden");
    panel.scrollIntoView({ block: "start" });
  }

  async issue(button, slot, body) {
    const choice = await ask({
      title: "Ban hành và cấp số cho văn bản?",
      body: ["Văn bản sẽ được cấp số chính thức và đóng băng vĩnh viễn: sau khi ban hành không ai sửa được nữa.",
        `Ngày ký: ${body.issued_on ? formatDate(body.issued_on) : "hôm nay"}. Người ký: ${body.signer_name || "Trưởng đoàn"}.`,
        "Thao tác này không hoàn tác được."],
      buttons: [{ label: "Quay lại", value: "cancel" }, { label: "Ban hành và cấp số", value: "issue", class: "btn-danger" }],
    });
    if (choice !== "issue") return;
    await withBusy(button, "Đang ban hành…", async () => {
      let issued;
      try {
        ({ data: issued } = await send("POST", `/documents/${this.doc.id}/issue`, { etag: this.etag, body }));
      } catch (error) {
        if (!staleCurrent(error)) throw error;
        await this.reload();
        showError(this.slot, new Error("Văn bản vừa được người khác sửa nên chưa ban hành; đã tải bản mới nhất. "
          + "Hãy xem lại rồi ban hành."));
        return;
      }
      toast(`Đã ban hành: ${issued.display_number}.`, 6000);
      await this.reload(issued.id);
    }, slot);
  }
}

const TYPES = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

/* Download the PDF or DOCX (with the token, saved from a Blob URL); returns the file name. */
async function download(documentId, format) {
  const { blob, name } = await fetchFile(`/documents/${documentId}/${format}`, TYPES[format]);
  const fileName = name || `van-ban.${format}`;
  saveBlob(blob, fileName);
  return fileName;
}
