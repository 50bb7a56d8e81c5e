// Drives headless Chromium through the SDK's browser scenarios. Started by
// sdk/browser_test.go with one JSON argument:
//   {"chromium": "/usr/bin/chromium", "site": "http://127.0.0.1:A", "host": "http://127.0.0.1:B",
//    "scenarios": ["adversarial", ...]}
// and prints one JSON object: {"<scenario>": {...result...}}. Assertions on
// captured bytes and stored data are made by the Go test; this script
// reports what the page saw.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const cfg = JSON.parse(process.argv[2]);
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const browser = await chromium.launch({ executablePath: cfg.chromium, args });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = {};

async function newPage(init) {
  const ctx = await browser.newContext();
  if (init) await ctx.addInitScript(init);
  const page = await ctx.newPage();
  const r = { pageErrors: [], cspViolations: [], consoleErrors: [], requests: 0 };
  page.on("pageerror", (e) => r.pageErrors.push(String(e.message || e)));
  page.on("console", (m) => {
    if (m.type() === "error") r.consoleErrors.push(m.text());
  });
  page.on("request", (req) => {
    if (req.url().startsWith(cfg.host + "/v1/")) r.requests++;
  });
  await page.exposeFunction("__cspViolation", (v) => r.cspViolations.push(v));
  await ctx.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(e.violatedDirective + " " + e.blockedURI));
  });
  return { ctx, page, r };
}

async function waitRecording(page) {
  await page.waitForFunction(() => window.veil && window.veil.status().recording, null, { timeout: 15000 });
}

const status = (page) => page.evaluate(() => window.veil.status());
const mode = (m) => fetch(cfg.site + "/__mode?m=" + m, { method: "POST" });
const attempts = async (m) => (await fetch(cfg.site + "/__attempts?m=" + m, { method: "POST" })).json();

