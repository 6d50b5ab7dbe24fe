// @stomp/stompjs (its UMD bundle, as a page would load it) in Debian's chromium over Web-STOMP,
// step by step with test_browser_stompjs.py, which publishes and consumes with pika:
//   connected   -> the CONNECTED frame's version and server; the script then subscribes
//   subscribed  -> (waits for a line) the Python side has published; we wait for the message
//   received    -> body and headers of what arrived; then the page publishes one itself
//   published   -> done; the page disconnects
// env: PAGE_URL (a page served by the broker under test, the origin the socket comes from),
// WS_URL, PULSE_USER, PULSE_PASSWORD, PULSE_VHOST, SUB_DEST, PUB_DEST, STOMPJS (bundle path),
// ARTIFACTS.
const path = require("path");
const fs = require("fs");
const readline = require("readline");
const { chromium } = require("playwright-core");

const env = process.env;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));

(async () => {
  fs.mkdirSync(env.ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    // The served page's CSP allows only its own scripts; the test injects the bundle.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(env.PAGE_URL);
    await page.addScriptTag({ path: env.STOMPJS });
    const connected = await page.evaluate(({ url, login, passcode, host }) => new Promise((resolve, reject) => {
      const client = new StompJs.Client({ brokerURL: url, connectHeaders: { login, passcode, host }, reconnectDelay: 0 });
      window.__client = client;
      window.__got = [];
      client.onConnect = (frame) => resolve({ version: frame.headers.version, server: frame.headers.server });
      client.onStompError = (frame) => reject(new Error(frame.headers.message));
      client.onWebSocketError = () => reject(new Error("WebSocket error"));
      client.activate();
    }), { url: env.WS_URL, login: env.PULSE_USER, passcode: env.PULSE_PASSWORD, host: env.PULSE_VHOST });
    say("connected", connected);

    await page.evaluate((dest) => new Promise((resolve) => {
      const client = window.__client;
      const receipt = "sub-" + Date.now();
      client.watchForReceipt(receipt, () => resolve());
      client.subscribe(dest, (msg) => window.__got.push({ body: msg.body, headers: msg.headers }), { receipt });
    }), env.SUB_DEST);
    say("subscribed");
    await lines.next();
    await page.waitForFunction(() => window.__got.length > 0, null, { timeout: 10000 });
    say("received", { message: await page.evaluate(() => window.__got[0]) });

    await page.evaluate((dest) => window.__client.publish({
      destination: dest, body: JSON.stringify({ from: "chromium" }),
      headers: { "content-type": "application/json", "x-pulse": "browser" },
    }), env.PUB_DEST);
    await page.screenshot({ path: path.join(env.ARTIFACTS, "stompjs.png") });
    say("published");
    await lines.next();
    await page.evaluate(() => window.__client.deactivate());
    say("done", { errors });
  } catch (e) {
    say("error", { error: String(e) });
  } finally {
    await browser.close();
  }
})();
