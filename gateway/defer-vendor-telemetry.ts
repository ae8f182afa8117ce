/**
 * Importing this module before `@apollo/gateway` (gateway/server.ts does, first) keeps Apollo's
 * usage-reporting stack out of memory while it is off.
 *
 * `@apollo/gateway` requires, when it loads (dist/utilities/opentelemetry.js), the OpenTelemetry
 * metrics SDK, its OTLP/HTTP exporter and four cloud resource detectors (AWS, GCP, Azure, Alibaba,
 * with their HTTP clients and Google's auth libraries). It uses them only in
 * `createDataCollectionExporter`, to send metrics to Apollo, which this project turns off
 * (`disableVendorTelemetry`, kernel/config.ts). Loading them costs about 40 MB of RSS and a good
 * part of a second of start-up (`npm run bench -- footprint`).
 *
 * Each of those packages gets a placeholder in the CommonJS module cache (`require.cache`, which
 * Node documents as writable) whose exports load the real package on first use and then forward
 * to it: nothing changes for code that does use them, it only pays when it does.
 */
import { Module, createRequire } from 'node:module';

/** Packages `@apollo/gateway` requires only for its own usage reporting. */
const REPORTING_ONLY = [
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-metrics-otlp-http',
  '@opentelemetry/resource-detector-alibaba-cloud',
  '@opentelemetry/resource-detector-aws',
  '@opentelemetry/resource-detector-gcp',
  '@opentelemetry/resource-detector-azure',
] as const;

/** A module whose exports are a proxy that requires `file` on first use. */
function lazyModule(file: string, load: NodeJS.Require): Module {
  let real: object | undefined;
  const target = (): object => {
    if (!real) {
      // The placeholder steps aside: the real module takes its place in the cache for good.
      delete load.cache[file];
      real = load(file) as object;
    }
    return real;
  };
  const mod = new Module(file);
  mod.filename = file;
  mod.loaded = true;
  mod.exports = new Proxy(
    {},
    {
      get: (_, key) => Reflect.get(target(), key),
      has: (_, key) => Reflect.has(target(), key),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const desc = Reflect.getOwnPropertyDescriptor(target(), key);
        // A proxy may not report a property non-configurable that its own target lacks.
        return desc ? { ...desc, configurable: true } : undefined;
      },
    },
  );
  return mod;
}

function deferVendorTelemetry(): void {
  // Resolved as @apollo/gateway resolves them (its own node_modules first, then the root's).
  const load = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
  for (const name of REPORTING_ONLY) {
    let file: string;
    try {
      file = load.resolve(name);
    } catch {
      continue; // a later @apollo/gateway that no longer depends on it
    }
    if (!load.cache[file]) load.cache[file] = lazyModule(file, load);
  }
}

deferVendorTelemetry();
