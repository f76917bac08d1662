/* The checklist of a downloaded inspection, one section of one unit at a time, from IndexedDB only. Every
 * change is saved on the tablet at once (outbox.saveAnswer) and shows its sync state. */

import { answerKey, appliesTo, DATA_SOURCES, describe, evidenceHints, Evaluator, InvalidValue, validate }
  from "../checklist.js";
import * as data from "../data.js";
import { formatDate, formatDateTime, SECTION_STATUSES, SYNC_STATES } from "../format.js";
import * as outbox from "../outbox.js";
import * as photos from "../photos.js";
import { ask, badge, h, replace, toast } from "../ui.js";
import { field, textInput, widget } from "./inputs.js";
import { PhotoStrip } from "./photo-strip.js";

const OPEN_INSPECTION = ["planned", "in_progress", "returned"];
const OPEN_SECTION = ["open", "returned"];

export async function render(ctx, inspectionId, unitId, sectionCode) {
  const loaded = await data.loadInspection(ctx.db, inspectionId);
  if (!loaded || !loaded.definition) {
    return h("div", { class: "page" }, h("div", { class: "card empty" },
      h("h1", {}, "Cuộc kiểm tra chưa được tải về máy này"),
      h("p", {}, "Hãy kết nối mạng, mở danh sách cuộc kiểm tra và chọn “Tải về để làm ngoại tuyến”."),
      h("a", { class: "btn btn-primary", href: "#/" }, "Về danh sách cuộc kiểm tra")));
  }
  const { bundle, definition } = loaded;
  const unit = bundle.units.find((u) => u.id === unitId) || bundle.units[0];
  const sections = definition.sections.filter((s) => s.items.some((item) => appliesTo(item, unit)));
  const section = sections.find((s) => s.code === sectionCode) || sections[0];
  if (!unitId || !sectionCode || unit.id !== unitId || !section || section.code !== sectionCode) {
    if (section) history.replaceState(null, "", `#/kiem-tra/${inspectionId}/${unit.id}/${section.code}`);
  }
  return new SectionScreen(ctx, loaded, unit, sections, section).element;
}

/* Who may write this section now (access.require_section_write, as the tablet can know it offline). */
function writable(ctx, bundle, code) {
  const user = ctx.session.user;
  const team = (user.teams || []).find((t) => t.team_id === bundle.inspection.team_id);
  if (!team) return [false, "Chỉ thành viên Đoàn kiểm tra được nhập kết quả."];
  if (!OPEN_INSPECTION.includes(bundle.inspection.status)) return [false, "Cuộc kiểm tra đã nộp hoặc đã duyệt; không thể sửa kết quả."];
  const assignment = bundle.sections.find((s) => s.section_code === code);
  if (assignment && !OPEN_SECTION.includes(assignment.status)) return [false, `Phần ${code} đã nộp hoặc đã duyệt; không thể sửa kết quả.`];
  if (["lead", "deputy", "secretary"].includes(team.team_role) || !assignment || !assignment.assignee
      || assignment.assignee.id === user.id) return [true, null];
  return [false, `Phần ${code} được phân công cho ${assignment.assignee.full_name}; bạn chỉ xem được.`];
}

class SectionScreen {
  constructor(ctx, loaded, unit, sections, section) {
    Object.assign(this, { ctx, loaded, unit, sections, section });
    this.inspection = loaded.bundle.inspection;
    this.answers = loaded.answers;
    this.evaluator = new Evaluator(loaded.definition, (code) => {
      const record = this.answers.get(this.key(code));
      return record && record.sync_state !== "draft" ? record.value : null;
    });
    [this.canWrite, this.readOnlyReason] = writable(ctx, loaded.bundle, section.code);
    this.cards = section.items.filter((item) => appliesTo(item, unit)).map((item) => new ItemCard(this, item));
    this.element = this.build();
    this.refreshVisibility();
    this.onStatus = () => this.scheduleReload();
    outbox.events.addEventListener("change", this.onStatus);
    this.onPhotos = () => this.schedulePhotos();
    this.onProgress = (event) => {
      const card = this.cards.find((c) => c.photoStrip.figures.has(event.detail.id));
      if (card) card.photoStrip.onProgress(event.detail);
    };
    photos.events.addEventListener("change", this.onPhotos);
    photos.events.addEventListener("progress", this.onProgress);
    this.schedulePhotos();
  }

