// Time to first frame in headless Chromium: logs in, then opens each
// session page in a fresh tab and reads the player's timestamps
// (performance.now(), i.e. since navigation start).
// Argument: {"chromium", "base", "email", "password", "pages": [path, ...]}.
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
const out = { runs: [] };
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const login = await ctx.newPage();
  await login.goto(cfg.base + "/login");
  await login.fill("#email", cfg.email);
  await login.fill("#password", cfg.password);
  await Promise.all([login.waitForNavigation(), login.click("button[type=submit]")]);
  await login.close();
  for (const path of cfg.pages) {
    const page = await ctx.newPage();
    const errs = [];
    page.on("console", (m) => m.type() === "error" && errs.push(m.text()));
    page.on("pageerror", (e) => errs.push("pageerror: " + e.message));
    out.probe = () =>
      page.evaluate(() => {
        const r = document.getElementById("player");
        return { state: r.dataset.state, loaded: r.dataset.loaded, status: r.querySelector(".player-status").textContent, ff: window.veilFirstFrame, l: window.veilLoaded };
      });
    out.errs = errs;
    await page.goto(cfg.base + path, { waitUntil: "commit" });
    const seek = path.includes("?t=");
    await page.waitForFunction(
      (seek) => window.veilFirstFrame !== undefined && window.veilLoaded !== undefined && (!seek || window.veilSeeked !== undefined),
      seek,
      { timeout: 60000, polling: 50 },
    );
    out.runs.push(
      await page.evaluate(() => ({
        path: location.pathname + location.search,
        firstFrame: window.veilFirstFrame,
        loaded: window.veilLoaded,
        seeked: window.veilSeeked ?? -1,
        fetch: window.veilFetch,
        firstByte: window.veilFirstByte,
        domContentLoaded: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
        html: performance.getEntriesByType("navigation")[0].responseEnd,
        res: performance
          .getEntriesByType("resource")
          .map((r) => r.name.replace(/^.*\//, "") + " " + Math.round(r.startTime) + "→" + Math.round(r.responseStart) + "→" + Math.round(r.responseEnd))
          .join(", "),
        status: document.querySelector(".player-status").textContent,
        total: document.querySelector(".player-time").textContent,
      })),
    );
    await page.close();
  }
} catch (e) {
  out.error = String((e && e.stack) || e);
  if (out.probe) out.error += " " + JSON.stringify(await out.probe().catch((e) => String(e))) + " " + out.errs.join("; ");
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
