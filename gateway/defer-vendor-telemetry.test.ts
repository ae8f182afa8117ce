import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import './defer-vendor-telemetry.ts';

// As @apollo/gateway resolves its dependencies.
const gatewayRequire = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));

describe('deferred vendor telemetry', () => {
  it('loads @apollo/gateway without its usage-reporting packages, which load on first use and behave as themselves', () => {
    gatewayRequire('@apollo/gateway');
    const detectorFile = gatewayRequire.resolve('@opentelemetry/resource-detector-gcp');
    const loadedBelow = (file: string) => Object.keys(gatewayRequire.cache).filter((k) => k !== file && k.startsWith(file.slice(0, file.indexOf('/build/'))));
    // Only the placeholder: none of the package's own modules ran.
    expect(loadedBelow(detectorFile)).toEqual([]);

    const detectors = gatewayRequire('@opentelemetry/resource-detector-gcp') as { gcpDetector: { detect: unknown } };
    expect(typeof detectors.gcpDetector.detect).toBe('function');
    expect(loadedBelow(detectorFile).length).toBeGreaterThan(0);
    // The real module has taken the placeholder's place.
    const real = gatewayRequire.cache[detectorFile]?.exports as { gcpDetector: unknown };
    expect(real.gcpDetector).toBe(detectors.gcpDetector);
    expect(gatewayRequire('@opentelemetry/resource-detector-gcp')).toBe(real);

    const metrics = gatewayRequire('@opentelemetry/sdk-metrics') as { MeterProvider: new () => { getMeter(name: string): unknown } };
    expect(typeof new metrics.MeterProvider().getMeter('test')).toBe('object');
  });
});
