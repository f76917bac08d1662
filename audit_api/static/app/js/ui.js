/* DOM helpers: elements built with text nodes (never HTML strings from data), a dialog and a toast. */

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "value") el.value = value;
    else if (name === "checked") el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/* A modal dialog; resolves with the value of the button pressed (null when dismissed). */
export function ask({ title, body, buttons }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "dialog-title" },
      h("div", { class: "dialog-body" },
        h("h2", { id: "dialog-title" }, title),
        ...(Array.isArray(body) ? body : [body]).map((text) => (text instanceof Node ? text : h("p", {}, text)))),
      h("div", { class: "dialog-actions" },
        buttons.map((button) => h("button", {
          type: "button", class: `btn ${button.class || ""}`, dataset: { value: button.value },
          onclick: () => { dialog.close(button.value); },
        }, button.label))));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue || null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

let toastTimer = null;

export function toast(message, ms = 3500) {
  let el = document.querySelector(".toast");
  if (!el) {
    el = h("div", { class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.textContent = message;
  el.classList.remove("hidden");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.add("hidden"), ms);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}
