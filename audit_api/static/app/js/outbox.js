/* The outbox: every change is written to IndexedDB first (the answer and its mutation, in one transaction),
 * then replayed to POST /api/v1/sync — on start, on `online`, on a timer and by the "Đồng bộ ngay" button —
 * with exponential backoff and jitter. Nothing is ever dropped:
 *   applied / duplicate → synced, with the server's new version;
 *   conflict            → `conflict`, the server's value kept alongside for keep mine / keep theirs;
 *   rejected            → `needs_attention` with the problem; never blocks the other mutations;
 *   401 after a refresh → the queue pauses until the user signs in again, then resumes.
 * A mutation that has been sent once is frozen (same UUID, same payload, same base_version on every retry), so
 * a retry whose first attempt did arrive comes back `duplicate`, never as a second change. A later edit of the
 * same answer is a new mutation; only one mutation per answer is in flight at a time, so its base_version is
 * the version the previous one produced.
 * Other records travel the same way, keyed apart from answers: a section submit ("section|<insp>|<code>") and
 * a finding edit ("finding|<id>"). Photos have their own queue (photos.js), sent after the mutations of each
 * round, since a photo may belong to an answer the same round creates. */

import * as api from "./api.js";
import { answerKey } from "./checklist.js";
import { promised } from "./db.js";
import { answerFromServer, pull } from "./feed.js";
import * as photos from "./photos.js";

export const events = new EventTarget();

const BATCH_SIZE = 100;
let batchSize = BATCH_SIZE; // halved after a 413 (a batch over the server's body limits) until the round ends
const BASE_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;
const TIMER_MS = 30000;
const FINAL = new Set(["superseded", "resolved"]); // kept for the record, never sent again

let db = null;
let running = null;
let again = false;
let timer = null;
let retryTimer = null;
let paused = false;
let lastError = null;
let photoAttempts = 0;

function nowIso() {
  return new Date().toISOString();
}

function notify() {
  events.dispatchEvent(new Event("change"));
}

export function backoff(attempts) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling * (0.5 + Math.random())); // jitter: tablets that reconnect together spread out
}

/* --- recording changes ------------------------------------------------------------------------------- */

function payloadOf(record) {
  if (record.value === null || record.value === undefined) {
    return ["answer.clear", { item_code: record.item_code, unit_id: record.unit_id }];
  }
  const payload = { item_code: record.item_code, unit_id: record.unit_id, value: record.value };
  if (record.note) payload.note = record.note;
  if (record.period && record.period.from && record.period.to) payload.period = record.period;
  if (record.source) payload.source = record.source;
  return ["answer.set", payload];
}

function sameContent(record, fields) {
  const content = (r) => JSON.stringify([r.value ?? null, r.note || "", r.period || null, r.source || null]);
  return content(record) === content({ ...record, ...fields });
}

/* Save an answer locally and, when `valid`, queue it. An invalid or empty-and-never-sent answer stays a
 * `draft`: saved on the tablet, not sent. Resolves once the transaction has committed. */
export async function saveAnswer(fields, { valid, error = null }) {
  const key = answerKey(fields.inspection_id, fields.item_code, fields.unit_id);
  const now = nowIso();
  const record = await db.transaction(["answers", "outbox"], "readwrite", async (s) => {
    const existing = (await promised(s.answers.get(key))) || { server_version: 0 };
    if (valid && existing.sync_state && existing.sync_state !== "draft" && sameContent(existing, fields)) {
      return existing; // nothing changed (a field left after an unchanged edit): no new mutation, no new version
    }
    const record = { ...existing, ...fields, key, updated_at: now, error };
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => !FINAL.has(m.state));
    const unsent = mutations.find((m) => m.state === "queued" && !m.sent);
    const empty = record.value === null || record.value === undefined;
    const serverKnows = (record.server_version || 0) > 0 || mutations.some((m) => m.sent && m.state !== "needs_attention");
    if (!valid || (empty && !serverKnows)) {
      if (unsent) s.outbox.delete(unsent.seq); // the local record is the truth; nothing stale goes out
      if (empty && !record.note && !record.period && !record.source && !mutations.length) {
        s.answers.delete(key); // cleared before it was ever sent: nothing left to keep
        return { ...record, sync_state: null };
      }
      record.sync_state = "draft";
      s.answers.put(record);
      return record;
    }
    const [type, payload] = payloadOf(record);
    if (unsent) {
      s.outbox.put({ ...unsent, type, payload, client_time: now });
    } else {
      s.outbox.add({ id: crypto.randomUUID(), type, inspection_id: record.inspection_id, key, payload,
        state: "queued", attempts: 0, next_try: 0, sent: false, client_time: now, created_at: now });
    }
    record.sync_state = mutations.some((m) => m.state === "conflict") ? "conflict" : "queued";
    s.answers.put(record);
    return record;
  });
  notify();
  if (record.sync_state === "queued") soon();
  return record;
}

