// Drives the dashboard's replay player in headless Chromium (playwright-core
// from sdk/node_modules). Argument: {"chromium", "base", "email", "password",
// "before": pages visited logged out, "pages": [{"name", "path", "player": bool,
// "fill", "select", "click", "waitFor", "read", "shot", "shotOf", "top"}], "shots": dir or ""}.
// Prints {"name": {status, headers, requests, consoleErrors, player: {...}}}.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cfg = JSON.parse(process.argv[2]);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../../sdk/package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = {};
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  let current = null;
  page.on("request", (r) => current && current.requests.push(r.url()));
  page.on("console", (m) => current && (m.type() === "error" || m.type() === "warning") && current.console.push(m.type() + ": " + m.text()));
  page.on("pageerror", (e) => current && current.console.push("pageerror: " + e.message));
  // Pages to visit before logging in (the log-in page itself, the MFA
  // step of another account).
  for (const p of cfg.before || []) await visit(p);
  await page.goto(cfg.base + "/login");
  await page.fill("#email", cfg.email);
  await page.fill("#password", cfg.password);
  const [login] = await Promise.all([page.waitForNavigation(), page.click("form[action=\"/login\"] button[type=submit]")]);
  if (!/\/account|\/orgs/.test(page.url())) throw new Error("log-in failed: " + (login && login.status()) + " " + page.url() + " " + (await page.content()).replace(/[\s\S]*<main[^>]*>/, "").slice(0, 400));
  for (const p of cfg.pages) await visit(p);

  // visit opens p.path, plays the player if p.player, fills and clicks
  // what p says, reads p.read's text and takes the screenshot p.shot (of
  // the element p.shotOf, the first screenful if p.top, else the whole page).
  async function visit(p) {
    const r = { requests: [], console: [] };
    current = r;
    out[p.name] = r;
    const resp = await page.goto(cfg.base + p.path);
    r.status = resp.status();
    r.headers = resp.headers();
    r.url = page.url();
    r.title = await page.title();
    if (p.player) {
      try {
        await page.waitForFunction(() => document.getElementById("player").dataset.state !== "loading", null, { timeout: 20000 });
      } catch (e) {
        r.error = String(e) + " at " + page.url() + ": " + (await page.content()).slice(0, 3000);
        current = null;
        return;
      }
      r.player = await page.evaluate(() => {
        const el = document.getElementById("player");
        return { state: el.dataset.state, firstFrameMs: Number(el.dataset.firstFrameMs || -1), status: el.querySelector(".player-status").textContent };
      });
      if (r.player.state === "ready") {
        r.player.loadedAtReady = await page.evaluate(() => document.getElementById("player").dataset.loaded === "1");
        if (p.release) await fetch(p.release);
        await page.waitForFunction(() => document.getElementById("player").dataset.loaded === "1", null, { timeout: 60000 });
        r.player.events = await page.evaluate(() => document.querySelector(".player-status").textContent);
        await page.click(".player-play");
        await page.waitForTimeout(p.playMs || 2500);
        Object.assign(
          r.player,
          await page.evaluate(() => {
            const f = document.querySelector(".player-stage iframe");
            const doc = f && f.contentDocument;
            const win = f && f.contentWindow;
            const text = doc && doc.body ? doc.body.innerText : "";
            const blocked = doc ? Array.from(doc.querySelectorAll(".rr-block, .veil-block")) : [];
            return {
              sandbox: f ? f.getAttribute("sandbox") : null,
              pwnedTop: window.VEIL_PWNED === undefined ? null : String(window.VEIL_PWNED),
              pwnedFrame: win && win.VEIL_PWNED !== undefined ? String(win.VEIL_PWNED) : null,
              scripts: doc ? doc.querySelectorAll("script").length : -1,
              elements: doc ? doc.querySelectorAll("*").length : 0,
              text: text.slice(0, 2000),
              maskedChars: (text.match(/\*/g) || []).length,
              blocked: blocked.length,
              blockedGray: blocked.filter((b) => {
                const bg = doc.defaultView.getComputedStyle(b).backgroundColor;
                return bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent";
              }).length,
            };
          }),
        );
        if (p.probe) {
          // The second wall: even what the sanitizer might miss, put
          // straight into the replayed document, must not reach the
          // network (the player page's CSP, inherited by the iframe).
          r.player.probe = await page.evaluate(async (probe) => {
            const out = { violations: 0 };
            const f = document.querySelector(".player-stage iframe");
            const doc = f.contentDocument;
            doc.addEventListener("securitypolicyviolation", () => out.violations++);
            document.addEventListener("securitypolicyviolation", () => out.violations++);
            const img = doc.createElement("img");
            img.src = probe + "/probe-img";
            doc.body.appendChild(img);
            const link = doc.createElement("link");
            link.rel = "stylesheet";
            link.href = probe + "/probe-css";
            doc.head.appendChild(link);
            const st = doc.createElement("style");
            st.textContent = "body{background:url(" + probe + "/probe-bg)}@font-face{font-family:p;src:url(" + probe + "/probe-font)}body{font-family:p}";
            doc.head.appendChild(st);
            const sc = doc.createElement("script");
            sc.src = probe + "/probe-script";
            doc.head.appendChild(sc);
            try {
              await fetch(probe + "/probe-fetch", { mode: "no-cors" });
              out.fetched = true;
            } catch (e) {
              out.fetched = false;
            }
            await new Promise((res) => setTimeout(res, 800));
            return out;
          }, p.probe);
        }
        // Clicks in the replay must not navigate anywhere.
        await page.mouse.click(300, 300);
        await page.waitForTimeout(300);
      }
    }
    // Form interaction before the screenshot: fill, select, click, wait, read.
    for (const [sel, v] of Object.entries(p.fill || {})) await page.fill(sel, v);
    for (const [sel, v] of Object.entries(p.select || {})) await page.selectOption(sel, v);
    if (p.click) await page.click(p.click);
    if (p.waitFor) await page.waitForSelector(p.waitFor, { state: "visible", timeout: 15000 });
    if (p.read) r.text = await page.evaluate((sel) => document.querySelector(sel).textContent, p.read);
    if (cfg.shots && p.shot) {
      if (p.shotOf) {
        // The element with a margin of the page around it.
        const b = await page.locator(p.shotOf).boundingBox();
        const y = await page.evaluate(() => window.scrollY);
        const m = 24;
        const clip = { x: Math.max(0, b.x - m), y: Math.max(0, b.y + y - 4), width: b.width + 2 * m, height: b.height + m + 4 };
        await page.screenshot({ path: join(cfg.shots, p.shot), fullPage: true, clip });
      } else await page.screenshot({ path: join(cfg.shots, p.shot), fullPage: !p.top });
    }
    current = null;
  }
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
