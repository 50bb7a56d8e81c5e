// End to end in headless Chromium (playwright-core from sdk/node_modules):
// a user signs up on a test site recorded by the real Veil SDK, then a
// viewer logs in to the dashboard, opens the session and plays it.
// Argument: {"chromium", "site", "veil", "email", "password", "sessions",
// "secrets": [..], "typed": [..], "shots": dir or ""}. Prints one JSON object.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cfg = JSON.parse(process.argv[2]);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../../sdk/package.json"));
const { chromium } = require("playwright-core");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = { requests: [], console: [], bodies: [], failed: [], step: "" };
const step = (s) => (out.step = s);

async function record() {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 620 } });
  const p = await ctx.newPage();
  p.on("pageerror", (e) => out.console.push("site pageerror: " + e.message));
  const ready = () => p.waitForFunction(() => window.veil && window.veil.status().recording, null, { timeout: 15000 });
  await p.goto(cfg.site + "/shop.html");
  await ready();
  await sleep(500);
  const [name, email, pw] = cfg.typed;
  await p.click("#name");
  await p.keyboard.type(name, { delay: 40 });
  await p.click("#email");
  await p.keyboard.type(email, { delay: 40 });
  await p.click("#pw");
  await p.keyboard.type(pw, { delay: 40 });
  await sleep(700);
  await p.click("#go");
  await sleep(1500);
  const sid = await p.evaluate(() => window.veil.getSessionId());
  await p.evaluate(() => window.veil.flush(15000));
  await Promise.all([p.waitForNavigation(), p.click("#cart")]);
  await ready();
  await sleep(600);
  await p.click("#pay");
  await sleep(1200);
  for (let i = 0; i < 20; i++) {
    await p.evaluate(() => window.veil.flush(15000));
    if ((await p.evaluate(() => window.veil.status())).queued === 0) break;
    await sleep(500);
  }
  out.sessionId = sid;
  out.sameSession = (await p.evaluate(() => window.veil.getSessionId())) === sid;
  await ctx.close();
}

// state reads the player's controls and panes.
const state = (page) =>
  page.evaluate(() => {
    const root = document.getElementById("player");
    const q = (s) => root.querySelector(s);
    const kinds = {};
    for (const m of root.querySelectorAll(".player-marks .mark")) {
      const k = [...m.classList].find((c) => c.startsWith("k-"));
      kinds[k] = (kinds[k] || 0) + 1;
    }
    return {
      state: root.dataset.state,
      loaded: root.dataset.loaded === "1",
      playing: root.dataset.playing === "1",
      speed: root.dataset.speed || "1",
      seeked: root.dataset.seeked === undefined ? -1 : Number(root.dataset.seeked),
      position: Number(q(".player-seek").value),
      max: Number(q(".player-seek").max),
      clock: q(".player-time").textContent,
      status: q(".player-status").textContent,
      marks: kinds,
      console: q(".player-console").innerText,
      network: q(".player-network").innerText,
      moments: q(".player-moments").innerText,
      nowConsole: (q(".player-console .now") || {}).textContent || "",
      meta: q(".player-meta").innerText,
      firstFrame: window.veilFirstFrame || -1,
    };
  });

// frame reads the replayed document.
const frame = (page) =>
  page.evaluate(() => {
    const f = document.querySelector(".player-stage iframe");
    const doc = f && f.contentDocument;
    if (!doc || !doc.body) return null;
    return {
      sandbox: f.getAttribute("sandbox"),
      inputs: [...doc.querySelectorAll("input")].map((i) => ({ id: i.id, type: i.type, value: i.value })),
      text: doc.body.innerText,
      html: doc.documentElement.outerHTML,
      blocked: doc.querySelectorAll(".rr-block, .veil-block").length,
    };
  });

const waitPlayer = (page) =>
  page.waitForFunction(() => {
    const r = document.getElementById("player");
    return r && r.dataset.state !== "loading" && r.dataset.loaded === "1";
  }, null, { timeout: 30000 });

