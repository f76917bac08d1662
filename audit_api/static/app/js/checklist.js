/* Checklist logic on the tablet: value validation, metrics, visibility conditions and thresholds — the same
 * rules as the server (audit_api/answer_values.py, services/rules.py), so that what the tablet accepts offline
 * is what the server applies later. Pure functions; no DOM, no storage. */

import { formatNumber } from "./format.js";

const MAX_COUNT = 1e12;
const MAX_TEXT = 10000;

export class InvalidValue extends Error {}

function number(value, what, { integer, minimum = null, maximum = null }) {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidValue(`${what}: cần một số${integer ? " nguyên" : ""}.`);
  }
  if (integer && !Number.isInteger(value)) throw new InvalidValue(`${what}: cần một số nguyên.`);
  if (Math.abs(value) > MAX_COUNT) throw new InvalidValue(`${what}: quá lớn.`);
  if (minimum !== null && value < minimum) {
    throw new InvalidValue(`${what}: phải lớn hơn hoặc bằng ${formatNumber(minimum)}.`);
  }
  if (maximum !== null && value > maximum) {
    throw new InvalidValue(`${what}: phải nhỏ hơn hoặc bằng ${formatNumber(maximum)}.`);
  }
  return value;
}

function text(value, what, limit = MAX_TEXT) {
  if (typeof value !== "string" || !value.trim()) throw new InvalidValue(`${what}: cần nhập nội dung.`);
  if (value.length > limit) throw new InvalidValue(`${what}: dài quá ${formatNumber(limit)} ký tự.`);
  return value;
}

function isoDate(value, what) {
  const real = (text) => { // 2023-02-30 parses (and rolls over) in JavaScript; the server refuses it
    const date = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
  };
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value) || !real(value)) {
    throw new InvalidValue(`${what}: cần ngày hợp lệ.`);
  }
  return value;
}

const optionCodes = (item) => (item.options || []).map((option) => option.code);
const limitOf = (item, key) => (item.validation && item.validation[key] !== undefined ? item.validation[key] : null);

/* The value to send for this item, or InvalidValue with the message the server would give. */
export function validate(item, value) {
  switch (item.answer_type) {
    case "yes_no_na":
      if (!["yes", "no", "na"].includes(value)) throw new InvalidValue("Chọn Có, Không hoặc Không áp dụng.");
      return value;
    case "count":
      return number(value, "Số lượng", { integer: true, minimum: Math.max(0, limitOf(item, "min") ?? 0),
        maximum: limitOf(item, "max") });
    case "number":
      return number(value, "Giá trị", { integer: false, minimum: limitOf(item, "min"), maximum: limitOf(item, "max") });
    case "percent":
      return number(value, "Tỷ lệ (%)", { integer: false, minimum: Math.max(0, limitOf(item, "min") ?? 0),
        maximum: Math.min(100, limitOf(item, "max") ?? 100) });
    case "ratio":
      return ratio(item, value);
    case "select":
      if (!optionCodes(item).includes(value)) throw new InvalidValue("Chọn một phương án trong danh sách.");
      return value;
    case "multiselect": {
      const codes = optionCodes(item);
      if (!Array.isArray(value) || value.some((code) => !codes.includes(code))) {
        throw new InvalidValue("Chỉ chọn các phương án trong danh sách.");
      }
      return codes.filter((code) => value.includes(code));
    }
    case "text":
      return text(value, "Nội dung");
    case "date":
      return isoDate(value, "Ngày");
    case "document_ref":
      return documentRef(value);
    case "sample":
      return sample(item, value);
    default:
      throw new InvalidValue(`Kiểu câu trả lời ${item.answer_type} chưa được hỗ trợ.`);
  }
}

function ratio(item, value) {
  if (!value || value.numerator === null || value.denominator === null
      || value.numerator === undefined || value.denominator === undefined) {
    throw new InvalidValue("Nhập đủ tử số và mẫu số.");
  }
  const numerator = number(value.numerator, item.numerator_label || "Tử số", { integer: true, minimum: 0 });
  const denominator = number(value.denominator, item.denominator_label || "Mẫu số", { integer: true, minimum: 0 });
  if (numerator > denominator) {
    throw new InvalidValue(`Tử số (${formatNumber(numerator)}) không được lớn hơn mẫu số (${formatNumber(denominator)}).`);
  }
  return { numerator, denominator };
}

