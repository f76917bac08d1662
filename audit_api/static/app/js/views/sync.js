/* Sync status: online or not, what waits, what needs the user, last sync, storage used, "Đồng bộ ngay". */

import * as data from "../data.js";
import { formatBytes, formatDateTime, formatNumber, SYNC_STATES } from "../format.js";
import * as outbox from "../outbox.js";
import * as photos from "../photos.js";
import { badge, h, replace } from "../ui.js";

export async function render(ctx) {
  const panel = h("div", {});
  const page = h("div", { class: "page", id: "sync-page" },
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, "Đồng bộ dữ liệu"),
        h("p", { class: "muted" }, "Mọi thay đổi được lưu trên máy trước, rồi gửi lên máy chủ khi có mạng. "
          + "Không thay đổi nào bị bỏ qua hay gửi trùng.")),
      h("button", { type: "button", class: "btn btn-primary", id: "sync-now", onclick: async (event) => {
        event.currentTarget.disabled = true;
        await outbox.replay({ force: true });
        await paint();
      } }, "Đồng bộ ngay")),
    panel);
  const paint = () => fill(ctx, page, panel);
  const onChange = () => {
    // listening starts before the screen is shown (a sync may end meanwhile); it stops once the screen is gone
    if (page.isConnected) page.dataset.shown = "true";
    else if (page.dataset.shown) {
      photos.events.removeEventListener("change", onChange);
      return outbox.events.removeEventListener("change", onChange);
    }
    clearTimeout(page.timer);
    page.timer = setTimeout(paint, 200);
    return null;
  };
  outbox.events.addEventListener("change", onChange);
  photos.events.addEventListener("change", onChange);
  await paint();
  return page;
}

async function fill(ctx, page, panel) {
  const status = await outbox.status();
  const button = page.querySelector("#sync-now");
  button.disabled = !status.online || status.running;
  button.textContent = status.running ? "Đang đồng bộ…" : "Đồng bộ ngay";
  const estimate = await data.storageEstimate();
  const persisted = await data.persisted();
  const labels = await itemLabels(ctx);
  const problems = await outbox.problems();
  const waiting = (await ctx.db.getAll("outbox")).filter((m) => m.state === "queued" || m.state === "syncing");
  const stat = (value, label, id) => h("div", { class: "stat", id }, h("div", { class: "v" }, value), h("div", { class: "k" }, label));
  replace(panel,
    h("div", { class: "stats" },
      stat(status.online ? "Trực tuyến" : "Ngoại tuyến", "Kết nối mạng", "stat-online"),
      stat(formatNumber(status.pending), "Thay đổi chờ đồng bộ", "stat-pending"),
      stat(formatNumber(status.conflicts + status.attention), "Cần bạn xử lý", "stat-attention"),
      stat(formatNumber(status.drafts), "Bản nháp chưa gửi (chưa hợp lệ)", "stat-drafts"),
      stat(formatNumber(status.photos.waiting), "Ảnh chờ tải lên", "stat-photos")),
    h("div", { class: "card" },
      h("p", { id: "last-sync" }, status.lastSync ? `Lần đồng bộ gần nhất: ${formatDateTime(status.lastSync)}.`
        : "Chưa đồng bộ lần nào trên máy này."),
      status.paused ? h("p", { class: "form-error" }, "Đồng bộ đang tạm dừng vì phiên đăng nhập đã hết hạn. ",
        h("a", { href: "#/dang-nhap" }, "Đăng nhập lại"), " để tiếp tục.") : null,
      status.lastError && status.lastError !== "auth" ? h("p", { class: "muted" }, `Lần thử gần nhất chưa thành công: ${status.lastError}`) : null),
    storageCard(estimate, persisted),
    problems.length ? h("div", { class: "card" }, h("h2", {}, "Cần bạn xử lý"),
      table(problems, labels, (m) => m.state === "conflict"
        ? "Máy chủ đã có giá trị khác: mở mục để chọn giữ giá trị nào."
        : (m.problem && m.problem.detail) || "Máy chủ không nhận thay đổi này.")) : null,
    h("div", { class: "card" }, h("h2", {}, "Thay đổi chờ đồng bộ"),
      waiting.length ? table(waiting, labels, (m) => (m.attempts ? `Đã thử ${m.attempts} lần` : "Chưa gửi"))
        : h("p", { class: "muted", id: "nothing-waiting" }, "Không có thay đổi nào đang chờ.")));
}

function storageCard(estimate, persisted) {
  const used = estimate ? estimate.usage : null;
  const quota = estimate ? estimate.quota : null;
  const share = used !== null && quota ? Math.max(1, Math.round((used * 100) / quota)) : 0;
  const meter = h("div", { class: "meter" }, h("span", {}));
  meter.firstChild.style.width = `${share}%`;
  return h("div", { class: "card", id: "storage" }, h("h2", {}, "Bộ nhớ trên máy"),
    estimate ? h("p", {}, `Đang dùng ${formatBytes(used)} trên tổng số ${formatBytes(quota)} trình duyệt cho phép.`)
      : h("p", { class: "muted" }, "Trình duyệt không cho biết dung lượng đã dùng."),
    estimate ? meter : null,
    h("p", {}, persisted
      ? badge("Dữ liệu được lưu trữ lâu dài: trình duyệt sẽ không tự xóa", "ok")
      : badge("Chưa được bảo đảm lưu trữ lâu dài: hãy cài ứng dụng lên màn hình chính", "warn")),
    persisted ? null : h("button", { type: "button", class: "btn", onclick: async () => {
      await data.askPersistence();
      location.reload();
    } }, "Yêu cầu lưu trữ lâu dài"));
}

async function itemLabels(ctx) {
  const labels = new Map();
  for (const stored of await ctx.db.getAll("bundles")) {
    const { key, version } = stored.bundle.inspection.checklist;
    const checklist = await ctx.db.get("checklists", data.checklistId(key, version));
    const units = new Map(stored.bundle.units.map((u) => [u.id, u.name]));
    const items = new Map();
    for (const section of checklist ? checklist.definition.sections : []) for (const item of section.items) items.set(item.code, [item, section.code]);
    labels.set(stored.inspection_id, { host: stored.bundle.inspection.host_unit.name, units, items });
  }
  return labels;
}

function table(mutations, labels, detail) {
  return h("table", { class: "list" },
    h("thead", {}, h("tr", {}, h("th", {}, "Mục"), h("th", {}, "Đơn vị"), h("th", {}, "Trạng thái"),
      h("th", { class: "wide" }, "Ghi chú"))),
    h("tbody", {}, mutations.map((m) => {
      const info = labels.get(m.inspection_id);
      const code = m.payload.item_code;
      const unitId = m.payload.unit_id;
      const found = info && info.items.get(code);
      const state = m.state === "syncing" ? "syncing" : m.state;
      let what = found ? h("a", { href: `#/kiem-tra/${m.inspection_id}/${unitId}/${found[1]}` }, `${code}. ${found[0].question}`) : code;
      if (m.type === "section.submit") what = `Nộp Phần ${m.payload.section_code} để xem xét`;
      else if (m.type.startsWith("finding.")) what = h("a", { href: `#/kiem-tra/${m.inspection_id}/ket-qua` }, "Sửa nội dung hạn chế");
      return h("tr", { dataset: { mutation: m.id } },
        h("td", {}, what),
        h("td", {}, info ? info.units.get(unitId) || info.host : ""),
        h("td", { class: "nowrap" }, badge(SYNC_STATES[state] || state, `state-${state}`)),
        h("td", {}, detail(m)));
    })));
}
