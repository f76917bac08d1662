/* The only module that calls fetch. Bearer token on every call; on a 401 the refresh token is spent once
 * (one refresh at a time: two would trip the server's reuse detection) and the call retried; errors are
 * thrown as ApiError (problem+json, Vietnamese detail), NetworkError (no connection) or AuthRequired. */

import * as session from "./session.js";

const BASE = "/api/v1";
const TIMEOUT_MS = 30000;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Lỗi ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("Không kết nối được máy chủ. Dữ liệu vẫn được lưu trên máy và sẽ được đồng bộ khi có mạng.");
    this.cause = cause;
  }
}

/* The session ended (refresh refused or absent): sign in again; nothing local is lost. */
export class AuthRequired extends Error {
  constructor() {
    super("Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại để tiếp tục đồng bộ.");
  }
}

export const events = new EventTarget();
let refreshing = null;

async function send(method, path, { body, bytes, token, headers = {} } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const init = { method, headers: { Accept: "application/json", ...headers }, signal: controller.signal,
    cache: "no-store", credentials: "omit" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (bytes !== undefined) {
    init.body = bytes; // a Blob or ArrayBuffer, sent as is (upload chunks); the caller sets Content-Type
  }
  try {
    return await fetch(BASE + path, init);
  } catch (error) {
    throw new NetworkError(error);
  } finally {
    clearTimeout(timer);
  }
}

/* The problem+json of a refused response (a generic Vietnamese one when the body is not JSON). */
export async function problemOf(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch { /* fall through */ }
  }
  const generic = response.status >= 500
    ? "Máy chủ đang gặp sự cố; dữ liệu vẫn được giữ trên máy, sẽ thử lại sau."
    : `Máy chủ trả lời lỗi ${response.status}.`;
  return { status: response.status, title: "Lỗi", detail: generic };
}

async function parse(response) {
  if (response.status === 204 || response.status === 304) return null;
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response.json();
}

function refreshTokens() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = session.current();
      if (!current || !current.refresh_token) throw new AuthRequired();
      const response = await send("POST", "/auth/refresh", { token: current.refresh_token });
      if (response.status === 401 || response.status === 422) {
        session.markExpired();
        events.dispatchEvent(new Event("auth-required"));
        throw new AuthRequired();
      }
      const pair = await parse(response);
      session.updateTokens({ access_token: pair.access_token, refresh_token: pair.refresh_token,
        user: pair.user });
      return pair.access_token;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/* An authenticated call. Returns the parsed JSON (null for 204/304); `raw: true` returns the Response.
 * `body` is sent as JSON, `bytes` (a Blob) as it is. */
export async function call(method, path, { body, bytes, headers, raw = false } = {}) {
  const current = session.current();
  if (!current || current.needs_sign_in) throw new AuthRequired();
  let token = current.access_token;
  if (refreshing) token = await refreshing;
  let response = await send(method, path, { body, bytes, token, headers });
  if (response.status === 401) {
    token = await refreshTokens();
    response = await send(method, path, { body, bytes, token, headers });
    if (response.status === 401) {
      session.markExpired();
      events.dispatchEvent(new Event("auth-required"));
      throw new AuthRequired();
    }
  }
  return raw ? response : parse(response);
}

export const get = (path, options) => call("GET", path, options);
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });

/* Sign in (online only): stores the session and returns it. */
export async function login(username, password) {
  const response = await send("POST", "/auth/login", { body: { username, password, device_id: session.deviceId() } });
  const pair = await parse(response);
  const signedIn = { user: pair.user, access_token: pair.access_token, refresh_token: pair.refresh_token,
    signed_in_at: new Date().toISOString(), needs_sign_in: false };
  session.save(signedIn);
  return signedIn;
}

/* Revoke this sign-in's tokens on the server when reachable; the local session ends either way. */
export async function logout() {
  const current = session.current();
  try {
    if (current && current.access_token && navigator.onLine) {
      await send("POST", "/auth/logout", { token: current.access_token });
    }
  } catch { /* offline: the tokens expire on their own */ }
  session.clear();
}

export const API_BASE = BASE;

export function inspections() {
  return get("/inspections?page_size=200");
}

export function bundle(inspectionId) {
  return get(`/inspections/${inspectionId}/bundle`);
}

export function checklists() {
  return get("/checklists");
}

export function checklist(key, version) {
  return get(`/checklists/${encodeURIComponent(key)}/versions/${version}`);
}

export function sync(mutations) {
  return post("/sync", { device_id: session.deviceId(), mutations });
}

export function changes(cursor, limit = 500) {
  return get(`/sync/changes?cursor=${encodeURIComponent(cursor)}&limit=${limit}`);
}
