/* One input widget per answer type. A widget calls emit(value) with the composed value (null = cleared), or
 * emit(undefined, message) when what was typed cannot be read (the message is shown, nothing is saved). */

import { formatNumber, formatPercent, parseNumber } from "../format.js";
import { h } from "../ui.js";

const DEBOUNCE_MS = 400;

function debounced(fn) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), DEBOUNCE_MS);
  };
  run.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return run;
}

/* A text box that emits on pause and on change (blur). */
function textInput(attrs, onValue) {
  const input = h(attrs.multiline ? "textarea" : "input", { type: attrs.multiline ? null : attrs.type || "text",
    inputmode: attrs.inputmode, id: attrs.id, "aria-label": attrs.label, disabled: attrs.disabled,
    autocomplete: "off", value: attrs.value ?? "" });
  const emit = debounced(() => onValue(input.value));
  input.addEventListener("input", () => emit());
  input.addEventListener("change", () => emit.flush());
  return input;
}

function numberText(value, integer) {
  if (value === null || value === undefined) return "";
  return integer ? formatNumber(value, 0) : formatNumber(value, 6);
}

function readNumber(text, integer, what) {
  const value = parseNumber(text, { integer });
  if (Number.isNaN(value)) return [undefined, `${what}: cần nhập một số${integer ? " nguyên" : ""}.`];
  return [value, null];
}

function choiceButton(label, pressed, onclick, { cls = "", disabled = false, value = "" } = {}) {
  return h("button", { type: "button", class: `choice ${cls}`, "aria-pressed": pressed ? "true" : "false",
    disabled, onclick, dataset: { value } }, label);
}

function field(label, control, extra = null) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control, extra);
}

/* --- per type ------------------------------------------------------------------------------------------- */

function yesNoNa(item, value, { emit, disabled }) {
  const options = [["yes", "Có"], ["no", "Không"], ["na", "Không áp dụng"]];
  const el = h("div", { class: "choices", role: "group", "aria-label": item.question });
  const paint = (current) => {
    el.replaceChildren(...options.map(([code, label]) => choiceButton(label, current === code, () => {
      paint(code);
      emit(code);
    }, { cls: code, disabled, value: code })));
  };
  paint(value);
  return el;
}

function numeric(item, value, { emit, disabled, id }) {
  const integer = item.answer_type === "count";
  const what = { count: "Số lượng", number: "Giá trị", percent: "Tỷ lệ (%)" }[item.answer_type];
  const suffix = item.answer_type === "percent" ? "%" : item.unit || item.unit_label || "";
  const input = textInput({ id, label: item.question, inputmode: integer ? "numeric" : "decimal", disabled,
    value: numberText(value, integer) }, (text) => {
    const [parsed, error] = readNumber(text, integer, what);
    emit(parsed, error);
  });
  return h("div", { class: "number-row" }, field(integer ? "Số lượng" : "Giá trị", input),
    suffix ? h("span", { class: "unit-suffix" }, suffix) : null);
}

function ratio(item, value, { emit, disabled, id }) {
  const current = { numerator: value ? value.numerator : null, denominator: value ? value.denominator : null };
  const pct = h("span", { class: "pct", dataset: { role: "percent" } });
  const formula = h("span", { class: "lbl" });
  const show = () => {
    const { numerator: n, denominator: d } = current;
    pct.textContent = n !== null && d !== null && Number.isFinite(n) && Number.isFinite(d) ? formatPercent(n, d) : "—";
    formula.textContent = n !== null && d !== null && Number.isFinite(n) && Number.isFinite(d)
      ? `${formatNumber(n)}/${formatNumber(d)}` : "Tỷ lệ";
  };
  const part = (name, label) => {
    const input = textInput({ id: `${id}-${name}`, label, inputmode: "numeric", disabled,
      value: numberText(current[name], true) }, (text) => {
      const [parsed, error] = readNumber(text, true, label);
      if (error) return emit(undefined, error);
      current[name] = parsed;
      show();
      if (current.numerator === null && current.denominator === null) return emit(null);
      return emit({ ...current });
    });
    input.addEventListener("input", () => { // the percentage follows the typing, before anything is saved
      const parsed = parseNumber(input.value, { integer: true });
      current[name] = Number.isNaN(parsed) ? null : parsed;
      show();
    });
    return field(label, input);
  };
  show();
  return h("div", { class: "ratio" },
    part("numerator", item.numerator_label || "Tử số"),
    part("denominator", item.denominator_label || "Mẫu số"),
    h("div", { class: "ratio-result", "aria-live": "polite" }, pct, formula));
}

function text(item, value, { emit, disabled, id }) {
  return textInput({ id, label: item.question, multiline: true, disabled, value: value || "" },
    (typed) => emit(typed.trim() ? typed : null));
}

function dateInput(item, value, { emit, disabled, id }) {
  const input = h("input", { type: "date", id, "aria-label": item.question, disabled, value: value || "" });
  input.addEventListener("change", () => emit(input.value || null));
  return h("div", { class: "number-row" }, field("Ngày", input));
}

function select(item, value, { emit, disabled }) {
  const el = h("div", { class: "choices stack", role: "radiogroup", "aria-label": item.question });
  const paint = (current) => {
    el.replaceChildren(...item.options.map((option) => choiceButton(option.label, current === option.code, () => {
      paint(option.code);
      emit(option.code);
    }, { cls: "checkbox-choice", disabled, value: option.code })));
  };
  paint(value);
  return el;
}

