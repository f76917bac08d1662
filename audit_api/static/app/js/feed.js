/* The change feed (GET /api/v1/sync/changes): what others changed since the user's cursor — answers, findings,
 * section and inspection states of the downloaded inspections. A pull never overwrites an answer that has local
 * work (draft, queued, syncing, conflict, needs attention) or a newer version than the feed's. */

import * as api from "./api.js";
import { answerKey } from "./checklist.js";
import { promised } from "./db.js";

export async function pull(db) {
  let cursor = await db.getMeta("cursor");
  if (cursor === null) return;
  for (let page = 0; page < 100; page += 1) {
    const feed = await api.changes(cursor);
    await applyChanges(db, feed.changes || []);
    cursor = feed.cursor;
    await db.setMeta("cursor", cursor);
    if (!feed.has_more) break;
  }
}

export const LOCAL_WORK = new Set(["draft", "queued", "syncing", "conflict", "needs_attention"]);

function applyChanges(db, changes) {
  if (!changes.length) return Promise.resolve();
  return db.transaction(["answers", "bundles", "findings"], "readwrite", async (s) => {
    const bundles = new Map();
    for (const change of changes) {
      if (!bundles.has(change.inspection_id)) bundles.set(change.inspection_id, await promised(s.bundles.get(change.inspection_id)));
      const stored = bundles.get(change.inspection_id);
      if (!stored) continue; // not downloaded on this tablet
      const data = change.data;
      if (change.entity_type === "answer" && data) {
        const key = answerKey(change.inspection_id, data.item_code, data.unit_id);
        const local = await promised(s.answers.get(key));
        if (local && (LOCAL_WORK.has(local.sync_state) || (local.server_version || 0) > data.version)) continue;
        s.answers.put(answerFromServer(change.inspection_id, data));
      } else if (change.entity_type === "finding") {
        const local = await promised(s.findings.get(change.entity_id));
        if (local && LOCAL_WORK.has(local.sync_state)) continue; // the tablet's edit goes out first (or meets it as a conflict)
        if (change.deleted) s.findings.delete(change.entity_id);
        else s.findings.put({ ...data, inspection_id: change.inspection_id, sync_state: "synced" });
      } else if (change.entity_type === "section" && data) {
        const local = stored.bundle.sections.find((sec) => sec.id === data.id || sec.section_code === data.section_code);
        if (local && LOCAL_WORK.has(local.local_state)) continue; // a submit not yet answered keeps its local state
        stored.bundle.sections = local ? stored.bundle.sections.map((sec) => (sec === local ? data : sec))
          : [...stored.bundle.sections, data];
        s.bundles.put(stored);
      } else if (change.entity_type === "inspection" && data) {
        Object.assign(stored.bundle.inspection, { status: data.status, version: data.version });
        s.bundles.put(stored);
      }
    }
  });
}

export function answerFromServer(inspectionId, data) {
  return { key: answerKey(inspectionId, data.item_code, data.unit_id), inspection_id: inspectionId,
    item_code: data.item_code, unit_id: data.unit_id, value: data.value, note: data.note || "",
    period: data.period || null, source: data.source || null, server_version: data.version,
    sync_state: "synced", updated_at: data.updated_at, author: data.author || null };
}