try {
  step("record");
  await record();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: cfg.veil });
  const page = await ctx.newPage();
  const pending = [];
  page.on("request", (r) => out.requests.push(r.url()));
  page.on("response", (r) => r.status() >= 400 && out.failed.push(r.status() + " " + r.url()));
  page.on("response", (r) => pending.push(r.text().then((t) => out.bodies.push(r.url() + "\n" + t), () => {})));
  page.on("console", (m) => (m.type() === "error" || m.type() === "warning") && out.console.push(m.type() + ": " + m.text()));
  page.on("pageerror", (e) => out.console.push("pageerror: " + e.message));

  step("login");
  await page.goto(cfg.veil + "/login");
  await page.fill("#email", cfg.email);
  await page.fill("#password", cfg.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);

  step("list");
  // The packer makes the session visible a moment after the uploads.
  for (let i = 0; i < 60; i++) {
    await page.goto(cfg.veil + cfg.sessions);
    if ((await page.content()).includes(out.sessionId)) break;
    await sleep(500);
  }
  out.listed = (await page.content()).includes(out.sessionId);
  await sleep(2500); // the last packer round (segments and analytics batches)
  await page.goto(cfg.veil + cfg.sessions);
  if (cfg.shots) await page.screenshot({ path: join(cfg.shots, "sessions-recorded.png"), fullPage: true });

  step("open");
  // Open the session from the list and play it with the keyboard.
  await Promise.all([page.waitForNavigation(), page.click(`a[href$="/sessions/${out.sessionId}"]`)]);
  out.sessionURL = page.url();
  await waitPlayer(page);
  out.loaded = await state(page);
  // The stream itself, as the player got it (responses read by the page
  // are not available to the response hook above).
  out.replay = await page.evaluate(() => fetch(document.getElementById("player").dataset.src).then((r) => r.text()));
  await page.click(".player-stage"); // focus outside any control
  await page.keyboard.press("Space");
  await sleep(1500);
  out.playing = await state(page);
  await page.selectOption(".player-speed", "4");
  await sleep(1500);
  out.faster = await state(page);
  await page.click(".player-stage");
  // At 4× it may have reached the end already (and stopped by itself).
  if ((await state(page)).playing) await page.keyboard.press("Space");
  out.paused = await state(page);
  await page.keyboard.press("Home");
  const home = await state(page);
  await page.keyboard.press("ArrowRight");
  out.arrow = { from: home.position, to: (await state(page)).position, playing: (await state(page)).playing };
  await page.click(".player-copy");
  await sleep(200);
  out.copied = await page.evaluate(() => navigator.clipboard.readText().catch((e) => "clipboard: " + e));
  // Play to the end: every event is applied, then look at the document.
  await page.click(".player-stage");
  await page.keyboard.press("Space");
  out.resumed = await state(page);
  await page.waitForFunction(() => document.getElementById("player").dataset.playing !== "1", null, { timeout: 30000 });
  out.ended = await state(page);
  out.frameEnd = await frame(page);

  step("link");
  // A link to a moment: ?t= opens there, paused.
  await page.goto(out.sessionURL + "?t=3s");
  await waitPlayer(page);
  await page.waitForFunction(() => document.getElementById("player").dataset.seeked !== undefined, null, { timeout: 10000 });
  out.linked = await state(page);

  step("shot");
  // The screenshot: just after the sign-up click, on its own link.
  const go = await page.evaluate(() => {
    const start = Number(document.querySelector(".player-moments .moment").dataset.ts);
    const clicks = [...document.querySelectorAll(".player-moments .k-click .moment")].map((b) => Number(b.dataset.ts) - start);
    return clicks.length >= 4 ? clicks[3] : -1;
  });
  out.shotAt = go;
  // Millisecond precision: whole seconds could land up to 1.6 s after the
  // click, past the 1.5 s the sign-up page stays before the cart opens.
  await page.goto(out.sessionURL + "?t=" + ((go + 600) / 1000).toFixed(3) + "s");
  await waitPlayer(page);
  await page.waitForFunction(() => document.getElementById("player").dataset.seeked !== undefined, null, { timeout: 10000 });
  out.shot = await state(page);
  out.frameShot = await frame(page);
  if (cfg.shots) await page.screenshot({ path: join(cfg.shots, "player.png"), fullPage: true });
  out.dom = await page.content();
  await Promise.all(pending);
} catch (e) {
  out.error = out.step + ": " + String((e && e.stack) || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
