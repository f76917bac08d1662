/* What the screens read and download: inspections from the API, and the local copies in IndexedDB.
 * Downloads fetch first, then write in one transaction (never a fetch inside a transaction). */

import * as api from "./api.js";
import { promised } from "./db.js";
import { answerFromServer, LOCAL_WORK } from "./feed.js";
import * as photos from "./photos.js";

export const checklistId = (key, version) => `${key}@${version}`;

/* The caller's inspections from the server (online), and the titles of the checklist versions they use. */
export async function remoteInspections() {
  const [page, checklists] = await Promise.all([api.inspections(), api.checklists().catch(() => ({ data: [] }))]);
  const titles = new Map(checklists.data.map((c) => [checklistId(c.key, c.version), c.title]));
  return { inspections: page.data, titles };
}

/* Download an inspection for offline work: its bundle and its pinned checklist version. Answers with local
 * work are left alone (a download never overwrites what the tablet has not sent yet). */
export async function download(db, inspectionId) {
  const bundle = await api.bundle(inspectionId);
  const { key, version } = bundle.inspection.checklist;
  let definition = null;
  const stored = await db.get("checklists", checklistId(key, version));
  if (!stored || stored.sha256 !== bundle.inspection.checklist.sha256) definition = await api.checklist(key, version);
  await db.transaction(["checklists", "bundles", "answers", "findings", "meta"], "readwrite", async (s) => {
    if (definition) {
      s.checklists.put({ id: checklistId(key, version), key, version, sha256: definition.sha256, definition });
    }
    s.bundles.put({ inspection_id: inspectionId, bundle, downloaded_at: new Date().toISOString() });
    for (const answer of bundle.answers) {
      const incoming = answerFromServer(inspectionId, answer);
      const local = await promised(s.answers.get(incoming.key));
      if (local && (LOCAL_WORK.has(local.sync_state) || (local.server_version || 0) > incoming.server_version)) continue;
      s.answers.put(incoming);
    }
    for (const finding of bundle.findings) {
      const local = await promised(s.findings.get(finding.id));
      if (local && LOCAL_WORK.has(local.sync_state)) continue;
      s.findings.put({ ...finding, inspection_id: inspectionId, sync_state: "synced" });
    }
    // One feed cursor per user: the oldest of the downloads, so no inspection misses a change.
    const cursor = await promised(s.meta.get("cursor"));
    if (!cursor || BigInt(bundle.cursor) < BigInt(cursor.value)) s.meta.put({ name: "cursor", value: bundle.cursor });
  });
  await photos.rememberLimits(db); // so that photos taken offline are checked against the server's limits
  return bundle;
}

export async function findingsOf(db, inspectionId) {
  return db.getAll("findings", "by_inspection", inspectionId);
}

export async function downloaded(db) {
  return db.getAll("bundles");
}

/* Everything the checklist screen needs, from IndexedDB only. */
export async function loadInspection(db, inspectionId) {
  const stored = await db.get("bundles", inspectionId);
  if (!stored) return null;
  const { key, version } = stored.bundle.inspection.checklist;
  const checklist = await db.get("checklists", checklistId(key, version));
  const answers = await db.getAll("answers", "by_inspection", inspectionId);
  return { bundle: stored.bundle, downloadedAt: stored.downloaded_at, definition: checklist && checklist.definition,
    answers: new Map(answers.map((a) => [a.key, a])) };
}

export async function answersOf(db, inspectionId) {
  return db.getAll("answers", "by_inspection", inspectionId);
}

export async function storageEstimate() {
  if (!navigator.storage || !navigator.storage.estimate) return null;
  try {
    return await navigator.storage.estimate();
  } catch {
    return null;
  }
}

export async function persisted() {
  if (!navigator.storage || !navigator.storage.persisted) return null;
  return navigator.storage.persisted();
}

/* Ask the browser not to evict this origin's data under storage pressure. */
export async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) return null;
  try {
    return (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch {
    return false;
  }
}