  /* The photos of this section's items, read once for all cards (after any photo changes). */
  schedulePhotos() {
    if (this.shown && !this.element.isConnected) {
      photos.events.removeEventListener("change", this.onPhotos);
      photos.events.removeEventListener("progress", this.onProgress);
      for (const card of this.cards) card.photoStrip.dispose();
      return;
    }
    clearTimeout(this.photoTimer);
    this.photoTimer = setTimeout(async () => {
      const all = await this.ctx.db.getAll("photos", "by_inspection", this.inspection.id);
      const mine = all.filter((p) => p.unit_id === this.unit.id).sort((a, b) => a.created_at.localeCompare(b.created_at));
      for (const card of this.cards) card.photoStrip.show(mine.filter((p) => p.item_code === card.item.code));
    }, 30);
  }

  /* Submitting ends this author's work on the section until the lead returns it; it goes out with the queue. */
  async submit() {
    const missing = this.section.items.filter((item) => item.required && appliesTo(item, this.unit)
      && this.evaluator.visible(item) && (this.answers.get(this.key(item.code))?.value ?? null) === null)
      .map((item) => item.code);
    const choice = await ask({
      title: `Nộp Phần ${this.section.code} để Trưởng đoàn xem xét?`,
      body: [
        "Sau khi nộp, phần này chỉ còn xem được; Trưởng đoàn hoặc Thư ký sẽ duyệt hoặc trả lại kèm ý kiến.",
        missing.length ? `Còn ${missing.length} mục bắt buộc chưa trả lời: ${missing.join(", ")}.` : "Đã trả lời đủ các mục bắt buộc.",
        navigator.onLine ? "Yêu cầu nộp sẽ được gửi ngay." : "Máy đang ngoại tuyến: yêu cầu nộp được lưu và gửi khi có mạng.",
      ],
      buttons: [
        { label: "Chưa nộp", value: "stay" },
        { label: "Nộp phần này", value: "submit", class: "btn-primary" },
      ],
    });
    if (choice !== "submit") return;
    await outbox.submitSection(this.inspection.id, this.section.code);
    toast(`Đã ghi nhận nộp Phần ${this.section.code}.`);
    this.ctx.navigate(location.hash);
  }

  key(code) {
    return answerKey(this.inspection.id, code, this.unit.id);
  }

