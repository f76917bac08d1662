/* The resumable upload protocol of /api/v1/photos (tus-style), for checklist photos (the outbox) and for the
 * evidence an inspected unit attaches to a corrective action (the unit screens).
 *
 *   POST /photos {id, sha256, size, content_type, inspection_id | action_id, …}  → the upload and its offset
 *   PATCH <upload_url>  Upload-Offset: n, Content-Type: application/offset+octet-stream  → the next offset
 *   HEAD <upload_url>  → Upload-Offset, after a lost connection
 *
 * Declaring again with the same id and checksum answers the upload as it stands, so a retry after any failure
 * starts with a declaration and goes on from the server's offset: no byte is sent twice once acknowledged,
 * and a photo is never stored twice (the id is made once, when the photo is taken). */

import * as api from "./api.js";

const OFFSET_TYPE = "application/offset+octet-stream";
/* Small enough that a lost connection on a weak signal costs little, large enough to keep requests few. */
export const CHUNK_BYTES = 512 * 1024;

let limitsPromise = null;

/* The server's limits (photo bytes and pixels, chunk size…), asked once a session; null when offline. */
export function limits() {
  if (!limitsPromise) {
    limitsPromise = api.get("/config/limits").catch((error) => {
      limitsPromise = null;
      throw error;
    });
  }
  return limitsPromise;
}

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function relative(url) {
  return url.startsWith(api.API_BASE) ? url.slice(api.API_BASE.length) : url;
}

async function serverOffset(path) {
  const response = await api.call("HEAD", path, { raw: true });
  if (!response.ok) throw new api.ApiError(response.status, { detail: `Máy chủ trả lời lỗi ${response.status}.` });
  return Number(response.headers.get("Upload-Offset"));
}

/* Send `blob` as the upload `declaration` describes ({id, sha256, size, content_type, inspection_id or
 * action_id, item_code?, unit_id?, caption?}). onProgress(sentBytes, totalBytes) after every chunk.
 * Returns the photo as the server holds it after the last byte (status "ready", or "rejected" with a reason).
 * Throws api.NetworkError / api.AuthRequired (try again later: it resumes) or api.ApiError (refused). */
export async function send(blob, declaration, { onProgress = () => {}, chunkBytes = CHUNK_BYTES } = {}) {
  const declared = await api.post("/photos", declaration);
  const path = relative(declared.upload_url);
  let offset = declared.offset;
  onProgress(offset, blob.size);
  if (declared.status !== "uploading") return declared;
  /* Until a PATCH reaching the last byte is answered. With every byte on the server already and the photo still
   * "uploading" (the server stopped while processing it), that is an empty PATCH at the full offset: the
   * server checks and processes the staged bytes again. */
  for (;;) {
    const response = await api.call("PATCH", path, {
      bytes: blob.slice(offset, offset + chunkBytes),
      headers: { "Content-Type": OFFSET_TYPE, "Upload-Offset": String(offset), "Tus-Resumable": "1.0.0" },
      raw: true,
    });
    if (response.status === 409) { // the server holds a different offset (a chunk whose answer was lost)
      if ((await api.problemOf(response)).status_of_upload) break; // finished or refused meanwhile: see below
      offset = await serverOffset(path);
    } else if (response.ok) {
      offset = Number(response.headers.get("Upload-Offset"));
    } else {
      throw new api.ApiError(response.status, await api.problemOf(response));
    }
    onProgress(offset, blob.size);
    if (response.ok && offset >= blob.size) break;
  }
  return api.get(`/photos/${declaration.id}`);
}