function documentRef(value) {
  if (!value || typeof value !== "object") throw new InvalidValue("Nhập số, ký hiệu văn bản.");
  const normalized = { number: text(value.number, "Số, ký hiệu văn bản", 255) };
  if (value.date) normalized.date = isoDate(value.date, "Ngày văn bản");
  if (value.issuer && value.issuer.trim()) normalized.issuer = text(value.issuer, "Cơ quan ban hành", 1000);
  if (value.title && value.title.trim()) normalized.title = text(value.title, "Trích yếu", 1000);
  return normalized;
}

function sample(item, rows) {
  if (!Array.isArray(rows) || rows.length > 500) throw new InvalidValue("Bảng chọn mẫu tối đa 500 dòng.");
  const columns = Object.fromEntries((item.columns || []).map((column) => [column.code, column]));
  return rows.map((row, index) => {
    const clean = {};
    for (const [code, cell] of Object.entries(row)) {
      const column = columns[code];
      if (!column || cell === null || cell === undefined || cell === "") continue;
      const what = `Dòng ${index + 1}, cột ${column.label}`;
      if (column.type === "yes_no") {
        if (!["yes", "no"].includes(cell)) throw new InvalidValue(`${what}: chọn Có hoặc Không.`);
        clean[code] = cell;
      } else if (column.type === "count") {
        clean[code] = number(cell, what, { integer: true, minimum: 0 });
      } else if (column.type === "date") {
        clean[code] = isoDate(cell, what);
      } else {
        clean[code] = text(cell, what, 1000);
      }
    }
    return clean;
  });
}

/* --- metrics, conditions, thresholds (services/rules.py) ----------------------------------------------- */

const MISSING = Symbol("missing");

