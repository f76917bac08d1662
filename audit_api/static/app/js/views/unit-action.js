/* One corrective action, as its unit sees it: the recommendation, its deadline, the history of the unit's
 * responses and the team's reviews, and (while the action waits for the unit) the response form: what was
 * done ("Đã khắc phục") or why it cannot be done ("Không thể khắc phục"), with evidence photos or PDFs sent
 * through the resumable upload protocol (upload.js) before the response names them in `file_ids`. */

import * as api from "../api.js";
import { formatBytes, formatDate, formatDateTime } from "../format.js";
import { badge, h, replace, toast } from "../ui.js";
import * as upload from "../upload.js";
import {
  blobUrl, deadlineParts, errorBox, errorText, evidenceList, HOME, isUnitUser, releaseUrls, stateBadge,
} from "./unit-shared.js";

const PDF = "application/pdf";
const DEFAULT_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]; // until /config/limits answers
const BY_EXTENSION = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", pdf: PDF };
const MAX_FILES = 50; // the server keeps at most 50 evidence files per action

const KINDS = {
  response: {
    choice: "Đã khắc phục",
    label: "Nội dung đã khắc phục",
    hint: "Nêu rõ đơn vị đã làm gì, khi nào, theo văn bản nào. Đính kèm ảnh chụp hoặc văn bản (PDF) làm minh chứng.",
    submit: "Gửi báo cáo khắc phục",
    empty: "Cần ghi nội dung đã khắc phục.",
  },
  cannot_fix: {
    choice: "Không thể khắc phục",
    label: "Lý do không thể khắc phục",
    hint: "Nêu rõ lý do (căn cứ, điều kiện khách quan) và hướng xử lý đơn vị đề xuất; có thể đính kèm văn bản liên quan.",
    submit: "Gửi báo cáo không thể khắc phục",
    empty: "Cần ghi lý do không thể khắc phục.",
  },
};

export async function render(ctx, actionId) {
  releaseUrls();
  let action;
  try {
    action = await api.get(`/actions/${actionId}`);
  } catch (error) {
    return unavailable(error);
  }
  const canAnswer = isUnitUser(ctx.session.user) && action.status === "open";
  return h("div", { class: "page unit-detail", id: "action-detail", dataset: { actionId, status: action.status } },
    h("div", { class: "crumbs" }, h("a", { href: HOME }, "‹ Văn bản và kiến nghị")),
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, "Kiến nghị khắc phục"),
        h("div", { class: "actions" }, stateBadge(action), deadlineParts(action).flag))),
    notice(action),
    h("div", { class: `unit-detail-grid ${canAnswer ? "with-form" : ""}` },
      recommendationCard(action),
      historyCard(action),
      canAnswer ? responseForm(ctx, action) : null));
}

function unavailable(error) {
  const missing = error instanceof api.ApiError && error.status === 404;
  return h("div", { class: "page" }, h("div", { class: "card" },
    h("h1", {}, missing ? "Không tìm thấy kiến nghị" : "Chưa tải được kiến nghị"),
    errorBox(error),
    h("a", { class: "btn btn-primary", href: HOME }, "Về văn bản và kiến nghị")));
}

function lastOf(list) {
  return list && list.length ? list[list.length - 1] : null;
}

