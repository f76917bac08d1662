/* Who is signed in on this tablet, their tokens, and this device's id (localStorage: small and synchronous).
 * User data is never kept here — it lives in the user's own IndexedDB database (db.js). */

const SESSION_KEY = "audit.session";
const DEVICE_KEY = "audit.device";
const LAST_USER_KEY = "audit.last-user";

export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `tablet-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

export function current() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

export function save(session) {
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  localStorage.setItem(LAST_USER_KEY, session.user.username);
}

/* After a refresh: new tokens, same user. */
export function updateTokens(tokens) {
  const session = current();
  if (!session) return;
  save({ ...session, ...tokens, needs_sign_in: false });
}

/* The refresh token was refused: keep the user (their data and queue stay), drop the tokens, ask to sign in. */
export function markExpired() {
  const session = current();
  if (!session) return;
  save({ ...session, access_token: null, refresh_token: null, needs_sign_in: true });
}

export function clear() {
  localStorage.removeItem(SESSION_KEY);
}

export function lastUsername() {
  return localStorage.getItem(LAST_USER_KEY) || "";
}