/* --- replay ------------------------------------------------------------------------------------------ */

function soon() {
  setTimeout(() => { replay(); }, 50);
}

export function replay({ force = false } = {}) {
  if (running) {
    again = true; // a change saved while this round was finishing: one more round after it
    return running;
  }
  running = exclusive(() => run(force)).finally(() => {
    running = null;
    notify();
    if (again) {
      again = false;
      soon();
    }
  });
  return running;
}

/* One replay at a time across this user's open tabs (Web Locks); a tab that finds it taken skips this round. */
function exclusive(work) {
  if (!navigator.locks || !db) return work();
  return navigator.locks.request(`${db.idb.name}-outbox`, { ifAvailable: true }, (lock) => (lock ? work() : null));
}

async function run(force) {
  if (!db || paused || !navigator.onLine) return;
  batchSize = BATCH_SIZE;
  let sent = 0;
  for (let round = 0; round < 1000; round += 1) {
    const batch = await takeBatch(force);
    if (!batch.length) break;
    notify();
    let response;
    try {
      response = await api.sync(batch.map(wire));
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 413) {
        if (batch.length > 1) { // too big for the server: the same mutations again, in smaller batches
          batchSize = Math.max(1, Math.floor(batch.length / 2));
          await giveBack(batch, error, { now: true });
          continue;
        }
        await applyResults(batch, [{ id: batch[0].id, status: "rejected", problem: error.problem }]);
        continue; // one mutation alone is too big: set aside as needs_attention, the rest go on
      }
      await giveBack(batch, error);
      return;
    }
    await applyResults(batch, response.results || []);
    sent += batch.length;
    notify();
  }
  try {
    await photos.sendWaiting(db);
    photoAttempts = 0;
  } catch (error) {
    photoAttempts += 1;
    if (error instanceof api.AuthRequired) paused = true;
    else {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => { replay(); }, backoff(photoAttempts) + 50);
    }
    await noteFailure(error);
    return sent;
  }
  try {
    await pull(db);
    lastError = null;
    await db.setMeta("last_sync", nowIso());
  } catch (error) {
    await noteFailure(error);
  }
  return sent;
}

function wire(m) {
  return { id: m.id, type: m.type, inspection_id: m.inspection_id, base_version: m.base_version,
    payload: m.payload, client_time: m.client_time };
}

/* The next mutations to send, in order: at most one per answer, none behind an unresolved conflict, none
 * waiting out its backoff (unless forced). Marks them `syncing` and freezes them before the request. */
function takeBatch(force) {
  const now = Date.now();
  return db.transaction(["outbox", "answers", "findings"], "readwrite", async (s) => {
    const all = await promised(s.outbox.getAll());
    const busy = new Set();
    const batch = [];
    for (const m of all) {
      if (FINAL.has(m.state) || m.state === "needs_attention") continue;
      if (busy.has(m.key)) continue;
      busy.add(m.key); // later mutations of this answer wait for this one
      if (m.state !== "queued" || (!force && m.next_try > now) || batch.length >= batchSize) continue;
      const answer = m.type.startsWith("answer.") ? await promised(s.answers.get(m.key)) : null;
      if (m.base_version === undefined && m.type.startsWith("finding.")) {
        const finding = await promised(s.findings.get(m.payload.finding_id));
        m.base_version = finding ? finding.version : null;
      } else if (m.base_version === undefined) m.base_version = answer ? answer.server_version || 0 : 0;
      Object.assign(m, { state: "syncing", sent: true, attempts: m.attempts + 1, last_try: nowIso() });
      s.outbox.put(m);
      if (answer) s.answers.put({ ...answer, sync_state: "syncing" });
      batch.push(m);
    }
    return batch;
  });
}

/* Put a batch back in the queue: after a failure (backoff), for a sign-in (paused), or `now` (to be sent again
 * at once in smaller batches: not a failed try). */
