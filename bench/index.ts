/**
 * Benchmarks (not tests): `npm run bench -- <name>`. Each prints its figures, with ratios against
 * a baseline measured in the same run.
 */
const BENCHES: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  gateway: () => import('./gateway.bench.ts'),
  fanout: () => import('./fanout.bench.ts'),
  stream: () => import('./stream.bench.ts'),
  knowledge: () => import('./knowledge.bench.ts'),
  auth: () => import('./auth.bench.ts'),
  gateways: () => import('./gateways.bench.ts'),
  integrations: () => import('./integrations.bench.ts'),
  live: () => import('./live.bench.ts'),
  learning: () => import('./learning.bench.ts'),
  footprint: () => import('./footprint.bench.ts'),
};

const name = process.argv[2];
const load = name ? BENCHES[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
  process.exit(2);
}
const mod = await load();
await mod.run();
