/**
 * The production build and its deployment files: `scripts/build.mjs` compiles the server to
 * JavaScript that starts with plain `node` (no tsx) and serves a real request path (an upload
 * parsed in the knowledge worker); the Dockerfile runs that build on a pinned Node.js LTS as a
 * non-root user with a healthcheck; docker-compose.yml runs every subgraph there is and passes the
 * whole configuration through `.env`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_ENV } from '../bench/compiled.ts';
import { SUBGRAPHS } from '../subgraphs/index.ts';
import { newUser, testEnv } from './harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('the compiled build', () => {
  // Inside the repository so that the build resolves node_modules and package.json's "type".
  const out = mkdtempSync(path.join(ROOT, '.dist-test-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xentree-build-'));
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';
  let url = '';

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), out], { cwd: ROOT, stdio: 'pipe' });
    child = spawn(process.execPath, [path.join(out, 'bin/xentree.js'), 'start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...testEnv({ PORT: '0', XENTREE_DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const banner = new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /GraphQL \(HTTP \+ WebSocket\): (http:\/\/\S+)\/graphql/.exec(output);
        if (match?.[1]) resolve(match[1]);
      };
      child?.stdout?.on('data', onData);
      child?.stderr?.on('data', onData);
      child?.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    url = await banner;
  });

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('imports no tsx and keeps the files it reads beside the code (SDL, data)', () => {
    const js = filesUnder(out).filter((f) => /\.(m?js)$/.test(f));
    expect(js.filter((f) => /from ['"]tsx|import\(['"]tsx/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(out, f))).toEqual([]);
    expect(readFileSync(path.join(out, 'bin/xentree.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    for (const s of SUBGRAPHS) expect(filesUnder(path.join(out, 'subgraphs', s.name)).some((f) => f.endsWith('schema.graphql')), s.name).toBe(true);
    const assets = (dir: string) => filesUnder(path.join(ROOT, dir)).filter((f) => !/\.[cm]?ts$/.test(f)).map((f) => path.relative(ROOT, f));
    const sources = ['kernel', 'subgraphs', 'gateway', 'rest-compat', 'schema', 'bin'].flatMap(assets);
    expect(sources.filter((f) => !existsSync(path.join(out, f)))).toEqual([]);
  });

  it("runs the gateway role from one minified bundle that loads none of the project's compiled modules", () => {
    const bundle = readdirSync(path.join(out, 'bin')).filter((f) => /^gateway(-[A-Z0-9]+)?\.js$/.test(f));
    expect(bundle).toContain('gateway.js');
    expect(bundle.length).toBeGreaterThan(1); // the chunks loaded on demand
    const imported = bundle.flatMap((f) => [...readFileSync(path.join(out, 'bin', f), 'utf8').matchAll(/(?:from|import\(|require\()\s*"(\.\.?\/[^"]+)"/g)].map((m) => m[1]));
    // Only its own chunks, and the copies of the packages kept outside it that are nested in node_modules.
    expect(imported.filter((spec) => !/^\.\/gateway-[A-Z0-9]+\.js$/.test(spec ?? '') && !/^(\.\.\/)+node_modules\//.test(spec ?? ''))).toEqual([]);
    // Every file has its source map, the entry's esbuild's of the modules in it (tsc's named one file).
    expect(bundle.filter((f) => !existsSync(path.join(out, 'bin', `${f}.map`)))).toEqual([]);
    const map = JSON.parse(readFileSync(path.join(out, 'bin/gateway.js.map'), 'utf8')) as { sources: string[] };
    expect(map.sources).toContain('../../bin/gateway.ts');
    expect(map.sources.length).toBeGreaterThan(1);
    // Minified: long lines (tsc's output averages under 60 characters a line).
    const entry = readFileSync(path.join(out, 'bin/gateway.js'), 'utf8');
    expect(entry.length / entry.split('\n').length).toBeGreaterThan(200);
  });

  it('starts with plain node, answers health and parses an upload in its worker, and stops on SIGTERM', async () => {
    expect(await (await fetch(`${url}/api/health`)).json()).toEqual({ status: 'ok' });
    const user = newUser('build');
    expect((await fetch(`${url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) })).status).toBe(201);
    const login = await fetch(`${url}/api/auth/login`, { method: 'POST', body: new URLSearchParams({ username: user.username, password: user.password }) });
    const { access_token } = (await login.json()) as { access_token: string };
    const form = new FormData();
    form.set('file', new Blob(['Vacation policy: twenty days a year.'], { type: 'text/plain' }), 'policy.txt');
    const upload = await fetch(`${url}/api/knowledge/documents`, { method: 'POST', headers: { authorization: `Bearer ${access_token}` }, body: form });
    expect(upload.status).toBe(201);
    expect(await upload.json()).toMatchObject({ filename: 'policy.txt', content_type: 'text/plain', chunk_count: 1 });

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('the production image', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds in stages from one Node.js LTS release pinned exactly', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/m.exec(dockerfile);
    expect(image).not.toBeNull();
    expect(Number(image?.[1]) % 2).toBe(0); // LTS lines are the even majors
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.split('\n')[0]).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
  });

  it('runs compiled JavaScript with production dependencies only, as a non-root user, with a healthcheck', () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(runtime).toMatch(/^COPY --from=deps \/app\/node_modules \.\/node_modules$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "dist\/bin\/xentree\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx/);
  });

  it('gives every process the memory settings the benchmarks measure it with, and they read them from here', () => {
    expect(runtime).toMatch(/^ENV MALLOC_ARENA_MAX=2$/m);
    expect(runtime).toMatch(/^ENV NODE_OPTIONS=--max-semi-space-size=8$/m);
    expect(IMAGE_ENV).toEqual({ NODE_ENV: 'production', MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=8' });
  });
});

describe('docker-compose.yml', () => {
  const compose = read('docker-compose.yml');

  it('runs every subgraph there is, which the gateway waits for and every process finds', () => {
    const gateway = compose.slice(compose.indexOf('\n  gateway:'));
    for (const { name } of SUBGRAPHS) {
      expect(compose, name).toContain(`command: ["subgraph", "${name}"]`);
      expect(compose, name).toMatch(new RegExp(`^  SUBGRAPH_${name.toUpperCase()}_URL: http://${name}:\\d+$`, 'm'));
      expect(gateway, name).toMatch(new RegExp(`^      ${name}:\\n        condition: service_healthy$`, 'm'));
    }
  });

  it('passes the whole configuration through .env and pins its other images exactly', () => {
    expect(compose).toMatch(/^x-xentree-service: &xentree-service\n(?: {2}.*\n)*? {2}env_file:\n {4}- path: \.env\n {6}required: true$/m);
    const xentree = [...compose.matchAll(/^ {2}([a-z]+):\n(?: {4}#.*\n)* {4}<<: \*xentree-service$/gm)].map((m) => m[1]);
    expect(xentree).toEqual(expect.arrayContaining(['migrate', 'gateway', ...SUBGRAPHS.map((s) => s.name)]));
    for (const [, image] of compose.matchAll(/^ {4}image: (\S+)$/gm)) expect(image).toMatch(/^(?:[a-z]+\/)?[a-z][a-z-]*:\d+\.\d+(\.\d+)?(@sha256:[0-9a-f]{64})?$|^xentree-graph:local$/);
  });
});
