#!/usr/bin/env -S npx tsx
/**
 * The `xentree` CLI: start | gateway | subgraph <name> | compose | migrate.
 *
 * Hands the command to its entry before loading anything else: `gateway` to bin/gateway.ts, which
 * the production build runs as one minified bundle (scripts/bundle-gateway.mjs), every other
 * command to bin/cli.ts.
 */
const argv = process.argv.slice(2);
if (argv[0] === 'gateway') await (await import('./gateway.ts')).main();
else await (await import('./cli.ts')).main(argv);
