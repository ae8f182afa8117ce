// The production gateway as one minified bundle: `bundleGateway(outDir)` writes bin/gateway.js
// (and the chunks it loads on demand) into a build made by scripts/build.mjs, in place of tsc's
// output for that entry. The gateway's own code and the packages it runs on, minified, hold about
// 10 MB less of V8's heap per replica than the same modules loaded one by one from node_modules
// (their sources stay in memory while they run; bench/RESULTS.md).
//
// What stays outside the bundle, loaded from node_modules as in the unbundled build:
//  - @opentelemetry/*: gateway/defer-vendor-telemetry.ts defers some of @apollo/gateway's requires
//    through Node's module cache, and the tracing SDK loads only when it is configured;
//  - ioredis: the tracing SDK instruments it by hooking `require`;
//  - NOT_RUN: packages that packages of the gateway `require` only on paths the gateway does not
//    take (Apollo's uplink and usage reporting, fastify's `inject`, …). A bundle holds the source
//    of every module in it whether it runs or not, and these with what they pull in are a quarter
//    of it (about 1.2 MB); outside, they cost nothing until something requires them. Found by
//    loading the unbundled gateway with a module hook (`module.registerHooks`) and listing the
//    packages in the bundle's metafile that it never loaded. Missing one costs memory, not function.
// A file of the project that finds its data through `import.meta.url` gets the URL of its own
// compiled file in the build (where scripts/build.mjs copies that data), not the bundle's.
import path from 'node:path';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOT_RUN = [
  '@apollo/utils.createhash',
  '@josephg/resolvable',
  'async-retry',
  'color-convert',
  'light-my-request',
  'make-fetch-happen',
  'node-abort-controller',
  'node-cpu-count',
  'node-fetch',
  'sha.js',
];
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const EXTERNAL = new RegExp(`^(?:@opentelemetry/[^/]+|ioredis|${NOT_RUN.map(escape).join('|')})(?:/.*)?$`);

/** `./x` or `../x`: a path relative to `from`, as an import specifier. */
function specifier(from, to) {
  const rel = path.relative(from, to).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Packages kept external: by name where the root's node_modules has that copy, else by path to the nested copy. */
function externals(outBin) {
  return {
    name: 'xentree-externals',
    setup(build) {
      build.onResolve({ filter: EXTERNAL }, async (args) => {
        if (args.pluginData?.external) return undefined;
        const resolve = (resolveDir) => build.resolve(args.path, { kind: args.kind, resolveDir, pluginData: { external: true } });
        const [found, fromRoot] = await Promise.all([resolve(args.resolveDir), resolve(ROOT)]);
        if (found.errors.length > 0) return { errors: found.errors };
        const hoisted = fromRoot.errors.length === 0 && fromRoot.path === found.path;
        return { path: hoisted ? args.path : specifier(outBin, found.path), external: true };
      });
    },
  };
}

/** `import.meta.url` in the project's own files: the URL of the file's compiled twin in the build. */
function ownFileUrls(out, outBin) {
  return {
    name: 'xentree-file-urls',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const rel = path.relative(ROOT, args.path);
        if (rel.startsWith('..') || rel.split(path.sep).includes('node_modules')) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const compiled = path.join(out, rel.replace(/\.ts$/, '.js'));
        const url = `new URL(${JSON.stringify(specifier(outBin, compiled))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/** Bundles bin/gateway.ts into `out`/bin/gateway.js (a build of scripts/build.mjs). */
export async function bundleGateway(out) {
  const outBin = path.join(out, 'bin');
  // tsc's source map of the entry this replaces.
  rmSync(path.join(outBin, 'gateway.js.map'), { force: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { gateway: path.join(ROOT, 'bin/gateway.ts') },
    outdir: outBin,
    // Beside the entry, so that every output file's `import.meta.url` is in the same folder.
    chunkNames: 'gateway-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.11',
    // Node's resolution, as the unbundled build loads the packages: the CommonJS `main` of a package
    // first, and no `module` condition in export maps (esbuild's own addition).
    mainFields: ['main', 'module'],
    conditions: [],
    minify: true,
    // Beside each file, for reading a minified stack trace (or `node --enable-source-maps`): the
    // positions in the project's TypeScript and the packages' files, without their text.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'external',
    // The CommonJS packages inside an ES module require Node's built-ins and the external packages.
    banner: { js: "import{createRequire as __xentreeRequire}from'node:module';const require=__xentreeRequire(import.meta.url);" },
    plugins: [externals(outBin), ownFileUrls(out, outBin)],
    logLevel: 'warning',
  });
}

// `node scripts/bundle-gateway.mjs OUT`: bundles again into a build whose bin/gateway.js was
// recompiled since (the gateway benchmark compiles its server beside the build).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleGateway(path.resolve(process.argv[2] ?? 'dist'));
}