  build() {
    const base = `#/kiem-tra/${this.inspection.id}`;
    const assignment = this.loaded.bundle.sections.find((s) => s.section_code === this.section.code);
    const canSubmit = this.canWrite && (!assignment || OPEN_SECTION.includes(assignment.status));
    const sectionState = assignment && assignment.local_state
      ? h("span", { class: `badge state-${assignment.local_state}`, dataset: { role: "section-state" } },
        assignment.local_state === "queued" ? "Yêu cầu nộp chờ đồng bộ" : SYNC_STATES[assignment.local_state])
      : null;
    this.progressBar = h("span", {});
    this.progressText = h("span", { class: "muted small" });
    this.tabs = this.sections.map((section) => {
      const count = h("span", { class: "count" });
      const tab = h("a", { class: "tab", href: `${base}/${this.unit.id}/${section.code}`,
        "aria-current": section.code === this.section.code ? "page" : null, dataset: { section: section.code } },
      h("span", { class: "letter" }, section.code), h("span", { class: "tab-text" }, section.title), count);
      return { section, count, tab };
    });
    const units = this.loaded.bundle.units.length > 1 ? h("nav", { class: "units", "aria-label": "Đơn vị được kiểm tra" },
      this.loaded.bundle.units.map((unit) => h("a", { class: "tab", href: `${base}/${unit.id}/${this.section.code}`,
        "aria-current": unit.id === this.unit.id ? "page" : null, dataset: { unit: unit.id } },
      unit.name, unit.role === "host" ? h("span", { class: "count" }, "(đơn vị chủ trì)") : null))) : null;
    return h("div", { class: "page" },
      h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Cuộc kiểm tra của tôi"), " › ", this.inspection.host_unit.name),
      h("div", { class: "page-head" },
        h("div", { class: "grow" },
          h("h1", {}, this.inspection.host_unit.name),
          h("div", { class: "meta" },
            h("span", {}, `Ngày kiểm tra: ${formatDate(this.inspection.scheduled_on)}`),
            h("span", {}, this.loaded.definition.title),
            h("span", {}, `Bản tải về lúc ${formatDateTime(this.loaded.downloadedAt)}`))),
        h("a", { class: "btn", href: `${base}/ket-qua`, dataset: { action: "findings" } }, "Hạn chế và ưu điểm")),
      units,
      h("div", { class: "checklist" },
        h("nav", { class: "sections", "aria-label": "Các phần của danh mục" },
          h("div", { class: "sections-title" }, "Các phần"), this.tabs.map((t) => t.tab)),
        h("section", { "aria-labelledby": "section-title" },
          h("div", { class: "section-head" },
            h("div", { class: "grow" },
              h("h2", { id: "section-title" }, `Phần ${this.section.code}. ${this.section.title}`),
              h("div", { class: "meta" },
                h("span", {}, `Đơn vị: ${this.unit.name}`),
                assignment && assignment.assignee ? h("span", {}, `Phân công: ${assignment.assignee.full_name}`) : null,
                assignment ? h("span", { dataset: { role: "section-status" } },
                  SECTION_STATUSES[assignment.status] || assignment.status) : null,
                sectionState)),
            h("div", {}, h("div", { class: "progress" }, this.progressBar), this.progressText),
            canSubmit ? h("button", { type: "button", class: "btn btn-primary", dataset: { action: "submit-section" },
              onclick: () => this.submit() }, "Nộp phần này") : null),
          assignment && assignment.local_problem ? h("div", { class: "banner danger", dataset: { role: "submit-refused" } },
            h("span", { class: "grow" }, `Chưa nộp được phần này: ${assignment.local_problem.detail || assignment.local_problem.title}`))
            : null,
          assignment && assignment.review_comment ? h("div", { class: "banner info" },
            h("span", { class: "grow" }, `Ý kiến khi trả lại: ${assignment.review_comment}`)) : null,
          this.canWrite ? null : h("div", { class: "banner" }, h("span", { class: "grow" }, this.readOnlyReason)),
          this.cards.map((card) => card.element))));
  }

  /* visible_if depends on other answers of the same unit: re-evaluated after every change. */
  refreshVisibility() {
    for (const card of this.cards) card.setVisible(this.evaluator.visible(card.item));
    this.refreshProgress();
  }

  refreshProgress() {
    const counts = (section) => {
      const items = section.items.filter((item) => appliesTo(item, this.unit) && this.evaluator.visible(item));
      const done = items.filter((item) => {
        const record = this.answers.get(this.key(item.code));
        return record && record.value !== null && record.value !== undefined;
      }).length;
      return [done, items.length];
    };
    for (const { section, count } of this.tabs) {
      const [done, total] = counts(section);
      count.textContent = `${done}/${total}`;
    }
    const [done, total] = counts(this.section);
    this.progressBar.style.width = `${total ? Math.round((done * 100) / total) : 0}%`;
    this.progressText.textContent = `Đã trả lời ${done}/${total} mục`;
  }

  async save(card, fields, { valid, error }) {
    const record = await outbox.saveAnswer({ inspection_id: this.inspection.id, item_code: card.item.code,
      unit_id: this.unit.id, ...fields }, { valid, error });
    this.answers.set(record.key, record);
    card.show(record);
    this.refreshVisibility();
  }

  scheduleReload() {
    if (this.element.isConnected) this.shown = true;
    else if (this.shown) { // the screen is gone
      outbox.events.removeEventListener("change", this.onStatus);
      return;
    }
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(async () => {
      const records = await data.answersOf(this.ctx.db, this.inspection.id);
      for (const record of records) {
        if (record.unit_id !== this.unit.id) continue;
        this.answers.set(record.key, record);
      }
      for (const card of this.cards) card.show(this.answers.get(card.key), { fromStore: true });
      this.refreshVisibility();
    }, 150);
  }
}

