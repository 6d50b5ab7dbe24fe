// #/pulse/subscriptions (owners: theirs; administrators: all): the HTTP push subscriptions,
// their state, lease and delivery counts, and a delete button. Subscribing is pulsectl's or
// the API's (POST /api/pulse/subscriptions): the callback's owner has the secret.
import { api, path } from "../api.js";
import { act, ask } from "../dialog.js";
import { h, link, section } from "../dom.js";
import { listTable } from "../table.js";
import { when } from "../pulse_ui.js";

export async function render(ctx) {
  ctx.title("Push subscriptions");
  ctx.root.append(h("h1", null, "Push subscriptions", h("span", { class: "sub" }, link("Pulse", "pulse"))));
  const list = h("div");
  ctx.root.append(section("Subscriptions", list,
    h("p", { class: "note" }, "Pulse POSTs each message matching the topic to the callback, signed with the secret; add one with ",
      h("code", null, "pulsectl pulse subscriptions add"), ".")));

  async function remove(s) {
    const ok = await ask({ title: `Delete subscription ${s.id}?`, confirm: "Delete", danger: true,
      body: `Nothing more is sent to ${s.callback}; its queue ${s.queue} and the messages waiting in it go.` });
    if (ok && await act(() => api.del(path`/pulse/subscriptions/${s.id}`), `Subscription ${s.id} deleted`)) refresh();
  }

  async function refresh() {
    const subs = await api.get("/pulse/subscriptions");
    if (ctx.stale()) return;
    list.replaceChildren(listTable("Push subscriptions", [
      { label: "Id", value: (s) => s.id },
      { label: "State", value: (s) => (s.reason ? `${s.state}: ${s.reason}` : s.state) },
      { label: "Owner", value: (s) => s.owner },
      { label: "Exchange", value: (s) => s.exchange },
      { label: "Topic", value: (s) => s.topic },
      { label: "Callback", value: (s) => s.callback },
      { label: "Lease ends", value: (s) => when(s.expires || s.ended) },
      { label: "Delivered", value: (s) => String(s.delivered) },
      { label: "Failed", value: (s) => String(s.failed) },
      { label: "Waiting", value: (s) => (s.messages == null ? "" : String(s.messages)) },
      { label: "Last error", value: (s) => s.last_error || "" },
      { label: "Actions", value: (s) => h("button", { type: "button", class: "secondary", "aria-label": `Delete subscription ${s.id}`, onclick: () => remove(s) }, "Delete") },
    ], subs, (s) => s.id));
  }
  await refresh();
  ctx.every(refresh);
}