export function metrics(item, value) {
  if (value === null || value === undefined) return {};
  switch (item.answer_type) {
    case "ratio": {
      const result = { numerator: value.numerator, denominator: value.denominator,
        missing: value.denominator - value.numerator };
      if (value.denominator) result.percent = (value.numerator * 100) / value.denominator;
      return result;
    }
    case "select": {
      const option = (item.options || []).find((o) => o.code === value);
      return { value, label: option ? option.label : value };
    }
    case "multiselect": {
      const missing = (item.options || []).filter((o) => !value.includes(o.code)).map((o) => o.label);
      return { selected: [...value], missing, selected_count: value.length, missing_count: missing.length };
    }
    case "sample": {
      const checks = (item.columns || []).filter((c) => c.type === "yes_no" && c.pass);
      const fails = (row, c) => row[c.code] !== undefined && row[c.code] !== null && row[c.code] !== c.pass;
      return { rows: value.length, failed: value.filter((row) => checks.some((c) => fails(row, c))).length,
        failures: checks.filter((c) => value.some((row) => fails(row, c))).map((c) => c.label) };
    }
    default:
      return { value };
  }
}

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const NUMERIC = { "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b };

export function compare(left, op, right) {
  if (op === "==" || op === "!=") return (JSON.stringify(left) === JSON.stringify(right)) === (op === "==");
  if (NUMERIC[op]) return isNumber(left) && isNumber(right) && NUMERIC[op](left, right);
  if (op === "in" || op === "not_in") return Array.isArray(right) && right.includes(left) === (op === "in");
  if ((op === "includes" || op === "excludes") && Array.isArray(left)) {
    const wanted = Array.isArray(right) ? right : [right];
    return op === "includes" ? wanted.every((c) => left.includes(c)) : !wanted.some((c) => left.includes(c));
  }
  return false;
}

/* Evaluates conditions for one unit of an inspection against local answers (item code → value). */
export class Evaluator {
  constructor(definition, valueOf) {
    this.items = {};
    for (const section of definition.sections) for (const item of section.items) this.items[item.code] = item;
    this.valueOf = valueOf;
  }

  operand(operand, code) {
    if ("literal" in operand) return operand.literal;
    if ("threshold" in operand) {
      const item = this.items[code];
      return item && item.threshold ? item.threshold.value : MISSING;
    }
    if ("sum" in operand) {
      const terms = operand.sum.map((term) => this.operand(term, code));
      return terms.every(isNumber) ? terms.reduce((a, b) => a + b, 0) : MISSING;
    }
    const item = this.items[operand.item];
    const value = this.valueOf(operand.item);
    if (!item || value === null || value === undefined) return MISSING;
    const found = metrics(item, value)[operand.metric || "value"];
    return found === undefined ? MISSING : found;
  }

  holds(condition, code) {
    const left = this.operand(condition.left, code);
    if (condition.op === "present" || condition.op === "absent") return (left === MISSING) === (condition.op === "absent");
    const right = this.operand(condition.right, code);
    return left !== MISSING && right !== MISSING && compare(left, condition.op, right);
  }

  visible(item) {
    return (item.visible_if || []).every((condition) => this.holds(condition, item.code));
  }

  /* true / false against the checklist's threshold (a yes/no item without one fails on "no", as the checklist
   * validator reads required_if_failed); null when it cannot say (no threshold, no answer, "na"). */
  passes(item) {
    const value = this.valueOf(item.code);
    if (value === null || value === undefined || value === "na") return null;
    if (!item.threshold && item.answer_type === "yes_no_na") return value === "yes";
    if (!item.threshold) return null;
    const found = metrics(item, value)[item.threshold.metric];
    return found === undefined ? null : compare(found, item.threshold.op, item.threshold.value);
  }
}

/* --- what the tablet shows ------------------------------------------------------------------------------- */

export const DATA_SOURCES = {
  self_report: "Đơn vị tự báo cáo",
  information_system: "Hệ thống thông tin giải quyết TTHC",
  national_portal: "Cổng Dịch vụ công quốc gia",
  national_database: "CSDL quốc gia về TTHC",
  on_site: "Quan sát, đếm tại chỗ",
  sample: "Kiểm tra chọn mẫu",
  documents: "Hồ sơ, văn bản của đơn vị",
};

/* Evidence hints: [text, emphasis] for each kind of evidence the item asks for. `failed` is the local pass check. */
export function evidenceHints(item, failed) {
  const hints = [];
  const kinds = { photo: "ảnh minh chứng", document: "văn bản, tài liệu" };
  for (const [kind, label] of Object.entries(kinds)) {
    const rule = (item.evidence || {})[kind] || "none";
    if (rule === "required") hints.push([`Bắt buộc có ${label}`, "warn"]);
    else if (rule === "required_if_failed") {
      hints.push(failed ? [`Chưa đạt: cần ${label}`, "danger"] : [`Cần ${label} nếu chưa đạt`, "info"]);
    } else if (rule === "optional") hints.push([`Có thể kèm ${label}`, "plain"]);
  }
  return hints;
}

export function appliesTo(item, unit) {
  return (item.applies_to || []).includes(unit.unit_type);
}

export function answerKey(inspectionId, itemCode, unitId) {
  return `${inspectionId}|${itemCode}|${unitId}`;
}

/* A value as a sentence fragment (conflicts, summaries). */
export function describe(item, value, { formatNumber: fmt = formatNumber } = {}) {
  if (value === null || value === undefined) return "(chưa trả lời)";
  switch (item.answer_type) {
    case "yes_no_na":
      return { yes: "Có", no: "Không", na: "Không áp dụng" }[value] || String(value);
    case "ratio":
      return `${fmt(value.numerator)}/${fmt(value.denominator)}${value.denominator ? ` = ${fmt((value.numerator * 100) / value.denominator)}%` : ""}`;
    case "percent":
      return `${fmt(value)}%`;
    case "count":
    case "number":
      return `${fmt(value)}${item.unit ? ` ${item.unit}` : item.unit_label ? ` ${item.unit_label}` : ""}`;
    case "select":
      return metrics(item, value).label;
    case "multiselect":
      return value.length ? metrics(item, value).selected.map((code) => (item.options.find((o) => o.code === code) || {}).label || code).join("; ") : "(không chọn)";
    case "date":
      return value.split("-").reverse().join("/");
    case "document_ref":
      return [`số ${value.number}`, value.date ? `ngày ${value.date.split("-").reverse().join("/")}` : "", value.issuer ? `của ${value.issuer}` : "", value.title || ""].filter(Boolean).join(" ");
    case "sample":
      return `${value.length} hồ sơ chọn mẫu`;
    default:
      return String(value);
  }
}
