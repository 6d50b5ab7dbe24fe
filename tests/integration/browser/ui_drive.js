// A generic playwright-core server for the admin UI's tests (harness/ui.py): one chromium page,
// driven by JSON commands on stdin, one JSON answer per command on stdout. Targets are found
// as a user finds them: by role and accessible name, label or text (css only as a last resort).
//
// Command: {op, ...}. Target: {role, name, exact} | {label} | {text} | {css}, optionally
// {within: <target>} and {nth}. Answer: {ok: true, value} or {ok: false, error}.
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const { chromium } = require("playwright-core");

const env = process.env;
const TIMEOUT = +(env.UI_TIMEOUT_MS || 15000);

function locate(page, t) {
  let base = t.within ? locate(page, t.within) : page;
  let l;
  if (t.role) l = base.getByRole(t.role, t.name !== undefined ? { name: t.name, exact: !!t.exact } : {});
  else if (t.label) l = base.getByLabel(t.label, { exact: !!t.exact });
  else if (t.text) l = base.getByText(t.text, { exact: !!t.exact });
  else if (t.css) l = base.locator(t.css);
  else throw new Error("no target in " + JSON.stringify(t));
  if (t.nth !== undefined) l = l.nth(t.nth);
  return l;
}

(async () => {
  const browser = await chromium.launch({ executablePath: env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  // The tests' HTTPS listeners have certificates from the harness's own CA.
  const context = await browser.newContext({ acceptDownloads: true, ignoreHTTPSErrors: true, viewport: { width: 1366, height: 850 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on("pageerror", (e) => errors.push("pageerror: " + String(e)));
  // Chromium logs every 4xx/5xx as "Failed to load resource" without the address: the API's
  // refusals are answers the page shows, so only failed page files (not /api) count.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push("console: " + m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith("/api/")) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const ops = {
    goto: async (c) => { await page.goto(c.url); return page.url(); },
    url: async () => page.url(),
    click: async (c) => { await locate(page, c).click(); },
    fill: async (c) => { await locate(page, c).fill(c.value); },
    type: async (c) => { await page.keyboard.type(c.value); },
    focused: async () => page.evaluate(() => {
      const e = document.activeElement;
      return e ? { tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || "").trim().slice(0, 80),
        label: e.getAttribute("aria-label") || e.labels?.[0]?.innerText?.trim() || "",
        inDialog: !!e.closest("dialog[open]") } : null;
    }),
    press: async (c) => { await (c.role || c.label || c.css || c.text ? locate(page, c) : page.keyboard).press(c.key); },
    check: async (c) => { await locate(page, c).setChecked(c.value !== false); },
    select: async (c) => locate(page, c).selectOption(c.value),
    upload: async (c) => { await locate(page, c).setInputFiles(c.file); },
    text: async (c) => locate(page, c).first().innerText(),
    texts: async (c) => locate(page, c).allInnerTexts(),
    count: async (c) => locate(page, c).count(),
    attr: async (c) => locate(page, c).first().getAttribute(c.attr),
    visible: async (c) => locate(page, c).first().isVisible(),
    wait: async (c) => { await locate(page, c).first().waitFor({ state: c.state || "visible", timeout: c.timeout || TIMEOUT }); },
    // Rows of a table (found by its caption as accessible name): cell texts per row.
    rows: async (c) => locate(page, c).first().locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.children).map((td) => td.innerText.trim()))),
    eval: async (c) => page.evaluate(c.js),
    screenshot: async (c) => {
      fs.mkdirSync(env.ARTIFACTS, { recursive: true });
      const file = path.join(env.ARTIFACTS, c.name + ".png");
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    download: async (c) => {
      const [dl] = await Promise.all([page.waitForEvent("download"), locate(page, c).click()]);
      const file = path.join(env.ARTIFACTS, dl.suggestedFilename());
      fs.mkdirSync(env.ARTIFACTS, { recursive: true });
      await dl.saveAs(file);
      return file;
    },
    errors: async () => errors.splice(0),
    timing: async (c) => { const t0 = Date.now(); await ops[c.then.op](c.then); return Date.now() - t0; },
  };
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let c;
    try { c = JSON.parse(line); } catch (e) { console.log(JSON.stringify({ ok: false, error: "bad command" })); continue; }
    if (c.op === "quit") break;
    try {
      const fn = ops[c.op];
      if (!fn) throw new Error("unknown op " + c.op);
      const value = await fn(c);
      console.log(JSON.stringify({ ok: true, value: value === undefined ? null : value }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, error: String(e.message || e).split("\n").slice(0, 6).join("\n") }));
    }
  }
  await browser.close();
  // stdin stays referenced after the loop: without an explicit exit node waited for the
  // harness to kill it (30 s per test).
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
