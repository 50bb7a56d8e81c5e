// Plays a session with a long idle stretch in headless Chromium, with
// "Skip inactivity" as the page has it (on). Argument: {"chromium", "base",
// "email", "password", "path"}. Prints what the player showed.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cfg = JSON.parse(process.argv[2]);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../../sdk/package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({ executablePath: cfg.chromium, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
const out = {};
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(cfg.base + "/login");
  await page.fill("#email", cfg.email);
  await page.fill("#password", cfg.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.goto(cfg.base + cfg.path);
  await page.waitForFunction(() => document.getElementById("player").dataset.loaded === "1", null, { timeout: 30000 });
  const read = () =>
    page.evaluate(() => {
      const r = document.getElementById("player");
      return {
        skip: r.querySelector(".player-skip").checked,
        skipped: Number(r.dataset.skipped || 0),
        playing: r.dataset.playing === "1",
        position: Number(r.querySelector(".player-seek").value),
        max: Number(r.querySelector(".player-seek").max),
        idle: r.querySelectorAll(".player-idle span").length,
      };
    });
  out.before = await read();
  await page.click(".player-play");
  // The idle minute goes by fast-forwarded: the player reaches the end.
  await page.waitForFunction(() => document.getElementById("player").dataset.playing !== "1", null, { timeout: 60000 });
  out.after = await read();
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
