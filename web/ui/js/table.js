// Tables of broker objects. `pagedTable` pages, sorts and filters on the server with RabbitMQ's
// parameters (page, page_size, name, use_regex, sort, sort_reverse), so a page of 20,000
// queues costs the browser one page; its state lives in the address (`#/queues?sort=messages`)
// so a view can be shared and Back works. `listTable` shows a short array as it is.
import { ApiError, api } from "./api.js";
import { h, num } from "./dom.js";

const PAGE_SIZES = [20, 50, 100, 500];

function headerCell(col, state, onSort) {
  if (!col.sort) return h("th", { scope: "col", class: col.cls }, col.label);
  const active = state.sort === col.sort;
  const dir = active ? (state.reverse ? "descending" : "ascending") : null;
  return h("th", { scope: "col", class: col.cls, "aria-sort": dir || undefined },
    h("button", { type: "button", class: "sort", onclick: () => onSort(col) },
      col.label, h("span", { "aria-hidden": "true", class: "arrow" }, active ? (state.reverse ? " ▼" : " ▲") : "")));
}

function bodyRows(columns, items, rowKey) {
  if (!items.length)
    return [h("tr", null, h("td", { colspan: columns.length, class: "empty" }, "Nothing to show"))];
  return items.map((it) => h("tr", { dataset: { key: rowKey ? rowKey(it) : "" } },
    columns.map((c, i) => h(i === 0 ? "th" : "td", { class: c.cls, scope: i === 0 ? "row" : undefined }, c.value(it)))));
}

// opts: { caption, endpoint ("/queues" or "/queues/<vhost>"), columns: [{label, sort, value, cls}],
//   query (URLSearchParams of the route), onState(stateObject) to write it back to the address,
//   defaultSort, rowKey, extraParams }.
export function pagedTable(opts) {
  const q = opts.query || new URLSearchParams();
  const state = {
    page: Math.max(1, parseInt(q.get("page") || "1", 10) || 1),
    pageSize: PAGE_SIZES.includes(+q.get("page_size")) ? +q.get("page_size") : 50,
    name: q.get("name") || "",
    regex: q.get("use_regex") === "true",
    sort: q.get("sort") || opts.defaultSort || "",
    reverse: q.has("sort_reverse") ? q.get("sort_reverse") === "true" : !!opts.defaultReverse,
  };
  const id = "t" + Math.random().toString(36).slice(2, 8);
  const filter = h("input", { type: "search", id: id + "-filter", value: state.name, placeholder: "name" });
  const regex = h("input", { type: "checkbox", id: id + "-regex", checked: state.regex });
  const size = h("select", { id: id + "-size" }, PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.pageSize }, n)));
  const prev = h("button", { type: "button", class: "secondary" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary" }, "Next page");
  const counts = h("span", { class: "counts", "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const thead = h("thead");
  const tbody = h("tbody");
  const table = h("table", { class: "grid" }, h("caption", null, opts.caption), thead, tbody);
  const el = h("section", { class: "paged", "aria-label": opts.caption },
    h("div", { class: "tablebar" },
      h("label", { for: filter.id, class: "inline" }, "Filter"), filter,
      h("label", { class: "inline check" }, regex, "Regex"),
      h("label", { for: size.id, class: "inline" }, "Page size"), size,
      h("span", { class: "grow" }), counts, prev, next),
    error, h("div", { class: "scroll" }, table));

  let inflight = null;
  let last = null;

  function writeState() {
    if (!opts.onState) return;
    const s = {};
    if (state.page > 1) s.page = state.page;
    if (state.pageSize !== 50) s.page_size = state.pageSize;
    if (state.name) s.name = state.name;
    if (state.regex) s.use_regex = "true";
    if (state.sort) s.sort = state.sort;
    if (state.sort) s.sort_reverse = String(state.reverse);
    opts.onState(s);
  }

  function renderHead() {
    thead.replaceChildren(h("tr", null, opts.columns.map((c) => headerCell(c, state, (col) => {
      if (state.sort === col.sort) state.reverse = !state.reverse;
      else { state.sort = col.sort; state.reverse = col.numeric !== false; }
      state.page = 1;
      writeState();
      renderHead();  // the arrows and aria-sort follow the new order
      refresh();
    }))));
  }

  async function refresh() {
    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    const params = {
      page: state.page, page_size: state.pageSize, name: state.name,
      use_regex: state.regex ? "true" : undefined, pagination: "true",
      sort: state.sort || undefined, sort_reverse: state.sort ? String(state.reverse) : undefined,
      ...(opts.extraParams || {}),
    };
    try {
      const r = await api.get(opts.endpoint, params, { signal: ctl.signal });
      if (inflight !== ctl) return;
      last = r;
      error.hidden = true;
      if (r.page_count && state.page > r.page_count) { state.page = r.page_count; writeState(); return refresh(); }
      tbody.replaceChildren(...bodyRows(opts.columns, r.items || [], opts.rowKey));
      const shown = r.filtered_count !== r.total_count ? `${num(r.filtered_count)} of ${num(r.total_count)} matching` : `${num(r.total_count)} in all`;
      counts.textContent = `Page ${r.page || 1} of ${Math.max(1, r.page_count || 1)} · ${shown}`;
      prev.disabled = (r.page || 1) <= 1;
      next.disabled = (r.page || 1) >= (r.page_count || 1);
    } catch (e) {
      if (e.name === "AbortError") return;
      error.hidden = false;
      error.textContent = e instanceof ApiError && e.status === 400 ? "Filter refused: " + e.message : "Could not load: " + e.message;
    } finally {
      if (inflight === ctl) inflight = null;
    }
  }

  let typing = null;
  filter.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.name = filter.value; state.page = 1; writeState(); refresh(); }, 250);
  });
  regex.addEventListener("change", () => { state.regex = regex.checked; state.page = 1; writeState(); refresh(); });
  size.addEventListener("change", () => { state.pageSize = +size.value; state.page = 1; writeState(); refresh(); });
  prev.addEventListener("click", () => { state.page = Math.max(1, state.page - 1); writeState(); refresh(); });
  next.addEventListener("click", () => { state.page += 1; writeState(); refresh(); });

  renderHead();
  return { el, refresh, state, last: () => last };
}

// A short list already in hand (a queue's bindings, a user's permissions...).
export function listTable(caption, columns, items, rowKey) {
  return h("table", { class: "grid" }, h("caption", null, caption),
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.cls }, c.label)))),
    h("tbody", null, bodyRows(columns, items || [], rowKey)));
}
