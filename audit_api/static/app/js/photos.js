/* Photos taken during an inspection. A photo is checked and written to IndexedDB (the original as a Blob, a
 * small thumbnail, its SHA-256 and a UUID made once) the moment it is taken, offline or not; the outbox then
 * sends it in the background with the resumable protocol (upload.js) and reports progress. Once the server
 * holds it `ready`, the original Blob is let go (the server keeps it) and the thumbnail stays for the screens.
 *
 * Record in the `photos` store: {id, inspection_id, item_code, unit_id, caption, blob, thumb, name, size,
 * content_type, sha256, width, height, state, offset, problem, created_at, uploaded_at}
 * state: queued → uploading → ready; needs_attention (refused by the server, with its problem), kept on the
 * tablet until the user removes it. */

import * as api from "./api.js";
import { promised } from "./db.js";
import * as upload from "./upload.js";

export const events = new EventTarget();

/* The server's defaults, used until the tablet has asked (offline first start). */
const DEFAULT_LIMITS = { photo_max_bytes: 25 * 1024 * 1024, photo_max_pixels: 50_000_000,
  photo_types: ["image/jpeg", "image/png", "image/webp"], photos_per_inspection: 400 };
const THUMB_PX = 320;
const HEADER_BYTES = 512 * 1024;
const WAITING = new Set(["queued", "uploading"]);

export class Refused extends Error {}

/* --- limits ---------------------------------------------------------------------------------------------- */

/* Ask the server for its limits (online) and keep them for offline captures. */
export async function rememberLimits(db) {
  try {
    await db.setMeta("limits", await upload.limits());
  } catch { /* offline: the stored or default limits stand */ }
}

export async function limitsOf(db) {
  return { ...DEFAULT_LIMITS, ...((await db.getMeta("limits")) || {}) };
}

/* --- checking a file at capture ------------------------------------------------------------------------ */

function u16be(b, i) { return (b[i] << 8) | b[i + 1]; }
function u32be(b, i) { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; }
function u24le(b, i) { return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16); }

/* Width and height read from the file's header, without decoding it (a 900-megapixel photo must be refused
 * before anything tries to hold its pixels). null when the header is not one we know. */
