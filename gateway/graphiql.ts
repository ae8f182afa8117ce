/**
 * GraphiQL IDE for the gateway, served entirely from npm packages.
 *
 * Why no CDN: the gateway runs in environments without outbound internet
 * access and behind a Content-Security-Policy; pulling React/GraphiQL from a
 * third-party CDN would break both (and pin our IDE to whatever the CDN
 * serves). Instead we ship the UMD bundles that `react`, `react-dom` and
 * `graphiql` already include in node_modules.
 *
 * Why GET `path` is not registered here: GET `/graphql` is also the
 * GraphQL-over-HTTP endpoint (`?query=...`). Only one route can own it, so the
 * GraphQL route decides per request with `wantsGraphiQL(...)` and answers
 * with `graphiqlHtml(...)` for browser navigations.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export interface GraphiQLOptions {
  /** Path of the GraphQL endpoint, e.g. `/graphql`. Must start with `/` and not end with `/`. */
  path: string;
  /** Document title shown in the browser tab. */
  title?: string;
}

interface IdeAsset {
  /** File name under `${path}/_ide/`. */
  name: string;
  /** Package that ships the file. */
  pkg: string;
  /** File inside the package directory. */
  file: string;
  contentType: string;
}

/**
 * The four files the IDE needs, in load order for the scripts. React must be
 * loaded before react-dom, and both before graphiql, because the UMD bundles
 * communicate through `window.React` / `window.ReactDOM` / `window.GraphiQL`.
 */
