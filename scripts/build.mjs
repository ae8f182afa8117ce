// `npm run build [outDir]`: compiles the server's TypeScript to JavaScript (tsconfig.build.json,
// default outDir dist/) and copies beside it what the code reads at run time: every file of the
// source folders that is not TypeScript (SDL and operation documents, data files), and the
// knowledge parser's worker entry, which in the compiled build loads plain JavaScript instead of
// going through tsx. The gateway's entry, bin/gateway.js, is then replaced by its minified bundle
// (scripts/bundle-gateway.mjs), unless `--no-bundle` is given (the gateway benchmark compiles more
// into the folder first and bundles once after). Run it with `node dist/bin/xentree.js`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleGateway } from './bundle-gateway.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const out = path.resolve(root, args.find((arg) => !arg.startsWith('--')) ?? 'dist');
const bundle = !args.includes('--no-bundle');
const SOURCES = ['kernel', 'subgraphs', 'gateway', 'rest-compat', 'schema', 'bin'];

rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit', cwd: root });

/** Every file under `dir` (relative to the root) that is not TypeScript. */
function assetsUnder(dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return assetsUnder(rel);
    return /\.[cm]?ts$/.test(entry.name) ? [] : [rel];
  });
}

for (const file of SOURCES.flatMap((dir) => assetsUnder(dir))) {
  mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  copyFileSync(path.join(root, file), path.join(out, file));
}

writeFileSync(
  path.join(out, 'subgraphs/knowledge/parse.worker.mjs'),
  "// Entry of the parser worker in the compiled build (parser-pool.ts): the body is JavaScript here.\nawait import('./parse.worker.js');\n",
);

if (bundle) await bundleGateway(out);

const cli = path.join(out, 'bin/xentree.js');
writeFileSync(cli, readFileSync(cli, 'utf8').replace(/^#!.*\n/, '#!/usr/bin/env node\n'), { mode: 0o755 });
console.log(`built ${path.relative(root, out) || '.'}`);
