/**
 * The tracing settings, from the standard OpenTelemetry variables (read by kernel/config.ts with
 * the rest of the environment). Tracing is off unless an exporter is asked for: either
 * `OTEL_TRACES_EXPORTER=otlp|console`, or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) with no exporter named. `OTEL_TRACES_EXPORTER=none` and
 * `OTEL_SDK_DISABLED=true` turn it off whatever else is set.
 */
import { z } from 'zod';

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key1=value1,key2=value2`, values percent-encoded (the specification's format). */
export const otlpHeaders = z
  .string()
  .refine((s) => s.split(',').every((pair) => pair.trim() === '' || /^[^=\s]+\s*=/.test(pair.trim())), 'must be key=value pairs separated by commas')
  .transform((s) => {
    const headers: Record<string, string> = {};
    for (const pair of s.split(',')) {
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
    }
    return headers;
  });

export interface TracingConfig {
  /** Where spans go; null: tracing is off (nothing is started, the API's no-op tracer is used). */
  exporter: 'otlp' | 'console' | null;
  protocol: OtlpProtocol;
  /** The OTLP traces URL (…/v1/traces). */
  tracesUrl: string;
  /** Extra headers sent with each export (a collector's API key, say). */
  headers: Record<string, string>;
  /** `service.name`; null: the process's role (`xentree`, `xentree-gateway`, `xentree-<subgraph>`). */
  serviceName: string | null;
  sampler: SamplerName;
  /** The ratio of the `*traceidratio` samplers (0..1). */
  samplerArg: number;
}

/** The OTEL_* variables as kernel/config.ts parsed them. */
export interface TracingVariables {
  OTEL_SDK_DISABLED: boolean;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'console' | 'none' | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: OtlpProtocol | undefined;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: OtlpProtocol | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: Record<string, string> | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_TRACES_SAMPLER: SamplerName;
  OTEL_TRACES_SAMPLER_ARG?: number | undefined;
}

/** The default OTLP/HTTP collector (the specification's). */
const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function tracingConfigOf(e: TracingVariables): TracingConfig {
  const endpointSet = e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  const named = e.OTEL_TRACES_EXPORTER ?? (endpointSet ? 'otlp' : 'none');
  const exporter = e.OTEL_SDK_DISABLED || named === 'none' ? null : named;
  const base = (e.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  return {
    exporter,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    // The signal-specific endpoint is used as given; the general one gets the signal's path.
    tracesUrl: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}/v1/traces`,
    headers: e.OTEL_EXPORTER_OTLP_HEADERS ?? {},
    serviceName: e.OTEL_SERVICE_NAME ?? null,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerArg: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}
