/* IndexedDB: the one module that opens it. One database per signed-in user ("audit-<user id>"), so a second
 * user on the same tablet sees none of the first's data, and signing out deletes nothing.
 *
 * Stores (keyPath):
 *   checklists  id = "<key>@<version>"        → {id, key, version, sha256, definition}
 *   bundles     inspection_id                 → {inspection_id, bundle, etag, downloaded_at}
 *   answers     key = "<insp>|<item>|<unit>"  → {key, inspection_id, item_code, unit_id, value, note, period, source,
 *                                                server_version, sync_state, problem, conflict, updated_at}
 *   findings    id                            → the finding as the server sent it
 *   photos      id                            → photo Blobs and their upload state (a later session)
 *   outbox      seq (auto)                    → {seq, id (mutation UUID), type, inspection_id, key, payload, state,
 *                                                attempts, next_try, client_time, problem, conflict}
 *   meta        name                          → {name, value}: feed cursor, last sync, …
 *
 * Upgrades are additive steps keyed by the old version, so a tablet several releases behind walks through
 * each of them and keeps its data. Callers never `await fetch` inside a transaction: read, close, fetch, then
 * write in a new transaction. */

export const DB_VERSION = 1;

const UPGRADES = [
  // 0 → 1
  (db) => {
    db.createObjectStore("checklists", { keyPath: "id" });
    db.createObjectStore("bundles", { keyPath: "inspection_id" });
    const answers = db.createObjectStore("answers", { keyPath: "key" });
    answers.createIndex("by_inspection", "inspection_id");
    answers.createIndex("by_state", "sync_state");
    const findings = db.createObjectStore("findings", { keyPath: "id" });
    findings.createIndex("by_inspection", "inspection_id");
    const photos = db.createObjectStore("photos", { keyPath: "id" });
    photos.createIndex("by_inspection", "inspection_id");
    const outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("by_id", "id", { unique: true });
    outbox.createIndex("by_key", "key");
    outbox.createIndex("by_state", "state");
    db.createObjectStore("meta", { keyPath: "name" });
  },
];

export function dbName(userId) {
  return `audit-${userId}`;
}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class LocalDb {
  constructor(idb) {
    this.idb = idb;
  }

  /* Run `work(stores, tx)` in one transaction; resolves with what `work` returned once the transaction has
   * committed (so a caller never reports "saved" before the data is on disk). `work` may await requests of
   * this transaction only — never the network. */
  transaction(storeNames, mode, work) {
    const names = Array.isArray(storeNames) ? storeNames : [storeNames];
    return new Promise((resolve, reject) => {
      const tx = this.idb.transaction(names, mode, { durability: "strict" });
      const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
      Promise.resolve()
        .then(() => work(stores, tx))
        .then((value) => { result = value; })
        .catch((error) => {
          try { tx.abort(); } catch { /* already finished */ }
          reject(error);
        });
    });
  }

  get(store, key) {
    return this.transaction(store, "readonly", (s) => promised(s[store].get(key)));
  }

  getAll(store, index = null, query = undefined) {
    return this.transaction(store, "readonly", (s) => {
      const source = index ? s[store].index(index) : s[store];
      return promised(source.getAll(query));
    });
  }

  count(store, index = null, query = undefined) {
    return this.transaction(store, "readonly", (s) => {
      const source = index ? s[store].index(index) : s[store];
      return promised(source.count(query));
    });
  }

  put(store, value) {
    return this.transaction(store, "readwrite", (s) => promised(s[store].put(value)));
  }

  async getMeta(name, fallback = null) {
    const row = await this.get("meta", name);
    return row ? row.value : fallback;
  }

  setMeta(name, value) {
    return this.put("meta", { name, value });
  }

  close() {
    this.idb.close();
  }
}

export { promised };

/* Open (creating or upgrading) the database of one user. */
export function openUserDb(userId) {
  if (!userId) throw new Error("openUserDb needs a user id");
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(dbName(userId), DB_VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      for (let version = event.oldVersion; version < DB_VERSION; version += 1) {
        UPGRADES[version](db, request.transaction);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab opened a newer version: let it upgrade, this tab reloads into the new code.
      db.onversionchange = () => { db.close(); location.reload(); };
      resolve(new LocalDb(db));
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("Cơ sở dữ liệu đang được một thẻ khác sử dụng; hãy đóng các thẻ khác."));
  });
}