async function giveBack(batch, error, { now = false } = {}) {
  const authLost = error instanceof api.AuthRequired;
  if (authLost) paused = true;
  const waitsNot = authLost || now; // waiting for a sign-in, or resending at once, is not a failed try
  let wait = MAX_DELAY_MS;
  await db.transaction(["outbox", "answers"], "readwrite", async (s) => {
    for (const m of batch) {
      const attempts = waitsNot ? m.attempts - 1 : m.attempts;
      const delay = backoff(attempts);
      wait = Math.min(wait, delay);
      s.outbox.put({ ...m, state: "queued", attempts, next_try: waitsNot ? 0 : Date.now() + delay });
      const answer = await promised(s.answers.get(m.key));
      if (answer && answer.sync_state === "syncing") s.answers.put({ ...answer, sync_state: "queued" });
    }
  });
  if (now) return;
  await noteFailure(error);
  if (!authLost) { // try again when the first backoff ends (the 30 s timer and `online` also try)
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { replay(); }, wait + 50);
  }
}

async function noteFailure(error) {
  lastError = error instanceof api.AuthRequired ? "auth" : error.message;
  if (error instanceof api.AuthRequired) events.dispatchEvent(new Event("auth-required"));
}

function outcome(result) {
  return result.status === "duplicate" ? result.original_status : result.status;
}

function applyResults(batch, results) {
  const byId = new Map(results.map((r) => [String(r.id), r]));
  return db.transaction(["outbox", "answers", "bundles", "findings"], "readwrite", async (s) => {
    for (const m of batch) {
      const result = byId.get(m.id);
      const answer = await promised(s.answers.get(m.key));
      const others = (await promised(s.outbox.index("by_key").getAll(m.key)))
        .filter((o) => o.seq !== m.seq && !FINAL.has(o.state));
      if (!result) { // not answered (should not happen): send again later, same id
        s.outbox.put({ ...m, state: "queued", next_try: Date.now() + backoff(m.attempts) });
        continue;
      }
      const status = outcome(result);
      const waiting = others.some((o) => o.state === "queued");
      if (m.type === "section.submit" || m.type.startsWith("finding.")) {
        await settleRecord(s, m, status, result);
        continue;
      }
      if (status === "applied") {
        s.outbox.delete(m.seq);
        for (const o of others) if (o.state === "needs_attention") s.outbox.put({ ...o, state: "superseded" });
        if (answer) {
          s.answers.put({ ...answer, server_version: result.version ?? answer.server_version,
            sync_state: waiting ? "queued" : answer.sync_state === "draft" ? "draft" : "synced",
            problem: null, conflict: null, synced_at: nowIso() });
        }
      } else if (status === "conflict") {
        s.outbox.put({ ...m, state: "conflict", conflict: result.current });
        if (answer) s.answers.put({ ...answer, sync_state: "conflict", conflict: result.current });
      } else {
        s.outbox.put({ ...m, state: "needs_attention", problem: result.problem || null });
        if (answer) {
          s.answers.put({ ...answer, sync_state: waiting ? "queued" : "needs_attention", problem: result.problem || null });
        }
      }
    }
  });
}

/* The outcome of a section submit or a finding edit, on the local copy. */
async function settleRecord(s, m, status, result) {
  if (m.type === "section.submit") {
    await settleSubmit(s, m, status, result);
    return;
  }
  if (status === "applied") {
    s.outbox.delete(m.seq);
  } else if (status === "conflict") {
    s.outbox.put({ ...m, state: "conflict", conflict: result.current });
  } else {
    s.outbox.put({ ...m, state: "needs_attention", problem: result.problem || null });
  }
  const finding = await promised(s.findings.get(m.payload.finding_id || m.payload.id));
  if (!finding) return;
  if (status === "applied") {
    const waiting = (await promised(s.outbox.index("by_key").getAll(m.key))).some((o) => o.seq !== m.seq && o.state === "queued");
    s.findings.put({ ...finding, version: result.version ?? finding.version, sync_state: waiting ? "queued" : "synced",
      problem: null, conflict: null });
  } else {
    s.findings.put({ ...finding, sync_state: status === "conflict" ? "conflict" : "needs_attention",
      conflict: status === "conflict" ? result.current : null, problem: result.problem || null });
  }
}

/* A refused submit changes nothing on the server: the section opens again on the tablet with the reason shown
 * on it, and the user submits again when ready (nothing to resolve, so nothing left in the queue). */
async function settleSubmit(s, m, status, result) {
  if (status === "applied") s.outbox.delete(m.seq);
  else s.outbox.put({ ...m, state: "resolved", resolution: "refused", problem: result.problem || null });
  const stored = await promised(s.bundles.get(m.inspection_id));
  const section = stored && stored.bundle.sections.find((sec) => sec.section_code === m.payload.section_code);
  if (!section) return;
  if (status === "applied") Object.assign(section, { status: "submitted", version: result.version ?? section.version });
  else if (section.status_before_submit) section.status = section.status_before_submit;
  delete section.status_before_submit;
  section.local_state = null;
  section.local_problem = status === "applied" ? null : (result.problem
    || { detail: "Máy chủ đã có thay đổi khác của phần này; hãy đồng bộ rồi nộp lại." });
  s.bundles.put(stored);
}

