/* Vietnamese formats, as official documents write them (answer_values.format_number): 6.081; 99,4; 24/06/2024. */

function roundHalfUp(value, decimals) {
  const factor = 10 ** decimals;
  // toPrecision repairs binary noise (1.005 * 100 = 100.49999…) before rounding half up, like Decimal does.
  return Math.sign(value) * Math.round(Number((Math.abs(value) * factor).toPrecision(15))) / factor;
}

function groupThousands(integerText) {
  return integerText.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

export function formatNumber(value, decimals = 1) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "";
  const rounded = roundHalfUp(value, decimals);
  const negative = rounded < 0 ? "-" : "";
  const [whole, fraction = ""] = Math.abs(rounded).toFixed(decimals).split(".");
  const trimmed = fraction.replace(/0+$/, "");
  return negative + groupThousands(whole) + (trimmed ? `,${trimmed}` : "");
}

export function formatPercent(numerator, denominator) {
  if (!denominator) return "—";
  return `${formatNumber((numerator * 100) / denominator)}%`;
}

/* What a person typed → a number, or null for empty, or NaN when it is not a number.
 * "6.081" and "6 081" are thousands for whole numbers; "12,5" (and "12.5") are decimals. */
export function parseNumber(text, { integer = false } = {}) {
  const raw = String(text ?? "").trim().replace(/\s/g, "");
  if (!raw) return null;
  let normalized;
  if (raw.includes(",")) normalized = raw.replace(/\./g, "").replace(",", ".");
  else if (integer || /^\d{1,3}(\.\d{3})+$/.test(raw)) normalized = raw.replace(/\./g, "");
  else normalized = raw;
  if (!/^-?\d+(\.\d+)?$/.test(normalized)) return Number.NaN;
  return Number(normalized);
}

export function formatDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}/${m}/${y}`;
}

export function formatDateTime(value) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())} ngày ${pad(date.getDate())}/${pad(date.getMonth() + 1)}/${date.getFullYear()}`;
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(value, unit ? 1 : 0)} ${units[unit]}`;
}

export const SYNC_STATES = {
  draft: "Bản nháp",
  queued: "Chờ đồng bộ",
  syncing: "Đang đồng bộ",
  synced: "Đã đồng bộ",
  conflict: "Xung đột",
  needs_attention: "Cần xử lý",
};

export const INSPECTION_STATUSES = {
  planned: "Theo kế hoạch",
  in_progress: "Đang kiểm tra",
  submitted: "Đã nộp",
  returned: "Trả lại để sửa",
  approved: "Đã duyệt",
  minutes_issued: "Đã ban hành biên bản",
  closed: "Đã kết thúc",
};

export const SECTION_STATUSES = {
  open: "Đang thực hiện",
  submitted: "Đã nộp",
  returned: "Được trả lại",
  approved: "Đã duyệt",
};

export const TEAM_ROLES = {
  lead: "Trưởng đoàn",
  deputy: "Phó Trưởng đoàn",
  secretary: "Thư ký",
  member: "Thành viên",
};