/* One line at the top that says where the action stands and what the unit should do. */
function notice(action) {
  const review = lastOf(action.reviews);
  const response = lastOf(action.responses);
  if (action.is_closed) {
    return h("div", { class: "banner info unit-notice", role: "status" }, h("span", { class: "grow" },
      `Kiến nghị đã đóng${action.closed_at ? ` lúc ${formatDateTime(action.closed_at)}` : ""}. `,
      "Đơn vị không cần gửi thêm báo cáo."));
  }
  if (action.status !== "open") {
    return h("div", { class: "banner info unit-notice", role: "status" }, h("span", { class: "grow" },
      `Đơn vị đã gửi báo cáo${response ? ` lúc ${formatDateTime(response.created_at)}` : ""}; `,
      "đang chờ Đoàn kiểm tra xem xét. Nếu Đoàn trả lại, ý kiến của Đoàn sẽ hiện ở đây để đơn vị bổ sung."));
  }
  if (review && review.decision === "reject") {
    return h("div", { class: "banner danger unit-notice", role: "status", id: "returned-notice" },
      h("span", { class: "grow" }, h("strong", {}, "Đoàn kiểm tra đã trả lại báo cáo trước: "),
        `“${review.comment || ""}” `, "Hãy bổ sung và gửi lại."));
  }
  if (action.is_overdue) {
    return h("div", { class: "banner danger unit-notice", role: "status" }, h("span", { class: "grow" },
      `Kiến nghị đã quá thời hạn khắc phục (${formatDate(action.deadline)}). `,
      "Hãy gửi báo cáo kết quả, hoặc báo không thể khắc phục và nêu lý do."));
  }
  return null;
}

function fact(label, ...value) {
  return h("div", { class: "unit-fact" }, h("dt", {}, label), h("dd", {}, ...value));
}

function recommendationCard(action) {
  const deadline = deadlineParts(action);
  return h("section", { class: "card unit-rec", "aria-labelledby": "rec-title" },
    h("h2", { id: "rec-title" }, "Nội dung kiến nghị"),
    h("p", { class: "unit-rec-text", id: "action-text" }, action.text),
    h("dl", { class: "unit-facts" },
      fact("Thời hạn", action.deadline ? formatDate(action.deadline) : "Không ghi thời hạn", " ", deadline.flag),
      fact("Đơn vị thực hiện", action.unit ? action.unit.name : ""),
      fact("Theo văn bản", h("a", { href: `${HOME}/van-ban/${action.document_id}` }, action.document_number)),
      action.is_closed && action.cannot_fix_reason ? fact("Lý do không thể khắc phục", action.cannot_fix_reason) : null));
}

/* --- history: the unit's responses and the team's reviews, oldest first ------------------------------- */

