// Modal dialogs (<dialog>: focus trapped, Escape cancels) and short notices. A dialog's
// buttons and fields have accessible names, so people and tests find them by role.
import { h } from "./dom.js";

// ask({ title, body: Node|string, fields: [Node], confirm: "Delete", danger }) resolves to
// the dialog's <form> element when confirmed, null when cancelled.
export function ask({ title, body, fields = [], confirm = "OK", cancel = "Cancel", danger = false }) {
  return new Promise((resolve) => {
    const id = "dlg" + Math.random().toString(36).slice(2, 8);
    const form = h("form", { method: "dialog" },
      h("h2", { id: id + "-title" }, title),
      body ? h("div", { class: "dialog-body" }, body) : null,
      fields,
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "secondary", value: "cancel", onclick: () => dlg.close("cancel") }, cancel),
        h("button", { type: "submit", value: "ok", class: danger ? "danger" : undefined }, confirm)));
    const dlg = h("dialog", { "aria-labelledby": id + "-title" }, form);
    form.addEventListener("submit", (e) => { e.preventDefault(); dlg.close("ok"); });
    dlg.addEventListener("close", () => { dlg.remove(); resolve(dlg.returnValue === "ok" ? form : null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function toast(text, kind = "ok") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: "toast " + kind }, text);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 10000 : 5000);
}

// Runs an API call from a button: a notice on success, the server's reason on failure.
export async function act(fn, done) {
  try {
    const r = await fn();
    if (done) toast(done);
    return r === undefined || r === null || r === "" ? true : r;  // a 204's empty body is success too
  } catch (e) {
    toast(e.message || String(e), "error");
    return null;
  }
}
