/* The app shell: service worker, session, the signed-in user's database, the top bar with the online and
 * sync indicators, banners, and a hash router over the screens in views/. */

import * as api from "./api.js";
import * as data from "./data.js";
import { openUserDb } from "./db.js";
import { formatDateTime, TEAM_ROLES } from "./format.js";
import * as outbox from "./outbox.js";
import * as session from "./session.js";
import { ask, h, replace, toast } from "./ui.js";
import * as photos from "./photos.js";
import * as checklistView from "./views/checklist.js";
import * as findingsView from "./views/findings.js";
import * as inspectionsView from "./views/inspections.js";
import * as leadView from "./views/lead.js";
import * as leadDocumentsView from "./views/lead-documents.js";
import * as leadFindingsView from "./views/lead-findings.js";
import * as signinView from "./views/signin.js";
import * as syncView from "./views/sync.js";
import * as unitView from "./views/unit.js";
import * as unitActionView from "./views/unit-action.js";
import * as unitDocumentView from "./views/unit-document.js";

const root = document.getElementById("app");
const ctx = { session: null, db: null, navigate, refreshStatus, signOut, signedIn };
let renderToken = 0;
let updateReady = false;

/* --- routes --------------------------------------------------------------------------------------- */

const ROUTES = [
  [/^#\/dang-nhap$/, () => signinView.render(ctx)],
  [/^#\/dong-bo$/, () => syncView.render(ctx)],
  [/^#\/xem-xet\/([0-9a-f-]{36})$/, (m) => leadView.render(ctx, m[1])],
  [/^#\/han-che\/([0-9a-f-]{36})$/, (m) => leadFindingsView.render(ctx, m[1])],
  [/^#\/van-ban\/([0-9a-f-]{36})$/, (m) => leadDocumentsView.render(ctx, m[1])],
  [/^#\/kiem-tra\/([0-9a-f-]{36})\/ket-qua$/, (m) => findingsView.render(ctx, m[1])],
  [/^#\/kiem-tra\/([0-9a-f-]{36})(?:\/([0-9a-f-]{36})\/([A-Z]))?$/, (m) => checklistView.render(ctx, m[1], m[2], m[3])],
  [/^#\/don-vi(?:\/(tat-ca|cho-tra-loi|da-tra-loi|da-dong|qua-han))?$/, (m) => unitView.render(ctx, m[1])],
  [/^#\/don-vi\/kien-nghi\/([0-9a-f-]{36})$/, (m) => unitActionView.render(ctx, m[1])],
  [/^#\/don-vi\/van-ban\/([0-9a-f-]{36})$/, (m) => unitDocumentView.render(ctx, m[1])],
  [/^#\/(kiem-tra)?$/, () => inspectionsView.render(ctx)],
];

export function navigate(hash, { replaceHistory = false } = {}) {
  if (location.hash === hash) return route();
  if (replaceHistory) {
    history.replaceState(null, "", hash);
    return route();
  }
  location.hash = hash; // hashchange renders
  return null;
}

async function route() {
  const token = ++renderToken;
  const hash = location.hash || "#/";
  if (!ctx.session && hash !== "#/dang-nhap") return navigate("#/dang-nhap", { replaceHistory: true });
  if (ctx.session && hash === "#/dang-nhap" && !ctx.session.needs_sign_in) return navigate("#/", { replaceHistory: true });
  // an inspected unit has its own screens (its documents and corrective actions), none of the teams'
  if (ctx.session && unitView.isUnitUser(ctx.session.user) && hash !== "#/dang-nhap" && !hash.startsWith("#/don-vi")) {
    return navigate("#/don-vi", { replaceHistory: true });
  }
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  const view = found ? found[1](hash.match(found[0])) : inspectionsView.render(ctx);
  let content;
  try {
    content = await view;
  } catch (error) {
    console.error(error);
    content = h("div", { class: "page" }, h("div", { class: "card" }, h("h1", {}, "Không mở được màn hình này"),
      h("p", {}, error.message || String(error)), h("a", { class: "btn", href: "#/" }, "Về danh sách cuộc kiểm tra")));
  }
  if (token !== renderToken) return; // a newer navigation won
  renderShell(content);
  window.scrollTo(0, 0);
}

/* --- the shell ------------------------------------------------------------------------------------- */

function renderShell(content) {
  replace(root, topbar(), h("div", { id: "banners" }), h("main", { id: "main" }, content));
  renderBanners();
  refreshStatus();
}

function topbar() {
  const user = ctx.session && ctx.session.user;
  const teamRole = user && user.teams && user.teams[0] ? TEAM_ROLES[user.teams[0].team_role] : null;
  return h("header", { class: "topbar" },
    h("a", { class: "brand", href: "#/" },
      h("img", { src: "/app/icons/icon-192.png", alt: "" }),
      h("span", { class: "brand-text" },
        h("span", { class: "brand-title" }, "Kiểm tra TTHC"),
        h("span", { class: "brand-sub" }, "Kiểm soát thủ tục hành chính, cơ chế một cửa"))),
    h("span", { class: "topbar-spacer" }),
    h("span", { id: "net-pill", class: "pill", role: "status", "aria-live": "polite" }),
    // an inspected unit works online and has nothing to sync: no sync pill for it
    user && !unitView.isUnitUser(user)
      ? h("button", { id: "sync-pill", class: "pill", type: "button", onclick: () => navigate("#/dong-bo") }, "…") : null,
    user ? h("span", { class: "user" }, h("strong", {}, user.full_name), h("span", {}, teamRole || user.username)) : null,
    user ? h("button", { class: "btn btn-light", type: "button", onclick: () => signOut() }, "Đăng xuất") : null);
}

function renderBanners() {
  const el = document.getElementById("banners");
  if (!el) return;
  const banners = [];
  if (ctx.session && (ctx.session.needs_sign_in || outbox.isPaused())) {
    banners.push(h("div", { class: "banner danger", role: "alert" },
      h("span", { class: "grow" }, "Phiên đăng nhập đã hết hạn. Dữ liệu chưa đồng bộ vẫn được giữ trên máy; ",
        "hãy đăng nhập lại để tiếp tục đồng bộ."),
      h("a", { class: "btn btn-primary", href: "#/dang-nhap" }, "Đăng nhập lại")));
  }
  if (ctx.session && !navigator.onLine) {
    banners.push(h("div", { class: "banner", id: "offline-banner" },
      h("span", { class: "grow" }, "Đang làm việc ngoại tuyến. Mọi thay đổi được lưu ngay trên máy này và ",
        "tự động đồng bộ khi có mạng trở lại.")));
  }
  if (updateReady) {
    banners.push(h("div", { class: "banner info" },
      h("span", { class: "grow" }, "Đã có phiên bản mới của ứng dụng. Dữ liệu trên máy không bị ảnh hưởng."),
      h("button", { class: "btn", type: "button", onclick: () => location.reload() }, "Tải lại")));
  }
  replace(el, banners);
  // the section list sticks below the banners (CSSOM, allowed by the style-src policy)
  document.documentElement.style.setProperty("--banners-height", `${el.offsetHeight}px`);
}

export async function refreshStatus() {
  const net = document.getElementById("net-pill");
  if (net) {
    net.className = `pill ${navigator.onLine ? "" : "offline"}`;
    replace(net, h("span", { class: "dot" }), navigator.onLine ? "Trực tuyến" : "Ngoại tuyến");
  }
  const pill = document.getElementById("sync-pill");
  const status = ctx.db ? await outbox.status() : null;
  if (pill && status) {
    const waiting = status.pending + status.drafts + status.photos.waiting;
    const trouble = status.conflicts + status.attention + status.photos.attention;
    pill.className = `pill ${trouble ? "attention" : ""}`;
    let text = "Đã đồng bộ";
    if (status.running && status.syncing) text = `Đang đồng bộ ${status.syncing}…`;
    else if (trouble) text = `${trouble} cần xử lý`;
    else if (waiting) text = `${waiting} chờ đồng bộ`;
    pill.textContent = text;
    pill.title = status.lastSync ? `Lần đồng bộ gần nhất: ${formatDateTime(status.lastSync)}` : "Chưa đồng bộ lần nào";
    pill.dataset.pending = String(status.pending);
  }
  document.dispatchEvent(new CustomEvent("sync-status", { detail: status }));
}

/* --- session ------------------------------------------------------------------------------------- */

async function openSession(current) {
  if (ctx.db && ctx.session && ctx.session.user.id === current.user.id) {
    ctx.session = current;
    return;
  }
  outbox.stop();
  if (ctx.db) ctx.db.close();
  ctx.session = current;
  ctx.db = await openUserDb(current.user.id);
  await outbox.start(ctx.db);
}

/* Called by the sign-in screen: the same user resumes the paused queue; another user gets their own database. */
async function signedIn(current) {
  const sameUser = ctx.session && ctx.session.user.id === current.user.id;
  await openSession(current);
  data.askPersistence();
  if (sameUser) outbox.resume();
  navigate("#/", { replaceHistory: true });
}

async function signOut() {
  const unsynced = ctx.db ? await outbox.unsyncedCount() : 0;
  if (unsynced) {
    const choice = await ask({
      title: "Còn dữ liệu chưa đồng bộ",
      body: [
        `Có ${unsynced} thay đổi chưa được gửi lên máy chủ.`,
        "Nếu đăng xuất, dữ liệu này vẫn được giữ an toàn trên máy và sẽ tiếp tục đồng bộ khi bạn đăng nhập lại. "
          + "Người khác đăng nhập trên máy này không xem được dữ liệu của bạn.",
        navigator.onLine ? "Nên đồng bộ trước khi đăng xuất." : "Máy đang ngoại tuyến: cần có mạng để đăng nhập lại.",
      ],
      buttons: [
        { label: "Ở lại", value: "stay", class: "btn-primary" },
        { label: "Vẫn đăng xuất", value: "leave", class: "btn-danger" },
      ],
    });
    if (choice !== "leave") return;
  }
  outbox.stop();
  await api.logout();
  if (ctx.db) ctx.db.close();
  ctx.db = null;
  ctx.session = null;
  toast("Đã đăng xuất. Dữ liệu trên máy được giữ nguyên.");
  navigate("#/dang-nhap", { replaceHistory: true });
}

/* --- start ----------------------------------------------------------------------------------------- */

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => console.warn("service worker", error));
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (hadController) {
      updateReady = true;
      renderBanners();
    }
  });
}

async function start() {
  registerServiceWorker();
  const current = session.current();
  if (current) await openSession(current);
  window.addEventListener("hashchange", route);
  for (const name of ["online", "offline"]) {
    window.addEventListener(name, () => { renderBanners(); refreshStatus(); });
  }
  outbox.events.addEventListener("change", () => refreshStatus());
  photos.events.addEventListener("change", () => refreshStatus());
  outbox.events.addEventListener("auth-required", () => { ctx.session = session.current() || ctx.session; renderBanners(); });
  api.events.addEventListener("auth-required", () => { ctx.session = session.current() || ctx.session; renderBanners(); });
  await route();
  document.documentElement.dataset.ready = "true"; // tests wait for this
}

start();