function multiselect(item, value, { emit, disabled }) {
  const chosen = new Set(value || []);
  const el = h("div", { class: "choices stack", role: "group", "aria-label": item.question });
  const paint = () => {
    el.replaceChildren(...item.options.map((option) => choiceButton(option.label, chosen.has(option.code), () => {
      if (chosen.has(option.code)) chosen.delete(option.code);
      else chosen.add(option.code);
      paint();
      emit(item.options.map((o) => o.code).filter((code) => chosen.has(code)));
    }, { cls: "checkbox-choice", disabled, value: option.code })));
  };
  paint();
  return h("div", {}, el, h("p", { class: "muted small" }, "Chọn tất cả các phương án đúng; bỏ trống nếu không có."));
}

function documentRef(item, value, { emit, disabled, id }) {
  const current = { number: "", date: "", issuer: "", title: "", ...(value || {}) };
  const send = () => {
    const filled = Object.fromEntries(Object.entries(current).filter(([, v]) => v && String(v).trim()));
    emit(Object.keys(filled).length ? filled : null);
  };
  const part = (name, label, type = "text") => {
    if (type === "date") {
      const input = h("input", { type: "date", id: `${id}-${name}`, disabled, value: current[name] || "" });
      input.addEventListener("change", () => { current[name] = input.value; send(); });
      return field(label, input);
    }
    return field(label, textInput({ id: `${id}-${name}`, label, disabled, value: current[name] || "" }, (typed) => {
      current[name] = typed;
      send();
    }));
  };
  return h("div", {},
    h("div", { class: "grid-2" }, part("number", "Số, ký hiệu"), part("date", "Ngày ban hành", "date")),
    part("issuer", "Cơ quan ban hành"), part("title", "Trích yếu"));
}

function sample(item, value, { emit, disabled, id }) {
  const rows = (value || []).map((row) => ({ ...row }));
  const list = h("div", {});
  const send = () => emit(rows.length ? rows.map((row) => ({ ...row })) : null);
  const cell = (row, column, index) => {
    const key = `${id}-${index}-${column.code}`;
    if (column.type === "yes_no") {
      const group = h("div", { class: "choices" });
      const paint = () => group.replaceChildren(...[["yes", "Có"], ["no", "Không"]].map(([code, label]) =>
        choiceButton(label, row[column.code] === code, () => {
          if (row[column.code] === code) delete row[column.code];
          else row[column.code] = code;
          paint();
          send();
        }, { cls: code, disabled, value: code })));
      paint();
      return h("div", { class: "yn", dataset: { column: column.code } }, h("span", { class: "field-label" }, column.label), group);
    }
    if (column.type === "date") {
      const input = h("input", { type: "date", id: key, disabled, value: row[column.code] || "" });
      input.addEventListener("change", () => {
        if (input.value) row[column.code] = input.value;
        else delete row[column.code];
        send();
      });
      return field(column.label, input);
    }
    const integer = column.type === "count";
    return field(column.label, textInput({ id: key, label: column.label, inputmode: integer ? "numeric" : null, disabled,
      value: integer ? numberText(row[column.code], true) : row[column.code] || "" }, (typed) => {
      if (integer) {
        const [parsed, error] = readNumber(typed, true, column.label);
        if (error) return emit(undefined, error);
        if (parsed === null) delete row[column.code];
        else row[column.code] = parsed;
      } else if (typed.trim()) row[column.code] = typed;
      else delete row[column.code];
      return send();
    }));
  };
  const paint = () => {
    list.replaceChildren(...rows.map((row, index) => h("div", { class: "sample-row", dataset: { row: String(index) } },
      h("div", { class: "sample-row-head" }, `Hồ sơ ${index + 1}`, h("span", { class: "topbar-spacer" }),
        disabled ? null : h("button", { type: "button", class: "btn btn-ghost", onclick: () => {
          rows.splice(index, 1);
          paint();
          send();
        } }, "Xóa dòng")),
      h("div", { class: "sample-grid" },
        item.columns.filter((c) => c.type !== "yes_no").map((column) => cell(row, column, index)),
        item.columns.filter((c) => c.type === "yes_no").map((column) => cell(row, column, index))))));
  };
  paint();
  return h("div", {}, list,
    disabled ? null : h("button", { type: "button", class: "btn", dataset: { action: "add-row" }, onclick: () => {
      rows.push({});
      paint();
      const first = list.lastElementChild && list.lastElementChild.querySelector("input");
      if (first) first.focus();
    } }, "+ Thêm hồ sơ chọn mẫu"));
}

const WIDGETS = {
  yes_no_na: yesNoNa, count: numeric, number: numeric, percent: numeric, ratio, text, date: dateInput,
  select, multiselect, document_ref: documentRef, sample,
};

export function widget(item, value, options) {
  const make = WIDGETS[item.answer_type];
  if (!make) return h("p", { class: "muted" }, `Kiểu câu trả lời "${item.answer_type}" chưa được hỗ trợ trên máy tính bảng.`);
  return make(item, value, options);
}

export { debounced, field, textInput };