/* --- sections and findings --------------------------------------------------------------------------- */

/* Submit a section for review (offline too): the section shows "submitted" at once and the submit goes out
 * with the next round; the lead's return comes back through the change feed. */
export async function submitSection(inspectionId, sectionCode) {
  const key = `section|${inspectionId}|${sectionCode}`;
  const now = nowIso();
  await db.transaction(["outbox", "bundles"], "readwrite", async (s) => {
    const stored = await promised(s.bundles.get(inspectionId));
    const section = stored && stored.bundle.sections.find((sec) => sec.section_code === sectionCode);
    s.outbox.add({ id: crypto.randomUUID(), type: "section.submit", inspection_id: inspectionId, key,
      payload: { section_code: sectionCode }, base_version: null, state: "queued", attempts: 0, next_try: 0,
      sent: false, client_time: now, created_at: now });
    if (section) {
      Object.assign(section, { status_before_submit: section.status, status: "submitted", local_state: "queued",
        local_problem: null, submitted_at: now });
      s.bundles.put(stored);
    }
  });
  notify();
  soon();
}

/* Edit a finding's wording or causes (offline too), on top of the version the tablet last saw. */
export async function editFinding(findingId, fields) {
  const key = `finding|${findingId}`;
  const now = nowIso();
  const finding = await db.transaction(["outbox", "findings"], "readwrite", async (s) => {
    const found = await promised(s.findings.get(findingId));
    if (!found) return null;
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => !FINAL.has(m.state));
    const unsent = mutations.find((m) => m.state === "queued" && !m.sent);
    const payload = { ...(unsent ? unsent.payload : {}), finding_id: findingId, ...fields };
    if (unsent) s.outbox.put({ ...unsent, payload, client_time: now });
    else {
      s.outbox.add({ id: crypto.randomUUID(), type: "finding.update", inspection_id: found.inspection_id, key, payload,
        base_version: mutations.length ? undefined : found.version, state: "queued", attempts: 0, next_try: 0,
        sent: false, client_time: now, created_at: now });
    }
    const updated = { ...found, ...fields, sync_state: mutations.some((m) => m.state === "conflict") ? "conflict" : "queued" };
    s.findings.put(updated);
    return updated;
  });
  notify();
  soon();
  return finding;
}

/* A finding edit that met another edit on the server: keep the server's text, or send mine on top of it. */
export async function settleFinding(findingId, choice) {
  const key = `finding|${findingId}`;
  await db.transaction(["outbox", "findings"], "readwrite", async (s) => {
    const found = await promised(s.findings.get(findingId));
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => !FINAL.has(m.state));
    const conflict = mutations.find((m) => m.state === "conflict");
    if (!found || !conflict) return;
    for (const m of mutations) {
      if (m.state === "conflict" || (m.state === "queued" && !m.sent)) s.outbox.put({ ...m, state: "resolved", resolution: choice });
    }
    const theirs = conflict.conflict;
    if (choice === "theirs") {
      s.findings.put({ ...found, text: theirs.text, cause_subjective: theirs.cause_subjective,
        cause_objective: theirs.cause_objective, version: theirs.version, sync_state: "synced", conflict: null });
      return;
    }
    const now = nowIso();
    const payload = { finding_id: findingId, text: found.text, cause_subjective: found.cause_subjective ?? null,
      cause_objective: found.cause_objective ?? null };
    s.outbox.add({ id: crypto.randomUUID(), type: "finding.update", inspection_id: found.inspection_id, key, payload,
      base_version: theirs.version, state: "queued", attempts: 0, next_try: 0, sent: false, client_time: now,
      created_at: now });
    s.findings.put({ ...found, version: theirs.version, sync_state: "queued", conflict: null });
  });
  notify();
  soon();
}

/* --- conflicts and rejections: the user decides ----------------------------------------------------- */

