/* The photos of one checklist item: take one with the camera or pick from the gallery, caption it, see each
 * one's upload progress and state. Photos are checked at capture (type, size, pixels, readable) and saved on
 * the tablet at once; the outbox sends them when there is a network. */

import { formatBytes, SYNC_STATES } from "../format.js";
import * as outbox from "../outbox.js";
import * as photos from "../photos.js";
import { h, replace, toast } from "../ui.js";

const PHOTO_STATES = { ...SYNC_STATES, uploading: "Đang tải lên", ready: "Đã tải lên" };
const BADGE_STATE = { queued: "queued", uploading: "syncing", ready: "synced", needs_attention: "needs_attention" };

export class PhotoStrip {
  constructor({ db, inspectionId, itemCode, unitId, disabled }) {
    Object.assign(this, { db, inspectionId, itemCode, unitId, disabled });
    this.urls = new Map(); // photo id → object URL of its thumbnail
    this.figures = new Map();
    this.list = h("div", { class: "photo-list" });
    this.message = h("div", { class: "item-message", "aria-live": "polite" });
    this.element = h("div", { class: "item-photos", dataset: { role: "photos" } },
      h("div", { class: "photo-head" },
        h("span", { class: "photo-title" }, "Ảnh minh chứng"),
        disabled ? null : this.picker("Chụp ảnh", { capture: "environment", action: "take-photo" }),
        disabled ? null : this.picker("Chọn từ thư viện", { multiple: true, action: "pick-photos" })),
      this.message,
      this.list);
  }

  picker(label, { capture = null, multiple = false, action }) {
    const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture, multiple,
      class: "sr-only", dataset: { action } });
    input.addEventListener("change", () => {
      const files = [...input.files];
      input.value = "";
      this.take(files);
    });
    return h("label", { class: "btn photo-button" }, label, input);
  }

  async take(files) {
    const refused = [];
    for (const file of files) {
      try {
        await photos.add(this.db, { inspection_id: this.inspectionId, item_code: this.itemCode, unit_id: this.unitId,
          file });
      } catch (error) {
        if (!(error instanceof photos.Refused)) throw error;
        refused.push(error.message);
      }
    }
    this.message.className = `item-message ${refused.length ? "error" : ""}`;
    this.message.textContent = refused.join(" ");
    if (files.length > refused.length) {
      toast(`Đã lưu ${files.length - refused.length} ảnh trên máy; ảnh sẽ được tải lên khi có mạng.`);
      outbox.replay();
    }
  }

  /* Paint from the item's records (called by the section screen whenever photos change). */
  show(records) {
    const seen = new Set(records.map((r) => r.id));
    for (const [id, url] of this.urls) {
      if (!seen.has(id)) {
        URL.revokeObjectURL(url);
        this.urls.delete(id);
      }
    }
    this.figures = new Map(records.map((record) => [record.id, this.figure(record)]));
    replace(this.list, [...this.figures.values()].map((f) => f.element));
  }

  figure(record) {
    if (!this.urls.has(record.id) && record.thumb) this.urls.set(record.id, URL.createObjectURL(record.thumb));
    const bar = h("span", {});
    const percent = h("span", { class: "small muted", dataset: { role: "percent" } });
    const state = h("span", { class: `badge state-${BADGE_STATE[record.state] || "queued"}` },
      PHOTO_STATES[record.state] || record.state);
    const editable = !this.disabled && record.state === "queued" && !record.declared;
    const caption = h("input", { type: "text", class: "photo-caption", placeholder: "Chú thích ảnh", maxlength: "2000",
      value: record.caption || "", disabled: !editable, dataset: { role: "caption" }, "aria-label": "Chú thích ảnh" });
    caption.addEventListener("change", () => photos.setCaption(this.db, record.id, caption.value.trim()));
    const removable = !this.disabled && ((record.state === "queued" && !record.declared) || record.state === "needs_attention");
    const element = h("figure", { class: `photo state-${record.state}`, dataset: { photoId: record.id, state: record.state } },
      this.urls.has(record.id) ? h("img", { src: this.urls.get(record.id), alt: record.caption || `Ảnh mục ${this.itemCode}` }) : null,
      h("figcaption", {},
        h("div", { class: "photo-meta" }, state, h("span", { class: "small muted" }, formatBytes(record.size))),
        record.state === "ready" ? null : h("div", { class: "progress" }, bar),
        percent,
        caption,
        record.problem ? h("div", { class: "item-message error" }, record.problem.detail) : null,
        removable ? h("button", { type: "button", class: "btn btn-ghost", dataset: { action: "remove-photo" },
          onclick: () => photos.remove(this.db, record.id) }, "Bỏ ảnh này") : null));
    const figure = { element, bar, percent };
    this.progress(figure, record.offset || 0, record.size);
    return figure;
  }

  progress(figure, offset, size) {
    const value = size ? Math.min(100, Math.round((offset * 100) / size)) : 0;
    figure.bar.style.width = `${value}%`;
    figure.percent.textContent = offset ? `${value}%` : "";
  }

  onProgress({ id, offset, size }) {
    const figure = this.figures.get(id);
    if (figure) this.progress(figure, offset, size);
  }

  dispose() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
