// Virtual hosts: each with its description, tags, messages and rates (and the default queue
// type where the broker reports one), and the form that adds one.
import { api, path } from "../api.js";
import { field, h, href, num, rate, section } from "../dom.js";
import { act } from "../dialog.js";
import { listTable } from "../table.js";
import { defaultQueueType, tagBadges, tagList } from "../admin.js";

function addForm(onDone) {
  const name = h("input", { name: "name", required: true, autocomplete: "off" });
  const desc = h("input", { name: "description" });
  const tags = h("input", { name: "tags", placeholder: "comma separated" });
  const form = h("form", { class: "inline", "aria-label": "Add a virtual host" },
    field("Name", name), field("Description", desc), field("Tags", tags),
    h("button", { type: "submit" }, "Add virtual host"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = name.value;
    if (await act(() => api.put(path`/vhosts/${v}`, { description: desc.value, tags: tagList(tags.value).join(",") }), `Virtual host ${v} added`)) {
      form.reset();
      onDone();
    }
  });
  return form;
}

export async function render(ctx) {
  ctx.title("Virtual hosts");
  const list = h("div", { class: "panel" });
  ctx.root.append(h("h1", null, "Virtual hosts"), list, section("Add a virtual host", addForm(() => refresh())));

  async function refresh() {
    const vhosts = await api.get("/vhosts");
    if (ctx.stale()) return;
    vhosts.sort((a, b) => a.name.localeCompare(b.name));
    const cols = [
      { label: "Name", value: (v) => h("a", { href: href("vhosts", v.name) }, v.name) },
      { label: "Description", value: (v) => v.description || "" },
      { label: "Tags", value: (v) => tagBadges(v.tags) },
    ];
    if (vhosts.some((v) => defaultQueueType(v)))
      cols.push({ label: "Default queue type", value: (v) => defaultQueueType(v) });
    cols.push(
      { label: "Ready", cls: "num", value: (v) => num(v.messages_ready ?? 0) },
      { label: "Unacked", cls: "num", value: (v) => num(v.messages_unacknowledged ?? 0) },
      { label: "Total", cls: "num", value: (v) => num(v.messages ?? 0) },
      { label: "Publish", cls: "num", value: (v) => rate(v.message_stats?.publish_details?.rate ?? 0) },
      { label: "Deliver / get", cls: "num", value: (v) => rate(v.message_stats?.deliver_get_details?.rate ?? 0) });
    list.replaceChildren(listTable("Virtual hosts", cols, vhosts, (v) => v.name));
  }
  await refresh();
  ctx.every(refresh);
}