/* Keep mine: the local value goes out again, on top of the server's version. */
export async function keepMine(key) {
  await db.transaction(["outbox", "answers"], "readwrite", async (s) => {
    const answer = await promised(s.answers.get(key));
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => !FINAL.has(m.state));
    const conflict = mutations.find((m) => m.state === "conflict");
    if (!answer || !conflict) return;
    for (const m of mutations) if (m.state === "conflict") s.outbox.put({ ...m, state: "resolved", resolution: "mine" });
    const [type, payload] = payloadOf(answer);
    if (!mutations.some((m) => m.state === "queued" && !m.sent)) {
      const now = nowIso();
      s.outbox.add({ id: crypto.randomUUID(), type, inspection_id: answer.inspection_id, key, payload, state: "queued",
        attempts: 0, next_try: 0, sent: false, client_time: now, created_at: now });
    }
    s.answers.put({ ...answer, server_version: conflict.conflict.version, sync_state: "queued", conflict: null });
  });
  notify();
  soon();
}

/* Keep theirs: the server's value replaces the local one; the local edits stay in the outbox as resolved. */
export async function keepTheirs(key) {
  await db.transaction(["outbox", "answers"], "readwrite", async (s) => {
    const answer = await promised(s.answers.get(key));
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => !FINAL.has(m.state));
    const conflict = mutations.find((m) => m.state === "conflict");
    if (!answer || !conflict) return;
    for (const m of mutations) {
      if (m.state === "conflict" || (m.state === "queued" && !m.sent)) s.outbox.put({ ...m, state: "resolved", resolution: "theirs" });
    }
    s.answers.put({ ...answerFromServer(answer.inspection_id, { ...conflict.conflict, item_code: answer.item_code,
      unit_id: answer.unit_id }), previous_local: answer.value });
  });
  notify();
}

/* Send again, as a new mutation, an answer the server refused (after the cause was fixed elsewhere). */
export async function retry(key) {
  await db.transaction(["outbox", "answers"], "readwrite", async (s) => {
    const answer = await promised(s.answers.get(key));
    const mutations = (await promised(s.outbox.index("by_key").getAll(key))).filter((m) => m.state === "needs_attention");
    if (!answer || !mutations.length) return;
    for (const m of mutations) s.outbox.put({ ...m, state: "superseded" });
    const [type, payload] = payloadOf(answer);
    const now = nowIso();
    s.outbox.add({ id: crypto.randomUUID(), type, inspection_id: answer.inspection_id, key, payload, state: "queued",
      attempts: 0, next_try: 0, sent: false, client_time: now, created_at: now });
    s.answers.put({ ...answer, sync_state: "queued", problem: null });
  });
  notify();
  soon();
}

/* --- status and lifecycle ------------------------------------------------------------------------------ */

export async function status() {
  if (!db) return null;
  const all = await db.getAll("outbox");
  const count = (state) => all.filter((m) => m.state === state).length;
  return {
    pending: count("queued") + count("syncing"),
    syncing: count("syncing"),
    conflicts: count("conflict"),
    attention: count("needs_attention"),
    drafts: await db.count("answers", "by_state", "draft"),
    photos: await photos.waitingCount(db),
    lastSync: await db.getMeta("last_sync"),
    lastError,
    paused,
    running: Boolean(running),
    online: navigator.onLine,
  };
}

export async function unsyncedCount() {
  const s = await status();
  return s ? s.pending + s.conflicts + s.attention + s.drafts + s.photos.waiting + s.photos.attention : 0;
}

export async function problems() {
  const all = await db.getAll("outbox");
  return all.filter((m) => m.state === "conflict" || m.state === "needs_attention");
}

/* Attach the outbox to the signed-in user's database and start replaying. */
export async function start(localDb) {
  stop();
  db = localDb;
  paused = false;
  lastError = null;
  // A crash or reload mid-request leaves `syncing`: those go out again with the same ids (→ duplicate if they arrived).
  await db.transaction(["outbox", "answers"], "readwrite", async (s) => {
    for (const m of await promised(s.outbox.index("by_state").getAll("syncing"))) s.outbox.put({ ...m, state: "queued" });
    for (const a of await promised(s.answers.index("by_state").getAll("syncing"))) s.answers.put({ ...a, sync_state: "queued" });
  });
  await photos.recover(db);
  window.addEventListener("online", onOnline);
  timer = setInterval(() => { replay(); }, TIMER_MS);
  notify();
  replay();
}

function onOnline() {
  replay({ force: true });
}

/* The user signed in again after the session expired: resume. */
export function resume() {
  paused = false;
  lastError = null;
  notify();
  return replay({ force: true });
}

export function stop() {
  if (timer) clearInterval(timer);
  clearTimeout(retryTimer);
  timer = null;
  window.removeEventListener("online", onOnline);
  db = null;
}

export function isPaused() {
  return paused;
}
