/**
 * The interactive REST reference at `GET /api/docs`: Swagger UI served from the `swagger-ui-dist`
 * package, never from a CDN (the gateway may have no outbound internet access, and a page that
 * loads third-party scripts could not keep a strict Content-Security-Policy).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const DOCS_PATH = '/api/docs';

interface Asset {
  name: string;
  contentType: string;
}

/** The files the page loads from the package; everything else in it is not served. */
const PACKAGE_ASSETS: readonly Asset[] = [
  { name: 'swagger-ui.css', contentType: 'text/css; charset=utf-8' },
  { name: 'swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'favicon-32x32.png', contentType: 'image/png' },
];
const INIT_SCRIPT = 'init.js';

/** Every path `registerDocsPage` serves (GET only). */
export const DOCS_PATHS: readonly { method: 'GET'; path: string }[] = [
  { method: 'GET', path: DOCS_PATH },
  ...[...PACKAGE_ASSETS.map((a) => a.name), INIT_SCRIPT].map((name) => ({ method: 'GET' as const, path: `${DOCS_PATH}/${name}` })),
];

/**
 * Only same-origin resources; Swagger UI sets inline styles and uses data: images in its CSS.
 * No inline script: the configuration lives in `init.js` for that reason.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The HTML page; asset URLs are absolute paths because `/api/docs` has no trailing slash. */
export function docsHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Xentree API reference</title>
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/${INIT_SCRIPT}"></script>
</body>
</html>
`;
}

/** `validatorUrl: null`: Swagger UI otherwise sends the document to an online validator. */
export function docsInitScript(specUrl: string): string {
  return `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(specUrl)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;
}

const require = createRequire(import.meta.url);
// Kept as promises so concurrent first requests share one read; the files never change at run time.
const cache = new Map<string, Promise<Buffer>>();
function load(file: string): Promise<Buffer> {
  let pending = cache.get(file);
  if (!pending) {
    pending = readFile(file);
    pending.catch(() => cache.delete(file)); // a failed read is retried on the next request
    cache.set(file, pending);
  }
  return pending;
}

/** Registers the page and its assets (inside the REST scope, so 404/405 follow the API contract). */
export function registerDocsPage(api: FastifyInstance, specUrl: string): void {
  // Resolved now so a missing package fails at start-up, not on the first visit.
  const dir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const html = docsHtml();
  const init = docsInitScript(specUrl);
  api.get(DOCS_PATH, { exposeHeadRoute: false }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY).send(html),
  );
  api.get(`${DOCS_PATH}/${INIT_SCRIPT}`, { exposeHeadRoute: false }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(init),
  );
  for (const asset of PACKAGE_ASSETS) {
    const file = join(dir, asset.name);
    api.get(`${DOCS_PATH}/${asset.name}`, { exposeHeadRoute: false }, async (_req, reply) =>
      reply.type(asset.contentType).header('cache-control', 'public, max-age=86400').header('x-content-type-options', 'nosniff').send(await load(file)),
    );
  }
}
