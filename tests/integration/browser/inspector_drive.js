// Drives the inspector page in Debian's chromium (playwright-core), step by step with the
// Python test (test_inspector.py), which publishes with pika in between: this script prints
// one JSON line per step and waits for a line on stdin before the steps that need messages.
//
// env: PAGE_URL (the inspector, with its binding in the hash), PULSE_USER, PULSE_PASSWORD,
// WS_URL (empty: the page's own /ws), EXCHANGE2/PATTERN2 (a binding added through the form),
// ARTIFACTS (screenshots and the downloaded file go there).
const path = require("path");
const fs = require("fs");
const readline = require("readline");
const { chromium } = require("playwright-core");

const env = process.env;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));
const waitLine = async () => (await lines.next()).value;

async function shownMessages(page) {
  return page.$$eval("#message-list li.message:not([hidden])", (lis) => lis.map((li) => ({
    exchange: li.querySelector(".exchange").textContent,
    key: li.querySelector(".key").textContent,
    payload: li.querySelector("pre.payload").textContent,
    sent: li.querySelector(".sent")?.textContent ?? null,
  })));
}

(async () => {
  fs.mkdirSync(env.ARTIFACTS, { recursive: true });
  const shot = (page, name) => page.screenshot({ path: path.join(env.ARTIFACTS, name + ".png"), fullPage: true });
  const browser = await chromium.launch({ executablePath: env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(env.PAGE_URL);
    await shot(page, "01-signin");

    // A wrong password is refused with the broker's text.
    await page.fill("#user", env.PULSE_USER);
    await page.fill("#password", env.PULSE_PASSWORD + "-wrong");
    if (env.WS_URL) { await page.click(".advanced summary"); await page.fill("#ws-url", env.WS_URL); }
    await page.click("#signin-button");
    await page.waitForSelector("#signin-error:not([hidden])");
    say("wrong-password", { error: await page.textContent("#signin-error") });

    await page.fill("#password", env.PULSE_PASSWORD);
    await page.click("#signin-button");
    await page.waitForSelector("#workspace:not([hidden])");
    await page.waitForFunction(() => document.getElementById("exchange-note").textContent !== "");
    await page.fill("#exchange", env.EXCHANGE2);
    await page.fill("#pattern", env.PATTERN2);
    await page.click("#add-binding");
    const bindings = await page.$$eval("#binding-list li", (lis) => lis.map((li) => [li.dataset.exchange, li.dataset.pattern]));
    const exchangeOptions = await page.$$eval("#exchange-list option", (os) => os.map((o) => o.value));
    say("signed-in", {
      status: await page.textContent("#status"), bindings, hash: new URL(page.url()).hash,
      exchangeOptions, exchangeNote: await page.textContent("#exchange-note"),
    });
    await shot(page, "02-bindings");

    await waitLine(); // published
    await page.waitForFunction((n) => document.querySelectorAll("#message-list li.message").length >= n, 2, { timeout: 10000 });
    await new Promise((r) => setTimeout(r, 300)); // the non-matching one would have come by now
    say("received", { messages: await shownMessages(page), counts: await page.textContent("#counts") });
    await shot(page, "03-messages");

    await page.fill("#filter", "heartbeat");
    say("filtered", { messages: await shownMessages(page), counts: await page.textContent("#counts") });
    await shot(page, "04-filtered");
    await page.fill("#filter", "");

    await page.click("#pause");
    say("paused", { pressed: await page.getAttribute("#pause", "aria-pressed") });
    await waitLine(); // published while paused
    await page.waitForFunction(() => /1 waiting/.test(document.getElementById("counts").textContent), null, { timeout: 10000 });
    say("while-paused", { shown: (await shownMessages(page)).length, counts: await page.textContent("#counts") });
    await shot(page, "05-paused");
    await page.click("#pause");
    say("resumed", { shown: (await shownMessages(page)).length, counts: await page.textContent("#counts") });

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const file = path.join(env.ARTIFACTS, "inspector-download.json");
    await download.saveAs(file);
    say("downloaded", { name: download.suggestedFilename(), content: JSON.parse(fs.readFileSync(file, "utf8")) });

    await page.click("#clear");
    say("cleared", { shown: (await shownMessages(page)).length, counts: await page.textContent("#counts") });
    await shot(page, "06-cleared");

    // Removing a binding unsubscribes (the test checks its queue is gone).
    await page.click(`#binding-list li:nth-child(2) button`);
    say("removed", { bindings: await page.$$eval("#binding-list li", (lis) => lis.length), hash: new URL(page.url()).hash });
    await waitLine();
    say("done", { errors });
  } finally {
    await browser.close();
  }
  process.exit(0); // stdin stays open otherwise
})().catch((e) => { say("failed", { error: String(e && e.stack || e) }); process.exit(1); });
