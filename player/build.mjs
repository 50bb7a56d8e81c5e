// Builds the dashboard's replay player (internal/web/static/player.js and
// player.css) with esbuild, from the rrweb packages pinned by the SDK's
// lock file (sdk/node_modules). Deterministic, like sdk/build.mjs:
//
//   node player/build.mjs            writes internal/web/static/
//   node player/build.mjs --out DIR  writes DIR instead (reproducibility check)
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sdk = join(here, "..", "sdk");
const require = createRequire(join(sdk, "package.json"));
const { build } = require("esbuild");
const i = process.argv.indexOf("--out");
const out = i > 0 ? process.argv[i + 1] : join(here, "..", "internal", "web", "static");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "src/player.ts")],
  nodePaths: [join(sdk, "node_modules")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2018",
  platform: "browser",
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  banner: { js: "/*! Veil replay player | Apache-2.0 | includes rrweb (MIT) */" },
  outfile: join(out, "player.js"),
});
// player.css: rrweb's rules, then the player's own (player/src/player.css).
const rr = readFileSync(join(sdk, "node_modules/@rrweb/replay/dist/style.min.css"), "utf8");
const own = readFileSync(join(here, "src/player.css"), "utf8");
writeFileSync(join(out, "player.css"), "/* rrweb (MIT) */\n" + rr.trim() + "\n" + own.trim() + "\n");
