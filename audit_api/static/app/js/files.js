/* Files behind the bearer token — a document's HTML preview, PDF and DOCX, evidence photos — for the lead's and
 * the unit's screens. They are fetched through api.js (an <a href> or <img src> cannot carry the token) and
 * handed to the browser as Blobs.
 *
 * The preview is drawn into a shadow root, not a frame: a srcdoc or blob: frame inherits this page's
 * Content-Security-Policy (web.py), whose `style-src 'self'` refuses the document's own <style> block and its
 * style="width: …" attributes, and whose frame-src (default-src 'self') does not match blob:. So the HTML is
 * parsed inert (DOMParser runs nothing), rebuilt from a short list of elements and attributes (no script, no
 * event handler, no link; images only as data:image/ URLs, as the server inlines them), and its stylesheet is
 * applied through the CSSOM (a constructed sheet), which the policy allows as it allows app.js's own CSSOM calls.
 * Neither the app's styles nor the document's leak into each other. */

import * as api from "./api.js";
import { h } from "./ui.js";

/* GET a file with the token: {blob, name, response}; throws api.ApiError with the server's problem. */
export async function fetchFile(path, accept = "*/*") {
  const response = await api.call("GET", path, { raw: true, headers: { Accept: accept } });
  if (!response.ok) throw new api.ApiError(response.status, await api.problemOf(response));
  return { blob: await response.blob(), name: filenameOf(response.headers.get("Content-Disposition")), response };
}

/* The name in Content-Disposition (RFC 6266: the UTF-8 filename* first, then the ASCII fallback). */
export function filenameOf(header) {
  if (!header) return null;
  const exact = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (exact) {
    try {
      return decodeURIComponent(exact[1].trim());
    } catch { /* fall back to the plain name */ }
  }
  const plain = /filename="([^"]*)"/i.exec(header);
  return plain ? plain[1] : null;
}

/* Hand the browser a file to save: a Blob URL on a download link, released a minute later. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, class: "hidden" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/* --- a document's HTML in a shadow root ------------------------------------------------------------------ */

const TAGS = new Set(["div", "p", "span", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "colgroup", "col",
  "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "br", "strong", "em", "b", "i", "u", "sup", "sub", "img",
  "section", "article", "header", "footer", "figure", "figcaption", "caption", "blockquote", "hr", "small"]);
const DROPPED = new Set(["script", "style", "template", "iframe", "frame", "object", "embed", "noscript", "svg", "math",
  "link", "meta", "base", "form", "input", "button", "textarea", "select", "video", "audio", "title", "head"]);
const ATTRIBUTES = ["class", "colspan", "rowspan", "value", "alt", "lang", "start"];
/* A parsed document reports this page's policy too (a <style> or style="" in it is a violation, even inert), so
 * both come out before parsing. The HTML is the server's autoescaped template output: an attribute value holds
 * no raw `"`, and a <style> block is the template's own CSS, so plain patterns find them exactly. */
const STYLE_BLOCK = /<style[^>]*>([\s\S]*?)<\/style>/gi;
const STYLE_ATTRIBUTE = /\sstyle="([^"]*)"/gi;
const MOVED_STYLE = "data-screen-style";
/* On screen: the A4 sheet on a grey desk inside the app, a draft's watermark on the sheet, not over the window.
 * Specific enough to win over the document's own CSS. */
const SCREEN_CSS = `
:host { display: block; background: #e8e8e8; padding: 12px 0; }
:host .doc-page { position: relative; z-index: 0; overflow: hidden; box-sizing: border-box; max-width: 210mm;
  width: 100%; margin: 0 auto; }
:host .doc-page .watermark { position: absolute; }
@media (max-width: 960px) { :host .doc-page { max-width: none; margin: 0; padding: 12mm 8mm 12mm 12mm; } }
`;

/* Fetch a document's preview and draw it into `host` (its shadow root is made once and reused). */
export async function showDocumentPreview(host, documentId) {
  const { blob } = await fetchFile(`/documents/${documentId}/html`, "text/html");
  showDocument(host, await blob.text());
}

export function showDocument(host, html) {
  const css = [];
  const source = html.replace(STYLE_BLOCK, (_match, text) => { css.push(text); return ""; })
    .replace(STYLE_ATTRIBUTE, (_match, value) => ` ${MOVED_STYLE}="${value}"`);
  const parsed = new DOMParser().parseFromString(source, "text/html");
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  const page = h("div", { class: `doc-page ${parsed.body.className || ""}`.trim(), lang: "vi" });
  for (const child of [...parsed.body.childNodes]) {
    const copy = rebuild(child);
    if (copy) page.append(copy);
  }
  root.adoptedStyleSheets = [sheet(css.join("\n")), sheet(SCREEN_CSS)];
  root.replaceChildren(page);
}

function sheet(text) {
  const made = new CSSStyleSheet();
  made.replaceSync(text);
  scope(made.cssRules);
  return made;
}

/* The document styles <html> and <body>; in the shadow root they are the host and the page. */
function scope(rules) {
  for (const rule of rules) {
    if (rule instanceof CSSStyleRule) {
      rule.selectorText = rule.selectorText.split(",").map((part) => part.trim()
        .replace(/^html\b/, ":host").replace(/^body\b/, ".doc-page")).join(", ");
    } else if (rule.cssRules) {
      scope(rule.cssRules);
    }
  }
}

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.data);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const tag = node.localName;
  if (DROPPED.has(tag)) return null;
  const children = [...node.childNodes].map(rebuild).filter(Boolean);
  if (!TAGS.has(tag)) { // an element outside the list: keep its text, not the element
    const fragment = document.createDocumentFragment();
    fragment.append(...children);
    return fragment;
  }
  const el = document.createElement(tag);
  for (const name of ATTRIBUTES) {
    if (node.hasAttribute(name)) el.setAttribute(name, node.getAttribute(name));
  }
  const src = tag === "img" ? node.getAttribute("src") || "" : "";
  if (src.startsWith("data:image/")) el.setAttribute("src", src);
  const style = node.getAttribute(MOVED_STYLE);
  if (style) el.style.cssText = style; // CSSOM: the template's table widths
  el.append(...children);
  return el;
}
