// Builds the console into the server's wwwroot (committed, so `dotnet run` serves it with only the .NET SDK):
// app.js (esbuild bundle of src/main.ts and the clients/js source it imports), app.css, index.html and silent.html (where
// a silent OIDC re-sign-in's hidden frame comes back).
// `node build.mjs --check` rebuilds in memory and fails unless the committed files are byte for byte the same and the
// bundle stays under 150 kB gzipped (./test.sh runs it).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const wwwroot = resolve(here, "../../src/AuditStream.Server/wwwroot");
const check = process.argv.includes("--check");
const LIMIT_GZIPPED = 150 * 1024;

// Deterministic output: no source map, no legal comments, no metafile, no timestamps; the same esbuild version
// (pinned in package-lock.json) gives the same bytes from the same source.
const result = await build({
  absWorkingDir: here,
  entryPoints: ["src/main.ts", "static/app.css"],
  bundle: true,
  format: "esm",
  // light-dark() (the theme) needs Chrome 123, Firefox 120, Safari 17.5; WebCrypto Ed25519 (Verify) is newer still.
  target: ["es2022", "chrome123", "firefox120", "safari17.5"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  sourcemap: false,
  write: false,
  outdir: "out",
  entryNames: "[name]",
  logLevel: "warning",
});

const files = new Map(["index.html", "silent.html"].map((name) => [name, readFileSync(join(here, "static", name))]));
for (const output of result.outputFiles) {
  const name = output.path.endsWith(".css") ? "app.css" : "app.js";
  files.set(name, Buffer.from(output.contents));
}

let total = 0;
const problems = [];
for (const [name, contents] of files) {
  const target = join(wwwroot, name);
  total += gzipSync(contents, { level: 9 }).length;
  if (check) {
    if (!existsSync(target)) {
      problems.push(`${name} is missing from ${wwwroot}`);
    } else if (!readFileSync(target).equals(contents)) {
      problems.push(`${name} differs from a build of the source (${readFileSync(target).length} bytes committed, ${contents.length} built)`);
    }
  } else {
    mkdirSync(wwwroot, { recursive: true });
    writeFileSync(target, contents);
  }
}

const kb = (total / 1024).toFixed(1);
if (total > LIMIT_GZIPPED) {
  problems.push(`the console is ${kb} kB gzipped, over the 150 kB budget`);
}

if (problems.length) {
  console.error(`console bundle check failed:\n- ${problems.join("\n- ")}\nRun "cd clients/dashboard && npm run build" and commit src/AuditStream.Server/wwwroot.`);
  process.exit(1);
}

console.log(`${check ? "console bundle reproducible" : "console built"}: ${[...files.keys()].join(", ")} in ${wwwroot}, ${kb} kB gzipped`);