function historyCard(action) {
  const events = [
    ...action.responses.map((r) => ({ at: r.created_at, item: responseItem(r) })),
    ...action.reviews.map((r) => ({ at: r.created_at, item: reviewItem(r) })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return h("section", { class: "card unit-history", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "Quá trình trả lời và xem xét"),
    events.length
      ? h("ol", { class: "unit-timeline", id: "action-history" }, events.map((e) => e.item))
      : h("p", { class: "muted", id: "action-history" }, "Chưa có báo cáo nào. Khi đơn vị gửi báo cáo, nội dung và ",
        "ý kiến xem xét của Đoàn kiểm tra sẽ hiện ở đây."));
}

function who(person, time) {
  return h("div", { class: "meta" }, person ? h("span", {}, person.full_name) : null, h("span", {}, formatDateTime(time)));
}

function responseItem(response) {
  const cannot = response.kind === "cannot_fix";
  return h("li", { class: "unit-event", dataset: { kind: response.kind, responseId: response.id } },
    badge(cannot ? "Đơn vị báo không thể khắc phục" : "Đơn vị báo cáo đã khắc phục", cannot ? "warn" : "info"),
    who(response.author, response.created_at),
    h("p", { class: "unit-event-text" }, response.text),
    response.file_ids.length ? evidenceList(response.file_ids)
      : h("p", { class: "muted small" }, "Không kèm tệp minh chứng."));
}

function reviewItem(review) {
  const accepted = review.decision === "accept";
  return h("li", { class: "unit-event", dataset: { kind: review.decision } },
    badge(accepted ? "Đoàn kiểm tra chấp nhận" : "Đoàn kiểm tra trả lại", accepted ? "ok" : "danger"),
    who(review.reviewer, review.created_at),
    review.comment ? h("p", { class: "unit-event-text" }, review.comment) : null);
}

/* --- the response form ---------------------------------------------------------------------------------- */

function typeOf(file) {
  if (file.type && file.type !== "application/octet-stream") return file.type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return BY_EXTENSION[extension] || file.type || "";
}

/* Why a chosen file cannot be sent, before any byte goes up (the server checks again). */
function refusal(file, type, accepted, maxBytes) {
  if (!accepted.includes(type)) {
    return `“${file.name}” không phải ảnh (JPEG, PNG, WebP) hoặc tệp PDF nên không gửi được làm minh chứng.`;
  }
  if (maxBytes && file.size > maxBytes) {
    return `“${file.name}” nặng ${formatBytes(file.size)}, vượt giới hạn ${formatBytes(maxBytes)} mỗi tệp của máy chủ. `
      + "Hãy chọn ảnh nhỏ hơn (chụp lại ở độ phân giải thấp hơn) hoặc tách tệp PDF.";
  }
  if (!file.size) return `“${file.name}” là tệp rỗng.`;
  return null;
}

function responseForm(ctx, action) {
  let kind = "response";
  let busy = false;
  const entries = [];

  const choices = Object.entries(KINDS).map(([key, words]) => h("button", {
    type: "button", class: `choice unit-kind ${key === "response" ? "yes" : "no"}`, dataset: { kind: key },
    onclick: () => { kind = key; refreshKind(); },
  }, words.choice));
  const label = h("span", { class: "field-label", id: "response-text-label" });
  const hint = h("span", { class: "unit-hint", id: "response-text-hint" });
  const text = h("textarea", { id: "response-text", name: "text", rows: "6", maxlength: "20000",
    "aria-labelledby": "response-text-label", "aria-describedby": "response-text-hint" });
  const picker = h("input", { type: "file", id: "evidence-files", class: "sr-only", multiple: true,
    accept: "image/jpeg,image/png,image/webp,application/pdf,.jpg,.jpeg,.png,.webp,.pdf" });
  const camera = h("input", { type: "file", id: "evidence-camera", class: "sr-only", accept: "image/*",
    capture: "environment" });
  const pickMessage = h("div", { id: "evidence-message", "aria-live": "polite" });
  const list = h("ul", { class: "unit-uploads", id: "evidence-list" });
  const error = h("div", { id: "response-error", "aria-live": "assertive" });
  const submit = h("button", { type: "submit", class: "btn btn-primary unit-submit", id: "response-submit" });

  function refreshKind() {
    for (const choice of choices) choice.setAttribute("aria-pressed", String(choice.dataset.kind === kind));
    label.textContent = KINDS[kind].label;
    hint.textContent = KINDS[kind].hint;
    submit.textContent = KINDS[kind].submit;
    form.dataset.kind = kind;
  }

  function setBusy(value) {
    busy = value;
    for (const el of [submit, text, picker, camera, ...choices]) el.disabled = value;
    for (const entry of entries) {
      entry.remove.disabled = value;
      entry.caption.disabled = value || entry.state === "done"; // a caption goes up with its file's first bytes
    }
    form.classList.toggle("busy", value);
  }

  async function addFiles(files) {
    replace(pickMessage);
    let limits = null;
    try {
      limits = await upload.limits();
    } catch { /* offline or refused: the server checks when the file is sent */ }
    const accepted = [...(limits ? limits.photo_types : DEFAULT_PHOTO_TYPES), PDF];
    const refused = [];
    for (const file of files) {
      const type = typeOf(file);
      const why = refusal(file, type, accepted, limits && limits.photo_max_bytes);
      if (why) {
        refused.push(why);
      } else if (entries.length >= MAX_FILES) {
        refused.push(`Mỗi kiến nghị nhận tối đa ${MAX_FILES} tệp minh chứng; “${file.name}” chưa được thêm.`);
      } else if (!entries.some((e) => e.file.name === file.name && e.file.size === file.size
          && e.file.lastModified === file.lastModified)) {
        entries.push(fileEntry(file, type));
      }
    }
    if (refused.length) {
      replace(pickMessage, h("div", { class: "form-error", role: "alert" },
        h("strong", {}, refused.length === 1 ? "Không nhận tệp này:" : `Không nhận ${refused.length} tệp:`),
        h("ul", {}, refused.map((why) => h("li", {}, why)))));
    }
    replace(list, entries.map((e) => e.row));
  }

  function fileEntry(file, type) {
    const isPdf = type === PDF;
    const bar = h("span", {});
    const meter = h("div", { class: "meter unit-meter", role: "progressbar", "aria-valuemin": "0",
      "aria-valuemax": "100", "aria-valuenow": "0", "aria-label": `Tiến độ tải lên ${file.name}` }, bar);
    const status = h("span", { class: "unit-upload-status" }, "Sẽ gửi khi bấm nút gửi báo cáo");
    const caption = h("input", { type: "text", class: "unit-caption", maxlength: "2000",
      placeholder: isPdf ? "Tên văn bản, ví dụ: Báo cáo kết quả khắc phục" : "Ghi chú ảnh (không bắt buộc)",
      "aria-label": `Ghi chú cho ${file.name}` });
    const remove = h("button", { type: "button", class: "btn btn-ghost unit-remove",
      "aria-label": `Bỏ tệp ${file.name}` }, "Bỏ");
    // the id is made once, when the file is chosen: sending again resumes this upload, never a second copy
    const entry = { id: crypto.randomUUID(), file, type, sha256: null, state: "waiting", bar, meter, status, caption,
      remove };
    entry.row = h("li", { class: "unit-upload", dataset: { name: file.name, state: "waiting" } },
      isPdf ? h("span", { class: "unit-file-icon", "aria-hidden": "true" }, "PDF")
        : h("img", { class: "unit-preview", src: blobUrl(file), alt: "" }),
      h("div", { class: "unit-upload-body" },
        h("div", { class: "unit-upload-name" }, h("strong", {}, file.name),
          h("span", { class: "muted small" }, ` · ${formatBytes(file.size)}`)),
        caption, meter, status),
      remove);
    remove.addEventListener("click", () => {
      entries.splice(entries.indexOf(entry), 1);
      entry.row.remove();
    });
    return entry;
  }

  function show(entry, state, message, percent = null) {
    entry.state = state;
    entry.row.dataset.state = state;
    entry.status.textContent = message;
    if (percent !== null) {
      entry.bar.style.width = `${percent}%`; // CSSOM, allowed by style-src 'self'
      entry.meter.setAttribute("aria-valuenow", String(percent));
    }
    entry.caption.disabled = state === "done";
  }

  async function sendFile(entry) {
    show(entry, "uploading", "Đang chuẩn bị…");
    try {
      if (!entry.sha256) entry.sha256 = await upload.sha256Hex(entry.file);
      const stored = await upload.send(entry.file, {
        id: entry.id, sha256: entry.sha256, size: entry.file.size, content_type: entry.type, action_id: action.id,
        caption: entry.caption.value.trim() || null,
      }, {
        onProgress: (sent, total) => {
          const percent = total ? Math.floor((sent * 100) / total) : 100;
          show(entry, "uploading", `Đang tải lên ${percent}%`, percent);
        },
      });
      if (stored.status !== "ready") {
        throw new Error(stored.reject_reason || "Máy chủ chưa xử lý xong tệp; hãy thử gửi lại.");
      }
      show(entry, "done", "Đã tải lên", 100);
    } catch (error) {
      const name = entry.file.name;
      if (error instanceof api.NetworkError) {
        show(entry, "failed", "Mất kết nối khi đang tải lên. Bấm gửi lại để tiếp tục từ phần đã tải.");
        throw new Error(`Mất kết nối khi đang gửi tệp “${name}”. Nội dung và các tệp vẫn còn trên màn hình; `
          + "khi có mạng, bấm gửi lại để tiếp tục từ phần đã tải.");
      }
      if (error instanceof api.AuthRequired) {
        show(entry, "failed", "Chưa gửi xong: cần đăng nhập lại.");
        throw error;
      }
      show(entry, "failed", `Không được nhận: ${errorText(error)}`);
      throw new Error(`Tệp “${name}” không được nhận: ${errorText(error)} Hãy bỏ tệp này hoặc chọn tệp khác.`);
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    const value = text.value.trim();
    replace(error);
    text.removeAttribute("aria-invalid");
    if (!value) {
      text.setAttribute("aria-invalid", "true");
      replace(error, h("div", { class: "form-error", role: "alert" }, KINDS[kind].empty));
      text.focus();
      return;
    }
    if (!navigator.onLine) {
      replace(error, h("div", { class: "form-error", role: "alert" }, "Máy đang ngoại tuyến. Cần có mạng để gửi báo ",
        "cáo; nội dung và tệp đã chọn vẫn còn trên màn hình."));
      return;
    }
    setBusy(true);
    try {
      for (const entry of entries) {
        submit.textContent = `Đang gửi tệp ${entries.indexOf(entry) + 1}/${entries.length}…`;
        if (entry.state !== "done") await sendFile(entry);
      }
      submit.textContent = "Đang gửi báo cáo…";
      await api.post(`/actions/${action.id}/responses`, { kind, text: value, file_ids: entries.map((e) => e.id) });
      toast("Đã gửi báo cáo. Đoàn kiểm tra sẽ xem xét và phản hồi.");
      ctx.navigate(location.hash); // the same action, drawn again with the response in its history
    } catch (failure) {
      const stale = failure instanceof api.ApiError && failure.status === 409;
      replace(error, errorBox(failure, stale ? h("button", { class: "btn", type: "button",
        onclick: () => ctx.navigate(location.hash) }, "Tải lại kiến nghị") : null));
      setBusy(false);
      refreshKind();
    }
  }

  text.addEventListener("input", () => {
    if (text.getAttribute("aria-invalid") !== "true") return;
    text.removeAttribute("aria-invalid");
    replace(error); // the message was about this empty field
  });
  for (const input of [picker, camera]) {
    input.addEventListener("change", async () => {
      const files = [...input.files];
      input.value = ""; // choosing the same file again fires change again
      await addFiles(files);
    });
  }

  const form = h("form", { class: "card unit-form", id: "response-form", novalidate: true, onsubmit: onSubmit,
    "aria-labelledby": "response-title" },
  h("h2", { id: "response-title" }, "Báo cáo kết quả khắc phục"),
  h("div", { class: "choices unit-kinds", role: "group", "aria-label": "Kết quả" }, choices),
  h("label", { class: "field", for: "response-text" }, label, hint, text),
  h("div", { class: "unit-evidence" },
    h("h3", {}, "Tệp minh chứng"),
    h("p", { class: "muted small", id: "evidence-rules" }, "Ảnh (JPEG, PNG, WebP) hoặc tệp PDF. ",
      "Tệp được tải lên khi bấm gửi; nếu mất kết nối, lần gửi sau tiếp tục từ phần đã tải."),
    h("div", { class: "actions" },
      h("label", { class: "btn unit-pick", for: "evidence-files" }, picker, "Chọn ảnh hoặc tệp PDF"),
      h("label", { class: "btn unit-pick", for: "evidence-camera" }, camera, "Chụp ảnh")),
    pickMessage, list),
  error,
  h("div", { class: "actions unit-form-actions" }, submit));
  refreshKind();
  upload.limits().then((limits) => {
    const rules = form.querySelector("#evidence-rules");
    rules.prepend(`Mỗi tệp tối đa ${formatBytes(limits.photo_max_bytes)}. `);
  }).catch(() => {});
  return form;
}
