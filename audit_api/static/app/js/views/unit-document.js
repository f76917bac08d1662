/* An issued document's HTML preview, inside the app (drawn by files.showDocument: why a shadow root and not a
 * frame is explained there), with its PDF and DOCX. */

import * as api from "../api.js";
import { fetchFile, showDocument } from "../files.js";
import { formatDate } from "../format.js";
import { h } from "../ui.js";
import { downloadButton, errorBox, HOME, kindLabel, releaseUrls } from "./unit-shared.js";

export async function render(ctx, documentId) {
  releaseUrls();
  let doc;
  let html;
  try {
    [doc, html] = await Promise.all([
      api.get(`/documents/${documentId}`),
      fetchFile(`/documents/${documentId}/html`, "text/html").then(({ blob }) => blob.text()),
    ]);
  } catch (error) {
    return h("div", { class: "page" }, h("div", { class: "card" },
      h("h1", {}, "Chưa mở được văn bản"), errorBox(error),
      h("a", { class: "btn btn-primary", href: HOME }, "Về văn bản và kiến nghị")));
  }
  const number = doc.display_number.replace(/^Số:\s*/, "");
  const file = number.replace(/[^0-9A-Za-zĐđ-]+/g, "-");
  const host = h("div", { class: "unit-doc-preview", id: "document-preview", dataset: { documentId } });
  showDocument(host, html);
  return h("div", { class: "page unit-document", dataset: { documentId } },
    h("div", { class: "crumbs" }, h("a", { href: HOME }, "‹ Văn bản và kiến nghị")),
    h("div", { class: "page-head" },
      h("div", { class: "grow" },
        h("h1", {}, `${kindLabel(doc.kind, true)} số ${number}`),
        h("div", { class: "meta" },
          doc.issued_on ? h("span", {}, `Ngày ban hành: ${formatDate(doc.issued_on)}`) : null,
          doc.signer_name ? h("span", {}, `Người ký: ${doc.signer_name}`) : null)),
      h("div", { class: "actions" },
        downloadButton("Tải PDF", `/documents/${documentId}/pdf`, `${file}.pdf`,
          { primary: true, dataset: { action: "pdf" } }),
        downloadButton("Tải DOCX", `/documents/${documentId}/docx`, `${file}.docx`, { dataset: { action: "docx" } }))),
    h("p", { class: "muted small" }, "Bản xem trước trên màn hình; bản chính thức là tệp PDF đã lưu khi ban hành."),
    h("div", { class: "unit-doc-frame" }, host));
}