class ItemCard {
  constructor(screen, item) {
    this.screen = screen;
    this.item = item;
    this.key = screen.key(item.code);
    this.record = screen.answers.get(this.key) || null;
    this.badge = h("span", { class: "badge" });
    this.message = h("div", { class: "item-message", "aria-live": "polite" });
    this.hints = h("div", { class: "hints" });
    this.body = h("div", { class: "item-body" });
    this.resolution = h("div", {});
    this.photoStrip = new PhotoStrip({ db: screen.ctx.db, inspectionId: screen.inspection.id, itemCode: item.code,
      unitId: screen.unit.id, disabled: !screen.canWrite });
    this.element = this.build();
    this.show(this.record);
  }

  get disabled() {
    return !this.screen.canWrite;
  }

  current() {
    const r = this.record || {};
    return { value: r.value ?? null, note: r.note || "", period: r.period || null, source: r.source || null };
  }

  build() {
    const item = this.item;
    const refs = (item.legal_refs || []).map((ref) => {
      const doc = (this.screen.loaded.definition.legal_refs || {})[ref.doc];
      return [ref.cite, doc ? doc.short : ref.doc].filter(Boolean).join(" ");
    });
    this.paintWidget();
    return h("article", { class: "item", id: `item-${item.code}`, dataset: { item: item.code, type: item.answer_type } },
      h("div", { class: "item-head" },
        h("span", { class: "code-chip" }, item.code),
        h("div", { class: "grow" },
          h("div", { class: "question" }, item.question,
            item.required ? h("span", { class: "required", title: "Bắt buộc" }, "*") : null),
          item.help ? h("div", { class: "item-help" }, item.help) : null,
          refs.length ? h("div", { class: "item-help" }, `Căn cứ: ${refs.join("; ")}`) : null),
        this.badge),
      this.hints,
      this.body,
      this.message,
      this.resolution,
      this.photoStrip.element,
      this.extras());
  }

  paintWidget() {
    replace(this.body, widget(this.item, this.current().value, {
      id: `in-${this.item.code}`, disabled: this.disabled,
      emit: (value, error) => this.changed({ value }, error),
    }));
    this.shownValue = JSON.stringify(this.current().value);
  }

  extras() {
    const item = this.item;
    const c = this.current();
    const note = textInput({ id: `note-${item.code}`, label: "Ghi chú", multiline: true, disabled: this.disabled,
      value: c.note }, (typed) => this.changed({ note: typed }));
    const from = h("input", { type: "date", id: `from-${item.code}`, disabled: this.disabled, value: c.period ? c.period.from : "" });
    const to = h("input", { type: "date", id: `to-${item.code}`, disabled: this.disabled, value: c.period ? c.period.to : "" });
    const period = () => this.changed({ period: from.value || to.value ? { from: from.value, to: to.value } : null });
    from.addEventListener("change", period);
    to.addEventListener("change", period);
    const sources = item.data_sources && item.data_sources.length ? item.data_sources : Object.keys(DATA_SOURCES);
    const source = h("select", { id: `source-${item.code}`, disabled: this.disabled },
      h("option", { value: "" }, "— Chọn nguồn số liệu —"),
      sources.map((code) => h("option", { value: code, selected: c.source === code ? true : null }, DATA_SOURCES[code] || code)));
    source.addEventListener("change", () => this.changed({ source: source.value || null }));
    const filled = c.note || c.period || c.source;
    this.clearButton = this.disabled ? null : h("button", { type: "button", class: "btn btn-ghost clear-link",
      dataset: { action: "clear" }, onclick: (event) => { event.preventDefault(); this.clear(); } }, "Xóa câu trả lời");
    return h("details", { class: "item-extra", open: filled ? true : null },
      h("summary", {}, h("span", {}, item.period_bound ? "Ghi chú, kỳ số liệu, nguồn số liệu" : "Ghi chú, nguồn số liệu"),
        this.clearButton),
      field("Ghi chú", note),
      item.period_bound ? h("div", { class: "grid-2" }, field("Kỳ số liệu: từ ngày", from), field("đến ngày", to)) : null,
      field("Nguồn số liệu", source));
  }

  /* A field changed: validate like the server, save locally at once, queue when valid. Saves of one item run
   * one after another, each on top of the record the previous one left. */
  changed(change, readError = null) {
    if (readError) {
      this.showMessage(readError, "error");
      return this.pending || Promise.resolve();
    }
    this.pending = (this.pending || Promise.resolve()).then(() => {
      const fields = { ...this.current(), ...change };
      const [valid, error] = this.check(fields);
      return this.screen.save(this, fields, { valid, error });
    }).catch((error) => this.showMessage(`Không lưu được trên máy: ${error.message}`, "error"));
    return this.pending;
  }