const scenarios = {
  async adversarial(prefix = "") {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + prefix + "/adversarial.html?email=url.canary@example.com&token=ZQXURLQUERY#ZQXURLFRAG");
    await waitRecording(page);
    await page.mouse.move(20, 20);
    await page.mouse.move(200, 150, { steps: 10 });
    await page.click("#typed");
    await page.keyboard.type("Zqx ZQXTYPED typed.canary@example.com");
    await page.click("#typedpw");
    await page.keyboard.type("ZQXTYPEDPW");
    await page.click("#pasted");
    await page.keyboard.insertText("ZQXPASTED 4916 3728 1904 5533");
    await page.evaluate(() => {
      // A real paste event with clipboard data, as a user's Ctrl+V fires it.
      const el = document.getElementById("pasted");
      const dt = new DataTransfer();
      dt.setData("text/plain", "ZQXCLIPBOARD");
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true }));
      el.value += "ZQXCLIPBOARD";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page.click("#text");
    await page.keyboard.type(" ZQXTYPEDMORE");
    await page.click("#ta");
    await page.keyboard.type(" ZQXTYPEDAREA 4026 1739 8465 1205");
    await page.click("#ce");
    await page.keyboard.type(" ZQXTYPEDEDIT");
    await page.selectOption("#sel", "ZQXOPTVALUE");
    await page.setInputFiles("#file", { name: "ZQXFILENAME.txt", mimeType: "text/plain", buffer: Buffer.from("x") });
    await page.click("#shadowhost input");
    await page.keyboard.type(" ZQXSHADOWTYPED");
    const frame = page.frame({ url: /frame\.html/ });
    if (frame) {
      await frame.click("#fi");
      await page.keyboard.type(" ZQXFRAMETYPED");
    }
    await page.evaluate(async () => {
      console.error("Payment failed for card 6011 9876 5432 1019, user console.canary@example.com token=ZQXCONSOLETOKEN");
      console.warn("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJaUVhKV1QifQ.c2lnbmF0dXJlWlFY expired", { email: "warn.canary@example.com", ssn: "078-05-1120" });
      console.log("ZQXCONSOLELOG not captured at level log");
      setTimeout(() => {
        throw new Error("Uncaught for thrown.canary@example.com");
      }, 0);
      await fetch("/api/echo?email=fetch.canary@example.com&t=ZQXFETCHQUERY#ZQXFETCHFRAG", {
        method: "POST",
        headers: { Authorization: "Bearer ZQXFETCHAUTH", "X-Api-Key": "ZQXFETCHKEY", "Content-Type": "application/json" },
        body: JSON.stringify({ card: "4539 1488 0343 6467", note: "ZQXFETCHBODY" }),
      }).then((res) => res.text());
      await new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.open("POST", "/api/echo?user=ZQXXHRQUERY");
        x.setRequestHeader("Authorization", "Bearer ZQXXHRAUTH");
        x.onloadend = resolve;
        x.send("secret=ZQXXHRBODY");
      });
      await fetch("/api/missing/ZQX-not-a-pii-path?x=ZQXFETCH404").catch(() => {});
    });
    await sleep(700); // late mutations at +300 ms, the uncaught error
    r.status = await status(page);
    await page.evaluate(() => window.veil.flush(15000));
    r.after = await status(page);
    r.sessionId = r.after.sessionId;
    await ctx.close();
    return r;
  },

  async iframes() {
    return scenarios.adversarial("/v/iframes");
  },

  // Leaving the page right after interacting: the pagehide beacon carries it.
  async unload() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + "/app.html");
    await waitRecording(page);
    await page.click("#add");
    await page.click("#q");
    await page.keyboard.type("ZQXUNLOADTYPED");
    r.sessionId = (await status(page)).sessionId;
    r.sentBefore = (await status(page)).sent;
    await page.goto("about:blank");
    await sleep(1500);
    await ctx.close();
    return r;
  },

  // Global Privacy Control on: nothing is recorded or sent.
  async gpc() {
    const { ctx, page, r } = await newPage(() => {
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });
    });
    await page.goto(cfg.site + "/app.html");
    await page.waitForFunction(() => window.veil && window.veil.status().reason !== "not-initialised");
    await page.click("#add");
    await sleep(1200);
    r.status = await status(page);
    await ctx.close();
    return r;
  },

  // Consent mode: nothing until optIn(), nothing again after optOut().
  async consent() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + "/v/consent/app.html");
    await page.waitForFunction(() => window.veil && window.veil.status().reason !== "not-initialised");
    await page.evaluate(() => window.veil.track("Should Not Send", {}));
    await page.click("#add");
    await sleep(800);
    r.before = await status(page);
    r.requestsBefore = r.requests;
    await page.evaluate(() => window.veil.optIn());
    await waitRecording(page);
    await page.click("#add");
    await page.evaluate(() => window.veil.track("Consented", { plan: "pro" }));
    await page.evaluate(() => window.veil.flush(15000));
    r.afterOptIn = await status(page);
    r.sessionId = r.afterOptIn.sessionId;
    await page.evaluate(() => window.veil.optOut());
    r.afterOptOut = await status(page);
    await page.reload();
    await page.waitForFunction(() => window.veil && window.veil.status().reason !== "not-initialised");
    r.requestsBeforeReload = r.requests;
    await page.click("#add");
    await sleep(800);
    r.afterReload = await status(page);
    r.requestsAfterReload = r.requests;
    await ctx.close();
    return r;
  },

  // Server down / 429 / 503: backoff, bounded queue, the page keeps working.
  async failure() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + "/v/fast/app.html");
    await waitRecording(page);
    await page.evaluate(() => window.veil.flush(10000));
    r.phases = {};
    for (const m of ["503", "429", "down"]) {
      await mode(m);
      const t0 = Date.now();
      // Lots of DOM work while uploads fail.
      const pageWork = await page.evaluate(async () => {
        let worst = 0;
        for (let i = 0; i < 40; i++) {
          const t = performance.now();
          for (let j = 0; j < 25; j++) window.appTick();
          worst = Math.max(worst, performance.now() - t);
          await new Promise((res) => setTimeout(res, 50));
        }
        return worst;
      });
      await sleep(1500);
      // The backoff left by the previous phase (up to 8 s after a third
      // failure of the same upload) can outlast this one: wait for the
      // first attempt in this mode, within the longest backoff.
      while ((await attempts(m)) === 0 && Date.now() - t0 < 90000) await sleep(100);
      const st = await status(page);
      r.phases[m] = { status: st, ms: Date.now() - t0, worstTickMs: pageWork, responsive: await page.evaluate(() => 1 + 1) === 2 };
    }
    await mode("ok");
    // Recovery queues a fresh full snapshot (the SDK re-snapshots after
    // dropped uploads) and flush() waits for it too; flush until the queue
    // is empty instead of asserting on the first try, as a slow CI machine
    // may still be in a backoff delay.
    for (let i = 0; i < 30; i++) {
      await page.evaluate(() => window.veil.flush(60000));
      r.recovered = await status(page);
      if (r.recovered.queued === 0) break;
      await sleep(1000);
    }
    r.sessionId = r.recovered.sessionId;
    await ctx.close();
    return r;
  },

  // Budgets: main-thread cost of 1,000 mutations and of a full snapshot of
  // a 5,000-node page, with and without the SDK; upload bytes per minute.
  async bench() {
    const r = {};
    const taskMs = async (cdp) => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      return 1000 * metrics.find((m) => m.name === "TaskDuration").value;
    };
    for (const withSdk of [false, true]) {
      const { ctx, page } = await newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.goto(cfg.site + "/bench.html");
      await page.evaluate(() => window.buildBig(5000));
      let snapshotMs = 0;
      if (withSdk) {
        await page.evaluate(([h, k]) => window.loadVeil(h, k), [cfg.host, cfg.key1]);
        await waitRecording(page);
        // veil.reset() starts a new session: stop, then a synchronous full snapshot.
        const runs = [];
        for (let i = 0; i < 5; i++) {
          runs.push(await page.evaluate(() => {
            const t = performance.now();
            window.veil.reset();
            return performance.now() - t;
          }));
          await page.evaluate(() => window.veil.flush(10000));
        }
        runs.sort((a, b) => a - b);
        snapshotMs = runs[2];
        // The same page under bare @rrweb/record (default options), for comparison.
        const rr = await build({
          stdin: { contents: 'import { record } from "@rrweb/record"; window.rrRecord = record;', resolveDir: join(dirname(fileURLToPath(import.meta.url)), "..") },
          bundle: true, format: "iife", write: false, logLevel: "error",
        });
        const ctx2 = await browser.newContext({ bypassCSP: true }); // the test injects the bundle inline
        const p2 = await ctx2.newPage();
        await p2.goto(cfg.site + "/bench.html");
        await p2.evaluate(() => window.buildBig(5000));
        await p2.addScriptTag({ content: rr.outputFiles[0].text });
        const rrRuns = [];
        for (let i = 0; i < 5; i++) {
          rrRuns.push(await p2.evaluate(() => {
            let n = 0;
            const t = performance.now();
            const stop = window.rrRecord({ emit: (e) => { n += JSON.stringify(e).length; } });
            const ms = performance.now() - t;
            stop();
            return ms;
          }));
        }
        rrRuns.sort((a, b) => a - b);
        r.rrwebAloneFullSnapshotMs = rrRuns[2];
        await ctx2.close();
        r.nodes = await page.evaluate(() => document.getElementsByTagName("*").length + document.querySelectorAll("#big span, #big a").length);
      }
      const per = [];
      for (let i = 0; i < 7; i++) {
        const t0 = await taskMs(cdp);
        await page.evaluate(async () => {
          window.mutate(1000);
          await new Promise((res) => setTimeout(res, 50)); // let the MutationObserver run
        });
        per.push((await taskMs(cdp)) - t0);
      }
      per.sort((a, b) => a - b);
      r[withSdk ? "with" : "without"] = { mutations1000Ms: per[3], fullSnapshotMs: snapshotMs };
      await ctx.close();
    }
    // A minute of a typical app page: list updates, clicks, typing, scrolling, mouse.
    const { ctx, page } = await newPage();
    await page.goto(cfg.site + "/app.html");
    await waitRecording(page);
    await fetch(cfg.site + "/__bytes?reset=1", { method: "POST" });
    const t0 = Date.now();
    let i = 0;
    while (Date.now() - t0 < cfg.benchSeconds * 1000) {
      i++;
      await page.mouse.move(50 + (i * 37) % 600, 50 + (i * 53) % 400, { steps: 5 });
      if (i % 2 === 0) await page.click("#add");
      if (i % 5 === 0) {
        await page.click("#q");
        await page.keyboard.type("order " + i);
      }
      if (i % 7 === 0) await page.evaluate(() => window.appTick());
      await sleep(1000);
    }
    await page.evaluate(() => window.veil.flush(15000));
    const bytes = await (await fetch(cfg.site + "/__bytes", { method: "POST" })).json();
    r.minute = { seconds: (Date.now() - t0) / 1000, ...bytes };
    await ctx.close();
    return r;
  },

  // A page with opted-in text, a console warning and a fetch: what is
  // recorded depends on the project's server settings (GET /v1/sdk/config).
  async serverconfig() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + "/config.html");
    await waitRecording(page);
    await page.evaluate(async () => {
      console.warn("CONSOLE-CONFIG-MARK");
      await fetch("/api/echo?config=1").then((res) => res.text());
    });
    await page.evaluate(() => window.veil.flush(15000));
    r.status = await status(page);
    r.sessionId = r.status.sessionId;
    await ctx.close();
    return r;
  },

  // The config endpoint fails (the Go test sets mode "config-down"): the
  // SDK must record no replay on this page load, tracking continues.
  async configfailed() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.site + "/config.html");
    await page.waitForFunction(() => window.veil && window.veil.status().config === "failed", null, { timeout: 15000 });
    await page.evaluate(() => window.veil.track("Config Failed"));
    await page.evaluate(() => window.veil.flush(15000));
    r.status = await status(page);
    await ctx.close();
    return r;
  },

  // The /sdk/demo page of the server itself (strict CSP, SRI, same origin).
  async demo() {
    const { ctx, page, r } = await newPage();
    await page.goto(cfg.veil + "/sdk/demo?key=" + encodeURIComponent(cfg.key));
    await waitRecording(page);
    await page.fill("input[name=email]", "demo.canary@example.com");
    await page.click("#track");
    await page.evaluate(() => window.veil.flush(15000));
    r.status = await status(page);
    r.sessionId = r.status.sessionId;
    await ctx.close();
    return r;
  },
};

try {
  for (const name of cfg.scenarios) {
    try {
      out[name] = await scenarios[name]();
    } catch (e) {
      out[name] = { error: String((e && e.stack) || e) };
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
