/**
 * The tracing settings from the standard OTEL_* variables: off unless an exporter is asked for,
 * the endpoint rules of the OTLP specification, and bad values refused with the variable named.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const base = { XENTREE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'xentree-otel-')), INTERNAL_SERVICE_KEY: 'k'.repeat(32), ENCRYPTION_KEY: 'e'.repeat(32) };
const tracing = (env: Record<string, string>) => loadConfig({ ...base, ...env }).tracing;

describe('OTEL_* variables', () => {
  it('leave tracing off when no exporter is asked for', () => {
    expect(tracing({}).exporter).toBeNull();
    expect(tracing({ OTEL_SERVICE_NAME: 'api' }).exporter).toBeNull();
  });

  it('turn OTLP on with an endpoint alone, adding the traces path to the general endpoint', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      exporter: 'otlp',
      protocol: 'http/protobuf',
      tracesUrl: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: null,
      sampler: 'parentbased_always_on',
      samplerArg: 1,
    });
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' }).tracesUrl).toBe('http://b:9999/custom');
  });

  it('read the exporter, protocol, headers, service name and sampler', () => {
    expect(
      tracing({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, Team=core',
        OTEL_SERVICE_NAME: 'graph',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toEqual({
      exporter: 'otlp',
      protocol: 'http/json',
      tracesUrl: 'http://localhost:4318/v1/traces',
      headers: { 'x-api-key': 'abc==', team: 'core' },
      serviceName: 'graph',
      sampler: 'parentbased_traceidratio',
      samplerArg: 0.25,
    });
    expect(tracing({ OTEL_TRACES_EXPORTER: 'console' }).exporter).toBe('console');
    expect(tracing({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/protobuf');
  });

  it('stay off with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true whatever else is set', () => {
    expect(tracing({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporter).toBeNull();
    expect(tracing({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).exporter).toBeNull();
  });

  it('refuse what the SDK does not support here, naming each variable', () => {
    let problems: string[] = [];
    try {
      tracing({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: '2', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_EXPORTER', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG']);
  });
});
