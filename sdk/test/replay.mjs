// Replays exported sessions in rrweb's Replayer inside headless Chromium.
// Argument: {"chromium": path, "files": {"name": "/path/events.json", ...}}.
// Prints {"name": {events, errors, text, maskedChars, blocked, blockedVisible}}.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const cfg = JSON.parse(process.argv[2]);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = await build({
  stdin: { contents: 'import { Replayer } from "@rrweb/replay"; window.Replayer = Replayer;', resolveDir: root },
  bundle: true,
  format: "iife",
  write: false,
  logLevel: "error",
});
const replayerJS = bundle.outputFiles[0].text;
let css = "";
try {
  css = readFileSync(join(root, "node_modules/@rrweb/replay/dist/style.css"), "utf8");
} catch (_) {
  /* optional */
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = {};
try {
  for (const [name, file] of Object.entries(cfg.files)) {
    const r = { errors: [] };
    out[name] = r;
    try {
      const events = JSON.parse(readFileSync(file, "utf8"));
      r.events = events.length;
      const page = await browser.newPage();
      page.on("pageerror", (e) => r.errors.push("pageerror: " + e.message));
      page.on("console", (m) => {
        if (/Failed to load resource/.test(m.text())) return; // the player has no network, by design
        if (m.type() === "error" || (m.type() === "warning" && /rrweb|Node with id|not found/i.test(m.text()))) r.errors.push(m.type() + ": " + m.text());
      });
      // The player page has no network: requests are refused.
      await page.route("**/*", (route) => (route.request().url().startsWith("data:") ? route.continue() : route.abort()));
      await page.setContent("<!doctype html><html><head><style>" + css + "</style></head><body><div id=root></div></body></html>");
      await page.addScriptTag({ content: replayerJS });
      Object.assign(
        r,
        await page.evaluate(async (events) => {
          const replayer = new window.Replayer(events, {
            root: document.getElementById("root"),
            mouseTail: false,
            triggerFocus: false,
            showWarning: true,
            UNSAFE_replayCanvas: false,
          });
          const meta = replayer.getMetaData();
          replayer.pause(meta.totalTime);
          await new Promise((res) => setTimeout(res, 300));
          const doc = replayer.iframe.contentDocument;
          const text = doc && doc.body ? doc.body.innerText : "";
          const blocked = doc ? Array.from(doc.querySelectorAll(".rr-block")) : [];
          const visible = blocked.filter((el) => {
            const b = el.getBoundingClientRect();
            const bg = doc.defaultView.getComputedStyle(el).backgroundColor;
            return b.width > 0 && b.height > 0 && bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent";
          });
          return {
            totalTime: meta.totalTime,
            text: text.slice(0, 4000),
            maskedChars: (text.match(/\*/g) || []).length,
            blocked: blocked.length,
            blockedVisible: visible.length,
          };
        }, events),
      );
      await page.close();
    } catch (e) {
      r.error = String((e && e.stack) || e);
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
