/* "Cuộc kiểm tra của tôi": the caller's inspections (from the server when online, else the downloaded ones),
 * each with "Tải về để làm ngoại tuyến" or, once downloaded, "Mở danh mục kiểm tra". */

import * as data from "../data.js";
import { formatDate, formatDateTime, INSPECTION_STATUSES } from "../format.js";
import { badge, h, replace, toast } from "../ui.js";
import { entryLinks } from "./lead-common.js";

export async function render(ctx) {
  const list = h("div", { id: "inspection-list" });
  const note = h("div", {});
  const page = h("div", { class: "page" },
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, "Cuộc kiểm tra của tôi"),
        h("p", { class: "muted" }, "Tải về các cuộc kiểm tra trước khi đến đơn vị để làm việc cả khi không có mạng."))),
    note, list);
  await fill(ctx, list, note);
  return page;
}

async function fill(ctx, list, note) {
  const local = new Map((await data.downloaded(ctx.db)).map((b) => [b.inspection_id, b]));
  const checklists = new Map((await ctx.db.getAll("checklists")).map((c) => [c.id, c.definition.title]));
  const answers = await ctx.db.getAll("answers");
  const pendingBy = new Map();
  for (const a of answers) {
    if (a.sync_state && a.sync_state !== "synced") pendingBy.set(a.inspection_id, (pendingBy.get(a.inspection_id) || 0) + 1);
  }
  let inspections = null;
  if (navigator.onLine) {
    try {
      const remote = await data.remoteInspections();
      inspections = remote.inspections;
      for (const [id, title] of remote.titles) if (!checklists.has(id)) checklists.set(id, title);
    } catch (error) {
      replace(note, h("div", { class: "banner" }, h("span", { class: "grow" },
        `Không tải được danh sách từ máy chủ (${error.message}). Đang hiển thị các cuộc kiểm tra đã tải về máy.`)));
    }
  } else {
    replace(note, h("p", { class: "muted" }, "Ngoại tuyến: chỉ hiển thị các cuộc kiểm tra đã tải về máy này."));
  }
  if (!inspections) inspections = [...local.values()].map((b) => b.bundle.inspection);
  if (!inspections.length) {
    replace(list, h("div", { class: "card empty" }, navigator.onLine
      ? "Bạn chưa được phân công cuộc kiểm tra nào."
      : "Chưa có cuộc kiểm tra nào được tải về máy này. Hãy kết nối mạng và tải về trước khi đi kiểm tra."));
    return;
  }
  inspections.sort((a, b) => (b.scheduled_on || "").localeCompare(a.scheduled_on || ""));
  replace(list, inspections.map((inspection) => card(ctx, inspection, local.get(inspection.id), checklists,
    pendingBy.get(inspection.id) || 0, () => fill(ctx, list, note))));
}

function card(ctx, inspection, stored, checklists, pending, refresh) {
  const user = ctx.session.user;
  const mine = inspection.assignments.filter((a) => a.user_id === user.id).map((a) => a.section_code);
  const { key, version } = inspection.checklist;
  const title = checklists.get(data.checklistId(key, version));
  const subs = inspection.sub_units.map((u) => u.name).join("; ");
  const button = h("button", { class: "btn btn-primary", type: "button", dataset: { action: "download" } },
    stored ? "Cập nhật bản tải về" : "Tải về để làm ngoại tuyến");
  if (stored) button.className = "btn";
  button.disabled = !navigator.onLine;
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Đang tải về…";
    try {
      await data.download(ctx.db, inspection.id);
      toast("Đã tải về. Có thể làm việc với cuộc kiểm tra này khi không có mạng.");
      await refresh();
    } catch (error) {
      toast(`Chưa tải về được: ${error.message}`, 6000);
      button.disabled = false;
      button.textContent = "Thử tải lại";
    }
  });
  return h("article", { class: "card", dataset: { inspectionId: inspection.id } },
    h("div", { class: "card-row" },
      h("div", { class: "grow" },
        h("h2", {}, inspection.host_unit.name),
        subs ? h("div", { class: "muted" }, `Cùng kiểm tra: ${subs}`) : null,
        h("div", { class: "meta" },
          h("span", {}, `Ngày kiểm tra: ${formatDate(inspection.scheduled_on)}`),
          inspection.location ? h("span", {}, `Địa điểm: ${inspection.location}`) : null,
          h("span", {}, title ? `Danh mục: ${title}` : `Danh mục ${key}, phiên bản ${version}`)),
        h("div", { class: "actions" },
          badge(INSPECTION_STATUSES[inspection.status] || inspection.status, "info plain"),
          mine.length ? badge(`Phần được giao: ${mine.join(", ")}`, "plain") : null,
          stored ? badge(`Đã tải về ${formatDateTime(stored.downloaded_at)}`, "ok") : badge("Chưa tải về máy", "plain"),
          pending ? badge(`${pending} câu trả lời chưa đồng bộ`, "state-queued") : null)),
      h("div", { class: "actions" },
        stored ? h("a", { class: "btn btn-primary", href: `#/kiem-tra/${inspection.id}` }, "Mở danh mục kiểm tra") : null,
        button)),
    entryLinks(ctx, inspection));
}