const ASSETS: readonly IdeAsset[] = [
  { name: 'react.production.min.js', pkg: 'react', file: 'umd/react.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'react-dom.production.min.js', pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  // graphiql 3.x ships its browser bundle (with graphql-ws bundled in, which
  // subscriptions need) in the package root, not in dist/.
  { name: 'graphiql.min.js', pkg: 'graphiql', file: 'graphiql.min.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'graphiql.min.css', pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
];

const IDE_SEGMENT = '_ide';

const require = createRequire(import.meta.url);

/**
 * Absolute path of a file inside an installed package.
 *
 * We resolve `<pkg>/package.json` and join, rather than resolving
 * `react/umd/react.production.min.js` directly, because react and react-dom
 * declare an `exports` map that does not expose `umd/*`
 * (ERR_PACKAGE_PATH_NOT_EXPORTED). `package.json` is exported by all three.
 */
function resolvePackageFile(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

/**
 * File contents cached per absolute path for the life of the process. We keep
 * the promise (not the buffer) so concurrent first requests share one read.
 * The bundles are ~4 MB in total and never change while the process runs.
 */
const assetCache = new Map<string, Promise<Buffer>>();

function loadAsset(absPath: string): Promise<Buffer> {
  let pending = assetCache.get(absPath);
  if (pending === undefined) {
    pending = readFile(absPath);
    // A failed read (e.g. a broken install) must not be cached forever;
    // drop it so the next request retries.
    pending.catch(() => assetCache.delete(absPath));
    assetCache.set(absPath, pending);
  }
  return pending;
}

function assertValidPath(path: string): void {
  // The HTML refers to assets relative to the page URL, which only works
  // when the page lives at a non-root path without a trailing slash.
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('?') || path.includes('#')) {
    throw new Error(`GraphiQL path must start with "/" and not end with "/": ${JSON.stringify(path)}`);
  }
}

/**
 * Serves the IDE's static assets under `${opts.path}/_ide/`.
 *
 * Call before the GraphQL route is registered so the IDE is available as soon
 * as that route starts answering browser navigations with `graphiqlHtml()`.
 * This does NOT register GET `opts.path` itself (see module comment).
 */
export function registerGraphiQL(app: FastifyInstance, opts: GraphiQLOptions): void {
  assertValidPath(opts.path);
  for (const asset of ASSETS) {
    // Resolve at registration time so a missing package fails at startup,
    // not on the first browser visit. Reading is deferred until requested.
    const absPath = resolvePackageFile(asset.pkg, asset.file);
    app.get(`${opts.path}/${IDE_SEGMENT}/${asset.name}`, async (_request, reply) => {
      const body = await loadAsset(absPath);
      return reply
        .header('cache-control', 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .type(asset.contentType)
        .send(body);
    });
  }
}

/**
 * True when the request looks like a browser navigation to the endpoint:
 * GET (or HEAD, which fastify derives from GET routes), an Accept header that
 * explicitly lists text/html with a non-zero quality, and no `query` param.
 *
 * GraphQL clients send `application/graphql-response+json` / `application/json`
 * and tools like curl send `*\/*`; none of them list text/html, so they keep
 * getting GraphQL responses.
 */
export function wantsGraphiQL(method: string, accept: string | undefined, hasQueryParam: boolean): boolean {
  const m = method.toUpperCase();
  if ((m !== 'GET' && m !== 'HEAD') || hasQueryParam || accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';');
    if (type.trim().toLowerCase() !== 'text/html') return false;
    // `text/html;q=0` means "not acceptable" (RFC 9110 §12.4.2).
    for (const param of params) {
      const [key = '', value = ''] = param.split('=');
      if (key.trim().toLowerCase() === 'q') {
        const q = Number.parseFloat(value.trim());
        return Number.isFinite(q) && q > 0;
      }
    }
    return true;
  });
}

/** Escapes text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON for embedding in an inline <script>: escaping `<` prevents a value
 * containing `</script>` from ending the script element early, and the line
 * separators are escaped for pre-ES2019 parsers.
 */
function scriptJson(value: string): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A bearer header to fill in: the headers go with HTTP requests and in graphql-ws's `connection_init`. */
const EXAMPLE_HEADERS = '{\n  "authorization": "Bearer <access token from login or POST /api/auth/login>"\n}';

/**
 * The tabs a first visit opens on (GraphiQL keeps the user's own tabs afterwards): the caller's
 * profile, and an AI reply streamed over graphql-ws, each token on the page as it arrives.
 */
const EXAMPLE_TABS = [
  {
    query: `# Who am I? Put your access token in the Headers tab below, then run (Ctrl-Enter).
# Get one with: mutation { login(input: { username: "…", password: "…" }) { accessToken } }
query Me {
  me {
    id
    username
    email
    createdAt
  }
}
`,
    headers: EXAMPLE_HEADERS,
  },
  {
    query: `# An AI reply streamed over WebSocket: one event per chunk, user filled in by identity.
subscription ChatStream {
  chatStream(input: { message: "Hello" }) {
    seq
    type
    delta
    user {
      username
    }
  }
}
`,
    headers: EXAMPLE_HEADERS,
  },
];

/**
 * The inline bootstrap. Kept separate so its sha256 can be put into the CSP
 * (`graphiqlContentSecurityPolicy`) instead of allowing 'unsafe-inline'.
 */
function bootstrapScript(path: string): string {
  return `
(function () {
  'use strict';
  var path = ${scriptJson(path)};
  var wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // createFetcher has no 'credentials' option, so wrap fetch: same-origin
  // cookies are sent, cross-origin ones never are.
  var sameOriginFetch = function (input, init) {
    return window.fetch(input, Object.assign({}, init, { credentials: 'same-origin' }));
  };
  var fetcher = GraphiQL.createFetcher({
    url: location.origin + path,
    subscriptionUrl: wsProtocol + '//' + location.host + path,
    fetch: sameOriginFetch,
    // The gateway enables Apollo's CSRF prevention, which rejects "simple"
    // requests unless this header is present.
    headers: { 'apollo-require-preflight': 'true' }
  });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: true,
    defaultTabs: ${JSON.stringify(EXAMPLE_TABS).replace(/</g, '\\u003c')}
  }));
})();
`;
}

/**
 * The IDE page, to be sent with `content-type: text/html; charset=utf-8` and
 * `vary: accept` (the same URL also serves GraphQL responses) by the route
 * that owns GET `opts.path`.
 *
 * Asset URLs are relative to the page (`./graphql/_ide/...` for `/graphql`),
 * so the IDE keeps working when the gateway is mounted under a prefix by a
 * reverse proxy that rewrites paths.
 */
export function graphiqlHtml(opts: GraphiQLOptions): string {
  assertValidPath(opts.path);
  const title = escapeHtml(opts.title ?? 'Xentree Graph — GraphiQL');
  const lastSegment = opts.path.slice(opts.path.lastIndexOf('/') + 1);
  const base = `./${escapeHtml(lastSegment)}/${IDE_SEGMENT}/`;
  const scripts = ASSETS.filter((a) => a.name.endsWith('.js'))
    .map((a) => `    <script src="${base}${a.name}"></script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="same-origin" />
    <title>${title}</title>
    <link rel="stylesheet" href="${base}graphiql.min.css" />
    <style>
      html, body { height: 100%; margin: 0; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
${scripts}
    <script>${bootstrapScript(opts.path)}</script>
  </body>
</html>
`;
}

function sha256Source(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

/**
 * A Content-Security-Policy for the IDE page. Scripts are limited to our own
 * origin plus the exact inline bootstrap (by hash), so no 'unsafe-inline' or
 * 'unsafe-eval' is needed for scripts. Styles need 'unsafe-inline' because
 * GraphiQL/CodeMirror set inline style attributes at runtime. Fonts are
 * embedded in graphiql.min.css as data: URIs.
 *
 * connect-src 'self' covers same-host ws:/wss: in CSP Level 3 browsers.
 */
export function graphiqlContentSecurityPolicy(opts: GraphiQLOptions): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${sha256Source(bootstrapScript(opts.path))}`,
    // No style hash here on purpose: any hash or nonce in style-src makes
    // browsers ignore 'unsafe-inline', which would break style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
