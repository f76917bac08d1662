/* What the inspected unit's screens share: who is a unit user, the words for document kinds and action states,
 * downloads of signed-in files through Blob URLs, the evidence files of a response, and error messages. */

import * as api from "../api.js";
import { fetchFile, saveBlob } from "../files.js";
import { formatBytes, formatDate } from "../format.js";
import { ask, badge, h, replace } from "../ui.js";

const STAFF_ROLES = ["admin", "lead", "secretary", "inspector"];

/* An inspected unit's account (mirrors access.is_unit_user): the unit role and no staff role. */
export function isUnitUser(user) {
  const roles = (user && user.roles) || [];
  return roles.includes("unit") && !roles.some((role) => STAFF_ROLES.includes(role));
}

export const HOME = "#/don-vi";

export const DOCUMENT_KINDS = {
  minutes: { short: "Biên bản", long: "Biên bản kiểm tra" },
  conclusion: { short: "Thông báo kết luận", long: "Thông báo kết luận kiểm tra" },
};

export function kindLabel(kind, long = false) {
  const known = DOCUMENT_KINDS[kind];
  return known ? known[long ? "long" : "short"] : kind;
}

/* --- corrective actions ------------------------------------------------------------------------------ */

/* The filters of the home screen: the slug in the address, the label, and which actions belong. */
export const FILTERS = [
  { slug: "tat-ca", label: "Tất cả", test: () => true },
  { slug: "cho-tra-loi", label: "Đang chờ trả lời", test: (a) => a.status === "open" },
  { slug: "da-tra-loi", label: "Đã trả lời", test: (a) => !a.is_closed && a.status !== "open" },
  { slug: "da-dong", label: "Đã đóng", test: (a) => a.is_closed },
  { slug: "qua-han", label: "Quá hạn", test: (a) => a.is_overdue },
];

function lastReview(action) {
  return action.reviews && action.reviews.length ? action.reviews[action.reviews.length - 1] : null;
}

/* The state of an action in the unit's words, with the badge kind that colours it. */
export function actionState(action) {
  if (action.is_closed) {
    return action.status === "cannot_fix"
      ? { key: "closed-cannot-fix", label: "Đã đóng: Đoàn chấp nhận không thể khắc phục", tone: "ok" }
      : { key: "closed", label: "Đã đóng: Đoàn chấp nhận kết quả", tone: "ok" };
  }
  if (action.status === "responded") return { key: "responded", label: "Đã trả lời, chờ Đoàn xem xét", tone: "info" };
  if (action.status === "cannot_fix") {
    return { key: "cannot-fix", label: "Báo không thể khắc phục, chờ Đoàn xem xét", tone: "info" };
  }
  const review = lastReview(action);
  if (review && review.decision === "reject") {
    return { key: "returned", label: "Bị trả lại, cần trả lời lại", tone: "danger" };
  }
  return { key: "open", label: "Chưa trả lời", tone: "warn" };
}

export function stateBadge(action) {
  const state = actionState(action);
  const el = badge(state.label, state.tone);
  el.dataset.state = state.key;
  return el;
}

/* Today in Việt Nam (the server counts deadlines in that day too), as YYYY-MM-DD. */
export function todayInVietnam() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date());
}

function daysBetween(fromIso, toIso) {
  return Math.round((Date.parse(`${toIso}T00:00:00Z`) - Date.parse(`${fromIso}T00:00:00Z`)) / 86400000);
}

/* "Thời hạn: 30/09/2024" and, for an action still waiting for the unit, how far it is from the deadline. */
export function deadlineParts(action) {
  if (!action.deadline) return { text: "Không ghi thời hạn", flag: null };
  const text = `Thời hạn: ${formatDate(action.deadline)}`;
  if (action.is_overdue) {
    const late = daysBetween(action.deadline, todayInVietnam());
    return { text, flag: badge(late > 0 ? `Quá hạn ${late} ngày` : "Quá hạn", "danger") };
  }
  if (action.status !== "open" || action.is_closed) return { text, flag: null };
  const left = daysBetween(todayInVietnam(), action.deadline);
  return { text, flag: badge(left === 0 ? "Hết hạn hôm nay" : `Còn ${left} ngày`, left <= 7 ? "warn" : "plain") };
}

/* --- errors -------------------------------------------------------------------------------------------- */

/* What to tell the person: the server's Vietnamese detail, or what a lost connection means here (nothing of
 * these screens is kept for later: the unit works online). */
export function errorText(error) {
  if (error instanceof api.NetworkError) {
    return "Không kết nối được máy chủ. Hãy kiểm tra kết nối mạng rồi thử lại.";
  }
  if (error instanceof api.ApiError) return (error.problem && error.problem.detail) || error.message;
  return (error && error.message) || String(error);
}