  check(fields) {
    if (fields.value !== null && fields.value !== undefined) {
      try {
        fields.value = validate(this.item, fields.value);
      } catch (problem) {
        if (!(problem instanceof InvalidValue)) throw problem;
        return [false, problem.message];
      }
    }
    const p = fields.period;
    if (p && (!p.from || !p.to)) return [false, "Kỳ số liệu: nhập đủ từ ngày và đến ngày."];
    if (p && p.to < p.from) return [false, "Kỳ số liệu: ngày kết thúc trước ngày bắt đầu."];
    return [true, null];
  }

  clear() {
    this.changed({ value: null }).then(() => this.paintWidget());
  }

  setVisible(visible) {
    this.element.classList.toggle("hidden", !visible);
  }

  showMessage(text, kind = "") {
    this.message.className = `item-message ${kind}`;
    this.message.textContent = text || "";
  }

  show(record, { fromStore = false } = {}) {
    this.record = record || null;
    const state = record ? record.sync_state : null;
    this.element.className = `item ${state ? `state-${state}` : ""} ${this.element.classList.contains("hidden") ? "hidden" : ""}`;
    this.element.dataset.state = state || "empty";
    if (state) {
      this.badge.className = `badge state-${state}`;
      this.badge.textContent = SYNC_STATES[state];
      this.badge.classList.remove("hidden");
    } else {
      this.badge.className = "badge hidden";
    }
    const failed = this.screen.evaluator.passes(this.item) === false;
    replace(this.hints, evidenceHints(this.item, failed).map(([text, kind]) => badge(text, `${kind} plain`)));
    if (record && record.error) this.showMessage(record.error, "error");
    else if (state === "draft" && record.value !== null && record.value !== undefined) this.showMessage("Bản nháp: chưa gửi.", "");
    else this.showMessage("");
    this.showResolution(record);
    if (this.clearButton) this.clearButton.classList.toggle("hidden", !record || record.value === null || record.value === undefined);
    const focused = this.element.contains(document.activeElement);
    if (fromStore && !focused && record && JSON.stringify(record.value ?? null) !== this.shownValue) this.paintWidget();
  }

  showResolution(record) {
    if (record && record.sync_state === "conflict" && record.conflict) {
      const theirs = record.conflict;
      const who = theirs.author ? theirs.author.full_name : "người khác";
      replace(this.resolution, h("div", { class: "item-message problem", dataset: { role: "conflict" } },
        h("p", {}, `Trên máy chủ, ${who} đã cập nhật mục này${theirs.updated_at ? ` lúc ${formatDateTime(theirs.updated_at)}` : ""}: `,
          h("strong", {}, describe(this.item, theirs.value)), "."),
        h("p", {}, "Giá trị trên máy này: ", h("strong", {}, describe(this.item, record.value)), "."),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "btn btn-primary", dataset: { action: "keep-mine" },
            onclick: () => outbox.keepMine(this.key).then(() => toast("Sẽ gửi giá trị của bạn lên máy chủ.")) },
          "Giữ giá trị của tôi"),
          h("button", { type: "button", class: "btn", dataset: { action: "keep-theirs" },
            onclick: () => outbox.keepTheirs(this.key).then(() => this.screen.scheduleReload()) },
          "Dùng giá trị trên máy chủ"))));
    } else if (record && record.sync_state === "needs_attention" && record.problem) {
      replace(this.resolution, h("div", { class: "item-message problem", dataset: { role: "problem" } },
        h("p", {}, `Máy chủ chưa nhận câu trả lời này: ${record.problem.detail || record.problem.title}`),
        h("p", { class: "small" }, "Câu trả lời vẫn được giữ trên máy. Sửa lại rồi lưu, hoặc gửi lại khi đã khắc phục."),
        h("button", { type: "button", class: "btn", dataset: { action: "retry" },
          onclick: () => outbox.retry(this.key) }, "Gửi lại")));
    } else {
      replace(this.resolution);
    }
  }
}
