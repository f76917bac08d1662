/* Service worker: the app shell only. User data lives in IndexedDB (js/db.js), never in these caches, so an
 * update — which replaces the shell cache and deletes the old one — cannot lose anything a user typed.
 *
 * SHELL is filled in by audit_api/web.py when it serves this file: the shell's URLs and a version hashed
 * from their bytes. Any change to the shell is therefore a new service worker with a new cache name. */
const SHELL = /*SHELL*/{"version": "dev", "files": ["/"]}/*SHELL*/;
const CACHE_PREFIX = "audit-shell-";
const SHELL_CACHE = CACHE_PREFIX + SHELL.version;
const SHELL_PATHS = new Set(SHELL.files);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // cache: "reload" — precache from the network, never from a stale HTTP cache entry.
    await cache.addAll(SHELL.files.map((url) => new Request(url, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API is network only: its responses (user data, tokens) are never put in a cache here.
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(fromShell("/", request)); // the query string and #route never change the page
  } else if (SHELL_PATHS.has(url.pathname)) {
    event.respondWith(fromShell(url.pathname, request));
  }
});

/* Cache first for the shell; the network when the shell cache lacks it (first load, or evicted). */
async function fromShell(path, request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(path);
  if (cached) return cached;
  return fetch(request);
}
