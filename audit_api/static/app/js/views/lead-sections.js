/* The prose sections of a document draft (services/document_content.py EDITABLE_SECTIONS): how each is shown and
 * edited. The data parts (results, strengths, findings, recommendations, photos) are not here: they come from the
 * findings screen and the "refresh" of the draft. */

import { h, replace } from "../ui.js";
import { linesToText, textField, textToLines } from "./lead-common.js";

/* key → [label, shape, kinds of document that print it] */
export const PROSE = [
  ["summary", "Trích yếu", "lines", ["minutes", "conclusion"]],
  ["bases", "Căn cứ", "lines", ["minutes", "conclusion"]],
  ["opening", "Mở đầu", "text", ["minutes", "conclusion"]],
  ["composition", "Thành phần", "composition", ["minutes"]],
  ["unit_explanation", "Ý kiến giải trình của đơn vị được kiểm tra", "text", ["minutes"]],
  ["report_back", "Báo cáo kết quả khắc phục", "text", ["minutes"]],
  ["implementation", "Tổ chức thực hiện", "lines", ["conclusion"]],
  ["closing", "Kết thúc", "text", ["minutes", "conclusion"]],
  ["recipients", "Nơi nhận", "lines", ["minutes", "conclusion"]],
  ["signatures", "Khối chữ ký", "signatures", ["minutes", "conclusion"]],
];

export const sectionsOf = (kind) => PROSE.filter(([, , , kinds]) => kinds.includes(kind));

/* --- showing ---------------------------------------------------------------------------------------- */

export function display(shape, value) {
  const empty = h("p", { class: "muted" }, "(chưa có nội dung: văn bản in “…”)");
  if (shape === "text") return value ? h("p", { class: "lead-prose-text" }, value) : empty;
  if (shape === "lines") {
    return value && value.length ? h("ul", { class: "lead-prose-lines" }, value.map((l) => h("li", {}, l))) : empty;
  }
  if (shape === "composition") {
    const people = (list) => (list && list.length ? h("ul", { class: "lead-prose-lines" }, list.map((p) =>
      h("li", {}, [p.name, p.position, p.role].filter(Boolean).join(" – ")))) : h("p", { class: "muted" }, "(chưa ghi)"));
    return h("div", {}, h("h4", {}, "1. Đoàn kiểm tra"), people(value && value.team),
      h("h4", {}, "2. Đơn vị được kiểm tra"), people(value && value.unit));
  }
  return value && value.length ? h("ul", { class: "lead-prose-lines" }, value.map((s) =>
    h("li", {}, [s.authority, s.title, s.name].filter(Boolean).join(" – ")))) : empty;
}

/* --- editing: each editor returns { element, value(), focus() } ------------------------------------------- */

export function editor(shape, label, value) {
  if (shape === "text") {
    const { field, control } = textField(label, { value: value || "", rows: 5, name: "value" });
    return { element: field, value: () => control.value.trim(), focus: () => control.focus() };
  }
  if (shape === "lines") {
    const { field, control } = textField(label, { value: linesToText(value), rows: 5, name: "value",
      hint: "Mỗi dòng một mục." });
    return { element: field, value: () => textToLines(control.value), focus: () => control.focus() };
  }
  if (shape === "composition") {
    const team = rows("Đoàn kiểm tra", PERSON, (value && value.team) || []);
    const unit = rows("Đơn vị được kiểm tra", PERSON, (value && value.unit) || []);
    return { element: h("div", {}, team.element, unit.element),
      value: () => ({ team: team.value(), unit: unit.value() }), focus: () => unit.focus() };
  }
  const signatures = rows("Chữ ký (tối đa 4)", SIGNATURE, value || [], 4);
  return { element: signatures.element, value: () => signatures.value(), focus: () => signatures.focus() };
}

const PERSON = { required: "name", add: "Thêm người", fields: [["name", "Họ và tên"], ["position", "Chức vụ, cơ quan"],
  ["role", "Vai trò (Trưởng đoàn, thành viên…)"]] };
const SIGNATURE = { required: "title", add: "Thêm chữ ký", fields: [["authority", "Quyền hạn (TM., KT., TL.…)"],
  ["title", "Chức danh"], ["hint", "Ghi chú dưới chức danh"], ["name", "Họ và tên người ký"]] };

/* A list of records edited as rows of inputs; a row without its required field is left out. */
function rows(title, spec, initial, max = 50) {
  const list = h("div", { class: "lead-row-list" });
  const add = h("button", { class: "btn", type: "button", dataset: { action: "add-row" } }, spec.add);
  const addRow = (record = {}) => {
    const inputs = spec.fields.map(([name, label]) => {
      const { field, control } = textField(label, { type: "text", name, value: record[name] || "" });
      return [name, field, control];
    });
    const row = h("div", { class: "lead-row" }, inputs.map(([, field]) => field),
      h("button", { class: "btn btn-ghost", type: "button", dataset: { action: "remove-row" }, onclick: () => {
        row.remove();
        add.disabled = list.children.length >= max;
      } }, "Bỏ dòng này"));
    row.inputs = inputs;
    list.append(row);
    add.disabled = list.children.length >= max;
  };
  add.addEventListener("click", () => addRow());
  initial.forEach(addRow);
  const element = h("fieldset", { class: "lead-rows" }, h("legend", {}, title), list, h("div", { class: "actions" }, add));
  return {
    element,
    value: () => [...list.children].map((row) => Object.fromEntries(row.inputs.map(([name, , control]) =>
      [name, control.value.trim() || null]))).filter((record) => record[spec.required]),
    focus: () => { const first = list.querySelector("input"); if (first) first.focus(); },
  };
}

/* A section's card: the text as it will print, "Đã sửa" when it differs from the generated default, and (on a
 * draft) Sửa / Lưu / Hủy / Về nội dung mặc định. `save(key, value, button, slot, described)` is the screen's. */
export function sectionCard(doc, [key, label, shape], { editable, save }) {
  const edited = Object.prototype.hasOwnProperty.call(doc.sections || {}, key);
  const value = doc.view[key];
  const body = h("div", { class: "lead-prose-body" }, display(shape, value));
  const form = h("div", { class: "lead-form hidden" });
  const slot = h("div", { class: "lead-slot" });
  const card = h("section", { class: "card lead-prose", dataset: { section: key } },
    h("div", { class: "lead-prose-head" }, h("h3", { class: "grow" }, label),
      edited ? h("span", { class: "badge info" }, "Đã sửa") : editable ? h("span", { class: "badge plain" }, "Theo mặc định") : null),
    body, form, slot);
  if (!editable) return card;
  const open = () => {
    const input = editor(shape, label, (doc.sections || {})[key] ?? value);
    const saveButton = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "save-section" } }, "Lưu");
    saveButton.addEventListener("click", () => {
      const next = input.value();
      save(key, next, saveButton, slot, display(shape, next));
    });
    replace(form, input.element, h("div", { class: "actions" }, saveButton,
      h("button", { class: "btn btn-ghost", type: "button", onclick: () => { form.classList.add("hidden"); replace(slot); } },
        "Hủy"),
      edited ? h("button", { class: "btn", type: "button", dataset: { action: "reset-section" },
        onclick: (e) => save(key, null, e.currentTarget, slot, h("p", {}, "Nội dung mặc định theo số liệu.")) },
      "Về nội dung mặc định") : null));
    form.classList.remove("hidden");
    input.focus();
  };
  card.querySelector(".lead-prose-head").append(h("button", { class: "btn", type: "button", dataset: { action: "edit-section" },
    onclick: open }, "Sửa"));
  return card;
}
