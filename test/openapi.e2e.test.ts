/**
 * `GET /api/openapi.json` and the docs page `GET /api/docs` on a running gateway: the document is
 * the one generated from the route table and valid OpenAPI 3.1; the page and every asset it loads
 * come from the gateway itself, with no external URL.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, openApiPath } from '../rest-compat/openapi.ts';
import { DOCS_CONTENT_SECURITY_POLICY } from '../rest-compat/docs.ts';
import { ROUTES } from '../rest-compat/areas/index.ts';
import { useTestStack } from './harness.ts';

const t = useTestStack();

const EXTERNAL_URL = /(?:https?:)?\/\/[a-z0-9.-]+/i;

describe('GET /api/openapi.json', () => {
  it('serves the generated document, valid OpenAPI 3.1, with every route of the table', async () => {
    const res = await t.rest('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual(buildOpenApi(ROUTES));

    const validator = new Validator();
    const result = await validator.validate(res.body as Record<string, unknown>);
    expect({ valid: result.valid, version: validator.version, errors: result.errors ?? null }).toEqual({ valid: true, version: '3.1', errors: null });

    const paths = (res.body as { paths: Record<string, Record<string, { operationId: string; 'x-xentree-id': string }>> }).paths;
    for (const route of ROUTES) {
      expect(paths[openApiPath(route.path)]?.[route.method.toLowerCase()]?.['x-xentree-id']).toBe(route.id);
    }
  });

  it('answers other methods with 405 and an Allow header, like every /api path', async () => {
    for (const method of ['POST', 'HEAD']) {
      const res = await t.rest(method, '/api/openapi.json');
      expect({ status: res.status, allow: res.headers.get('allow') }).toEqual({ status: 405, allow: 'GET' });
      if (method === 'POST') expect(res.body).toEqual({ detail: 'Method Not Allowed' });
    }
  });
});

describe('GET /api/docs', () => {
  it('serves an HTML page that loads only same-origin assets, each answering 200', async () => {
    const res = await fetch(`${t.url}/api/docs`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CONTENT_SECURITY_POLICY);
    expect(html).toContain('<div id="swagger-ui"></div>');
    expect(html).not.toMatch(EXTERNAL_URL);

    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.sort()).toEqual(['/api/docs/favicon-32x32.png', '/api/docs/init.js', '/api/docs/swagger-ui-bundle.js', '/api/docs/swagger-ui.css']);
    const types: Record<string, string> = {
      '/api/docs/favicon-32x32.png': 'image/png',
      '/api/docs/init.js': 'text/javascript; charset=utf-8',
      '/api/docs/swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
      '/api/docs/swagger-ui.css': 'text/css; charset=utf-8',
    };
    for (const ref of refs) {
      const asset = await fetch(`${t.url}${ref}`);
      expect({ ref, status: asset.status, type: asset.headers.get('content-type') }).toEqual({ ref, status: 200, type: types[ref] });
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('serves the package files unchanged, and a configuration pointing at /api/openapi.json', async () => {
    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const bundle = await fetch(`${t.url}/api/docs/swagger-ui-bundle.js`);
    expect(Buffer.from(await bundle.arrayBuffer()).equals(readFileSync(join(dir, 'swagger-ui-bundle.js')))).toBe(true);
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=86400');

    const init = await (await fetch(`${t.url}/api/docs/init.js`)).text();
    expect(init).toContain('url: "/api/openapi.json"');
    // Swagger UI would otherwise post the document to an online validator.
    expect(init).toContain('validatorUrl: null');
    expect(init).not.toMatch(EXTERNAL_URL);
  });

  it('serves nothing else from the package', async () => {
    for (const path of ['/api/docs/index.html', '/api/docs/swagger-initializer.js', '/api/docs/../package.json', '/api/docs/']) {
      const res = await t.rest('GET', path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { detail: 'Not Found' } });
    }
  });
});
