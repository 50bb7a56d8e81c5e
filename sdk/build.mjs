// Builds dist/ from src/ with esbuild. Deterministic: the same lock file
// gives the same bytes (checked by `make sdk-check` and sdk's Go tests).
//
//   node build.mjs            writes dist/
//   node build.mjs --out DIR  writes DIR instead (the reproducibility check)
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf("--out");
const out = i > 0 ? process.argv[i + 1] : join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  target: "es2018",
  platform: "browser",
  legalComments: "none",
  charset: "utf8",
  sourcemap: false,
  logLevel: "warning",
  define: { __VEIL_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: `/*! Veil browser SDK ${pkg.version} | Apache-2.0 | includes rrweb (MIT) */` },
};

await build({ ...common, entryPoints: [join(root, "src/global.ts")], format: "iife", outfile: join(out, "veil.js") });
await build({ ...common, entryPoints: [join(root, "src/module.ts")], format: "esm", outfile: join(out, "veil.mjs") });
copyFileSync(join(root, "src/veil.d.ts"), join(out, "veil.d.ts"));
writeFileSync(join(out, "VERSION"), pkg.version + "\n");