export function errorBox(error, extra = null) {
  return h("div", { class: "form-error", role: "alert" }, errorText(error), extra);
}

/* --- files behind the token: Blob URLs ------------------------------------------------------------------ */

const liveUrls = new Set();

/* A Blob URL that lives until the next unit screen is drawn (releaseUrls). */
export function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  liveUrls.add(url);
  return url;
}

export function releaseUrls() {
  for (const url of liveUrls) URL.revokeObjectURL(url);
  liveUrls.clear();
}

/* A button that downloads a signed-in file; shows progress and the server's error on the button's row. */
export function downloadButton(label, path, fallbackName, { primary = false, dataset = {} } = {}) {
  const button = h("button", { class: `btn ${primary ? "btn-primary" : ""}`, type: "button", dataset }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Đang tải…";
    try {
      const { blob, name } = await fetchFile(path);
      saveBlob(blob, name || fallbackName);
      button.textContent = label;
    } catch (error) {
      button.textContent = label;
      await ask({ title: "Chưa tải được tệp", body: [errorText(error)],
        buttons: [{ label: "Đóng", value: "close", class: "btn-primary" }] });
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/* --- evidence files of a response -------------------------------------------------------------------- */

function openImage(url, title) {
  const dialog = h("dialog", { class: "unit-lightbox", "aria-label": title },
    h("img", { src: url, alt: title }),
    h("div", { class: "dialog-actions" },
      h("button", { class: "btn btn-primary", type: "button", onclick: () => dialog.close() }, "Đóng")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/* One evidence file: a thumbnail that opens the larger picture, or a PDF to download. `name` is what to call it
 * when the unit gave no caption (the server keeps no file name a user sent). */
async function evidenceItem(photo, name) {
  const fileId = photo.id;
  const title = photo.caption || name;
  if (photo.status !== "ready") {
    return h("li", { class: "unit-file", dataset: { fileId } }, h("span", { class: "unit-file-name" },
      `${title}: chưa sẵn sàng (${photo.reject_reason || photo.status})`));
  }
  if (photo.kind === "document") {
    return h("li", { class: "unit-file", dataset: { fileId, kind: "pdf" } },
      h("span", { class: "unit-file-icon", "aria-hidden": "true" }, "PDF"),
      h("span", { class: "unit-file-name" }, title, h("span", { class: "muted small" }, ` · ${formatBytes(photo.size)}`)),
      downloadButton("Tải về", `/photos/${fileId}/original`, `minh-chung-${fileId.slice(0, 8)}.pdf`));
  }
  const thumb = await fetchFile(`/photos/${fileId}/thumb`);
  const show = h("button", { class: "unit-thumb", type: "button", "aria-label": `Xem ảnh lớn: ${title}` },
    h("img", { src: blobUrl(thumb.blob), alt: title }));
  show.addEventListener("click", async () => {
    try {
      const display = await fetchFile(`/photos/${fileId}/display`);
      openImage(blobUrl(display.blob), title);
    } catch (error) {
      await ask({ title: "Chưa mở được ảnh", body: [errorText(error)],
        buttons: [{ label: "Đóng", value: "close", class: "btn-primary" }] });
    }
  });
  return h("li", { class: "unit-file", dataset: { fileId, kind: "photo" } }, show,
    h("span", { class: "unit-file-name" }, title));
}

/* "Ảnh 1", "Ảnh 2", "Văn bản PDF": numbered within its kind, and only when there is more than one. */
function defaultNames(photos) {
  const counts = { photo: 0, document: 0 };
  for (const photo of photos) counts[photo.kind === "document" ? "document" : "photo"] += 1;
  const seen = { photo: 0, document: 0 };
  return photos.map((photo) => {
    const kind = photo.kind === "document" ? "document" : "photo";
    seen[kind] += 1;
    const base = kind === "document" ? "Văn bản PDF" : "Ảnh minh chứng";
    return counts[kind] > 1 ? `${base} ${seen[kind]}` : base;
  });
}

/* The files a response names, filled in as they arrive (thumbnails for photos, a download for PDFs). */
export function evidenceList(fileIds) {
  const list = h("ul", { class: "unit-files" }, h("li", { class: "muted small" }, "Đang tải tệp minh chứng…"));
  Promise.all(fileIds.map((id) => api.get(`/photos/${id}`).catch((error) => ({ id, status: "error", error }))))
    .then((photos) => {
      const names = defaultNames(photos);
      return Promise.all(photos.map((photo, index) => (photo.error
        ? Promise.reject(photo.error) : evidenceItem(photo, names[index])).catch((error) =>
        h("li", { class: "unit-file" }, h("span", { class: "unit-file-name" }, `${names[index]}: ${errorText(error)}`)))));
    })
    .then((items) => replace(list, items));
  return list;
}
