/**
 * The served OpenAPI document is one that client generators and API gateways accept: Redocly's
 * `recommended` ruleset reports no error, and a client generated with openapi-typescript
 * type-checks (strict) against code that calls a few operations by path and by operationId,
 * streamed chat events included.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.ts';

let t: TestStack;
let source: string;

beforeAll(async () => {
  t = await startTestStack();
  const res = await fetch(`${t.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  source = await res.text();
});

afterAll(async () => {
  await t?.close();
});

/** A client written against the generated types: what an integrator would write. */
const CLIENT = `
import type { components, operations, paths } from './api.js';

type Me = paths['/api/auth/me']['get']['responses'][200]['content']['application/json'];
type Login = NonNullable<paths['/api/auth/login']['post']['requestBody']>['content']['application/x-www-form-urlencoded'];
type Health = operations['getHealth']['responses'][200]['content']['application/json'];
type ApiError = components['schemas']['Error'];
type ChatEvent = paths['/api/core/chat']['post']['responses'][200]['content']['text/event-stream'][number];
type ResumedEvent = operations['resumeChatStream']['responses'][200]['content']['text/event-stream'][number];

export const chunk: ChatEvent = { event: 'chunk', id: 1, data: { delta: 'Hel' } };
export function deltaOf(e: ResumedEvent): string | null {
  return e.event === 'chunk' ? e.data.delta : null;
}

export function describeMe(me: Me): string {
  return \`\${me.username} <\${me.email}>\`;
}
export const login: Login = { username: 'ada', password: 'correct horse' };
export const health: Health = { status: 'ok' };
export function codeOf(e: ApiError): string {
  return e.detail.error;
}
`;

describe('the OpenAPI document for client generators', () => {
  it('passes Redocly lint (recommended rules) with no error', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? ''}`);
    expect(errors).toEqual([]);
  });

  it('documents CONV-2 as JSON or an event stream, CONV-2S as an event stream of start, chunk, done and error', () => {
    const doc = JSON.parse(source) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>; components: { schemas: Record<string, { items: { oneOf: { properties: { event: { const: string } } }[] } }> } };
    expect(Object.keys(doc.paths['/api/core/chat']?.post?.responses['200']?.content ?? {})).toEqual(['application/json', 'text/event-stream']);
    expect(doc.paths['/api/core/chat/streams/{stream_id}']?.get?.responses['200']?.content).toEqual({ 'text/event-stream': { schema: { $ref: '#/components/schemas/ChatStreamEvents' } } });
    expect(doc.components.schemas.ChatStreamEvents?.items.oneOf.map((e) => e.properties.event.const)).toEqual(['start', 'chunk', 'done', 'error']);
  });

  it('offers the internal service scheme on LIVE-7 alone, and names every operation in camelCase', () => {
    const doc = JSON.parse(source) as { paths: Record<string, Record<string, { operationId: string; 'x-xentree-id': string; security?: Record<string, unknown>[] }>> };
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(ops.filter((op) => (op.security ?? []).some((s) => 'internalServiceKey' in s)).map((op) => op['x-xentree-id'])).toEqual(['LIVE-7']);
    expect(ops.filter((op) => !/^[a-z][a-zA-Z]+$/.test(op.operationId)).map((op) => op.operationId)).toEqual([]);
  });

  it('generates a typed client with openapi-typescript that type-checks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-client-'));
    try {
      writeFileSync(path.join(dir, 'api.d.ts'), astToString(await openapiTS(JSON.parse(source) as Parameters<typeof openapiTS>[0])));
      writeFileSync(path.join(dir, 'client.ts'), CLIENT);
      const program = ts.createProgram([path.join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: [],
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