export async function imageSize(blob) {
  const b = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return { width: u32be(b, 16), height: u32be(b, 20) };
  if (b[0] === 0xff && b[1] === 0xd8) {
    for (let i = 2; i + 9 < b.length;) {
      if (b[i] !== 0xff) { i += 1; continue; }
      const marker = b[i + 1];
      if (marker === 0xff) { i += 1; continue; }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { width: u16be(b, i + 7), height: u16be(b, i + 5) };
      }
      i += 2 + u16be(b, i + 2);
    }
    return null;
  }
  const text = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (text(0, 4) === "RIFF" && text(8, 12) === "WEBP") {
    const chunk = text(12, 16);
    if (chunk === "VP8X") return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    if (chunk === "VP8 ") return { width: (b[26] | (b[27] << 8)) & 0x3fff, height: (b[28] | (b[29] << 8)) & 0x3fff };
    if (chunk === "VP8L") {
      return { width: 1 + (b[21] | ((b[22] & 0x3f) << 8)),
        height: 1 + ((b[22] >> 6) | (b[23] << 2) | ((b[24] & 0x0f) << 10)) };
    }
  }
  return null;
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toLocaleString("vi-VN", { maximumFractionDigits: 1 })} MB`;
}

/* Refuse at capture what the server would refuse after the upload: type, bytes, pixels, a file that will
 * not decode. Returns {width, height, thumb}. */
export async function check(file, limits) {
  if (!limits.photo_types.includes(file.type)) {
    throw new Refused(`Tệp “${file.name}” không phải ảnh JPEG, PNG hoặc WebP; không nhận tệp này.`);
  }
  if (file.size > limits.photo_max_bytes) {
    throw new Refused(`Ảnh “${file.name}” nặng ${megabytes(file.size)}, vượt giới hạn ${megabytes(limits.photo_max_bytes)}. `
      + "Hãy chụp lại ở độ phân giải thấp hơn.");
  }
  const size = await imageSize(file);
  if (size && size.width * size.height > limits.photo_max_pixels) {
    const mp = (n) => (n / 1e6).toLocaleString("vi-VN", { maximumFractionDigits: 0 });
    throw new Refused(`Ảnh “${file.name}” có ${mp(size.width * size.height)} triệu điểm ảnh, vượt giới hạn `
      + `${mp(limits.photo_max_pixels)} triệu. Hãy chụp lại ở độ phân giải thấp hơn.`);
  }
  let thumb;
  try {
    thumb = await thumbnail(file);
  } catch {
    throw new Refused(`Không đọc được ảnh “${file.name}” (tệp hỏng hoặc không phải ảnh).`);
  }
  return { width: size ? size.width : null, height: size ? size.height : null, thumb };
}

async function thumbnail(file) {
  const bitmap = await createImageBitmap(file, { resizeWidth: THUMB_PX, resizeQuality: "medium" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: "image/jpeg", quality: 0.8 });
}

/* --- taking, captioning, removing ----------------------------------------------------------------------- */

/* Check and keep a photo for one item of one unit. Resolves once it is on disk; throws Refused. */
export async function add(db, { inspection_id, item_code, unit_id, caption = "", file }) {
  const limits = await limitsOf(db);
  const { width, height, thumb } = await check(file, limits);
  const taken = await db.count("photos", "by_inspection", inspection_id);
  if (taken >= limits.photos_per_inspection) {
    throw new Refused(`Mỗi cuộc kiểm tra tối đa ${limits.photos_per_inspection} ảnh.`);
  }
  const record = { id: crypto.randomUUID(), inspection_id, item_code, unit_id, caption: caption || "", blob: file,
    thumb, name: file.name, size: file.size, content_type: file.type, sha256: await upload.sha256Hex(file),
    width, height, state: "queued", offset: 0, problem: null, created_at: new Date().toISOString() };
  await db.put("photos", record);
  changed(record);
  return record;
}

/* The caption travels with the declaration: it can change until the upload starts. */
export async function setCaption(db, id, caption) {
  const record = await db.transaction("photos", "readwrite", async (s) => {
    const found = await promised(s.photos.get(id));
    if (!found || found.state !== "queued" || found.offset > 0) return found;
    found.caption = caption;
    s.photos.put(found);
    return found;
  });
  changed(record);
  return record;
}

/* Remove a photo the server does not hold (queued, or refused). */
export async function remove(db, id) {
  await db.transaction("photos", "readwrite", async (s) => {
    const found = await promised(s.photos.get(id));
    if (found && ((found.state === "queued" && !found.declared) || found.state === "needs_attention")) s.photos.delete(id);
  });
  events.dispatchEvent(new CustomEvent("change", { detail: { id, removed: true } }));
}

export async function ofItem(db, inspectionId, itemCode, unitId) {
  const all = await db.getAll("photos", "by_inspection", inspectionId);
  return all.filter((p) => p.item_code === itemCode && p.unit_id === unitId)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

export async function waitingCount(db) {
  const all = await db.getAll("photos");
  return { waiting: all.filter((p) => WAITING.has(p.state)).length,
    attention: all.filter((p) => p.state === "needs_attention").length };
}

function changed(record) {
  if (record) events.dispatchEvent(new CustomEvent("change", { detail: record }));
}

/* --- sending ----------------------------------------------------------------------------------------------- */

async function update(db, id, fields) {
  return db.transaction("photos", "readwrite", async (s) => {
    const found = await promised(s.photos.get(id));
    if (!found) return null;
    Object.assign(found, fields);
    s.photos.put(found);
    return found;
  });
}

/* Send every waiting photo, oldest first. A network failure or an expired session stops the round (thrown to
 * the outbox, which backs off or pauses); a refusal sets that photo aside and goes on with the others. */
export async function sendWaiting(db) {
  const waiting = (await db.getAll("photos")).filter((p) => WAITING.has(p.state))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  let sent = 0;
  for (const photo of waiting) {
    changed(await update(db, photo.id, { state: "uploading", declared: true }));
    let lastSaved = photo.offset || 0;
    try {
      const held = await upload.send(photo.blob, {
        id: photo.id, inspection_id: photo.inspection_id, item_code: photo.item_code, unit_id: photo.unit_id,
        caption: photo.caption || null, sha256: photo.sha256, size: photo.size, content_type: photo.content_type,
      }, {
        onProgress: (offset, size) => {
          events.dispatchEvent(new CustomEvent("progress", { detail: { id: photo.id, offset, size } }));
          if (offset - lastSaved >= upload.CHUNK_BYTES * 4) { // the offset is a hint for the screens only
            lastSaved = offset;
            update(db, photo.id, { offset }).catch(() => {});
          }
        },
      });
      if (held.status === "ready") {
        changed(await update(db, photo.id, { state: "ready", offset: photo.size, blob: null, problem: null,
          uploaded_at: new Date().toISOString(), server: { width: held.width, height: held.height } }));
        sent += 1;
      } else {
        changed(await update(db, photo.id, { state: "needs_attention", problem: { status: 422,
          detail: held.reject_reason || "Máy chủ không nhận ảnh này." } }));
      }
    } catch (error) {
      if (error instanceof api.ApiError && error.status >= 400 && error.status < 500 && error.status !== 408
          && error.status !== 429) {
        changed(await update(db, photo.id, { state: "needs_attention",
          problem: { status: error.status, detail: error.message } }));
        continue;
      }
      changed(await update(db, photo.id, { state: "queued" }));
      throw error;
    }
  }
  return sent;
}

/* A reload in the middle of an upload leaves `uploading`: it goes out again (the server says where to resume). */
export async function recover(db) {
  await db.transaction("photos", "readwrite", async (s) => {
    for (const photo of await promised(s.photos.getAll())) {
      if (photo.state === "uploading") s.photos.put({ ...photo, state: "queued" });
    }
  });
}
