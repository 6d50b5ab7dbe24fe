// Definitions: export (GET /api/definitions[/<vhost>] saved as a file named as RabbitMQ's UI
// names it: <node with @ as _>_<y>-<m>-<d>.json) and import (a file from disk posted to
// /api/definitions[/<vhost>] as it is, so a broken file gets the server's own reason).
// The download is fetched with the Authorization header and handed over as a Blob URL: a
// plain link cannot carry Basic auth.
import { api, path, request } from "../api.js";
import { field, h, section } from "../dom.js";
import { toast } from "../dialog.js";
import { select, setOptions, vhostNames } from "../admin.js";

function fileName(node) {
  const now = new Date();
  return `${String(node || "pulse").replace("@", "_")}_${now.getFullYear()}-${now.getMonth() + 1}-${now.getDate()}.json`;
}

const ALL = ["", "All virtual hosts"];

function exportPanel(which, node) {
  const name = h("input", { name: "filename", value: fileName(node) });
  const status = h("p", { role: "status" });
  const form = h("form", { class: "inline", "aria-label": "Export definitions" },
    field("Virtual host", which), field("File name", name), h("button", { type: "submit" }, "Download definitions"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.className = "";
    try {
      const d = await api.get(which.value ? path`/definitions/${which.value}` : "/definitions");
      const url = URL.createObjectURL(new Blob([JSON.stringify(d, null, 2) + "\n"], { type: "application/json" }));
      const a = h("a", { href: url, download: name.value || fileName(node), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status.textContent = `Downloaded ${name.value}: ${(d.queues || []).length} queues, ${(d.exchanges || []).length} exchanges, ` +
        `${(d.bindings || []).length} bindings, ${(d.policies || []).length} policies` +
        (d.users ? `, ${d.users.length} users, ${(d.vhosts || []).length} virtual hosts.` : ".");
    } catch (ex) {
      status.className = "error";
      status.textContent = "Export failed: " + (ex.message || ex);
    }
  });
  return h("div", null, form, status);
}

function importPanel(which, onImported) {
  const file = h("input", { type: "file", name: "file", accept: "application/json,.json", required: true });
  const result = h("div", { class: "import-result" });
  const form = h("form", { class: "inline", "aria-label": "Import definitions" },
    field("Definitions file", file), field("Import into", which), h("button", { type: "submit" }, "Upload definitions"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) return;
    result.replaceChildren(h("p", { class: "muted" }, "Importing…"));
    try {
      const text = await f.text();
      await request("POST", which.value ? path`/definitions/${which.value}` : "/definitions", { rawBody: text });
      result.replaceChildren(h("p", { role: "status", class: "ok" }, `Imported ${f.name}` + (which.value ? ` into ${which.value}.` : ".")));
      toast(`Definitions from ${f.name} imported`);
      onImported();
    } catch (ex) {
      result.replaceChildren(h("p", { role: "alert", class: "error" }, `Import of ${f.name} refused: ${ex.message || ex}`));
    }
  });
  return h("div", null,
    h("p", { class: "note" }, "A definitions file from Pulse or RabbitMQ: users, virtual hosts, permissions, exchanges, queues, bindings, policies and limits. " +
      "Into one virtual host: a file exported from a single virtual host (its objects carry no vhost)."),
    form, result);
}

export async function render(ctx) {
  ctx.title("Definitions");
  const [vhosts, ov] = await Promise.all([vhostNames(), api.get("/overview", { columns: "node" }).catch(() => ({}))]);
  if (ctx.stale()) return;
  // The vhost pickers follow the broker (an import may have added vhosts).
  const pickers = [select("vhost", [ALL, ...vhosts], ""), select("vhost", [ALL, ...vhosts], "")];
  async function refreshVhosts() {
    const now = await vhostNames();
    if (!ctx.stale()) for (const s of pickers) setOptions(s, [ALL, ...now]);
  }
  ctx.every(refreshVhosts);
  ctx.root.append(h("h1", null, "Definitions"),
    h("div", { class: "grid2" },
      section("Export definitions", h("p", { class: "note" }, "The broker's topology and users as a JSON file, to keep or to load into another broker."), exportPanel(pickers[0], ov.node)),
      section("Import definitions", importPanel(pickers[1], () => refreshVhosts().catch(() => {})))));
}
