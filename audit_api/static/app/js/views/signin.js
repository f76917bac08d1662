/* Sign-in (online only). A user whose session expired signs in again here and their paused queue resumes. */

import * as api from "../api.js";
import * as session from "../session.js";
import { h, replace } from "../ui.js";

export function render(ctx) {
  const expired = ctx.session && ctx.session.needs_sign_in;
  const username = h("input", { type: "text", name: "username", id: "username", autocomplete: "username",
    autocapitalize: "none", spellcheck: "false", required: true,
    value: expired ? ctx.session.user.username : session.lastUsername() });
  const password = h("input", { type: "password", name: "password", id: "password", autocomplete: "current-password",
    required: true });
  const message = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Đăng nhập");

  function offlineNote() {
    if (!form.isConnected && form.dataset.shown) {
      window.removeEventListener("online", offlineNote);
      window.removeEventListener("offline", offlineNote);
      return;
    }
    replace(message, navigator.onLine ? null : h("div", { class: "form-note" },
      "Máy đang ngoại tuyến. Cần có mạng để đăng nhập; dữ liệu đã lưu trên máy không bị mất."));
    submit.disabled = !navigator.onLine;
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (!navigator.onLine) return offlineNote();
    submit.disabled = true;
    submit.textContent = "Đang đăng nhập…";
    try {
      const signedIn = await api.login(username.value.trim(), password.value);
      await ctx.signedIn(signedIn);
    } catch (error) {
      const text = error instanceof api.ApiError && error.status === 401
        ? "Tên đăng nhập hoặc mật khẩu không đúng."
        : error.message;
      replace(message, h("div", { class: "form-error", role: "alert" }, text));
      submit.disabled = false;
      submit.textContent = "Đăng nhập";
    }
  }

  const form = h("form", { class: "card", onsubmit: onSubmit, novalidate: true },
    h("div", { class: "signin-emblem" },
      h("img", { src: "/app/icons/icon-192.png", alt: "" }),
      h("div", {},
        h("div", { class: "title" }, "Kiểm tra công tác kiểm soát thủ tục hành chính"),
        h("div", { class: "muted small" }, "Ứng dụng dành cho Đoàn kiểm tra và đơn vị được kiểm tra"))),
    expired ? h("div", { class: "form-note" }, "Phiên đăng nhập đã hết hạn. Các thay đổi chưa đồng bộ vẫn được giữ ",
      "trên máy và sẽ được gửi tiếp ngay sau khi bạn đăng nhập lại.") : null,
    message,
    h("label", { class: "field", for: "username" }, h("span", { class: "field-label" }, "Tên đăng nhập"), username),
    h("label", { class: "field", for: "password" }, h("span", { class: "field-label" }, "Mật khẩu"), password),
    submit,
    h("p", { class: "muted small" }, "Sau khi đăng nhập, hãy tải về các cuộc kiểm tra để làm việc cả khi ",
      "không có mạng."));
  window.addEventListener("online", offlineNote);
  window.addEventListener("offline", offlineNote);
  offlineNote();
  form.dataset.shown = "true";
  return h("div", { class: "signin" }, form);
}
