/**
 * `node bench/bare-proxy.mjs`: the least a gateway hop can cost, for `npm run bench -- gateway`.
 * A plain `node:http` server that forwards each POST's body and `x-xentree-context` header to
 * TARGET over a keep-alive undici pool and answers with what came back: no GraphQL, no
 * authentication, no limits, no metrics, no security headers. Listens on 127.0.0.1:PORT and
 * prints `ready` once it does.
 */
import http from 'node:http';
import { Agent, request } from 'undici';

const target = process.env.TARGET;
const port = Number(process.env.PORT);
if (!target || !Number.isInteger(port)) throw new Error('set TARGET (a URL) and PORT');
const pool = new Agent({ keepAliveTimeout: 4_000, connections: 128 });

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    request(target, {
      method: 'POST',
      dispatcher: pool,
      headers: { 'content-type': 'application/json', 'x-xentree-context': req.headers['x-xentree-context'] ?? '' },
      body: Buffer.concat(chunks),
    })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
        res.end(body);
      })
      .catch((err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
  });
});
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => pool.close().then(() => process.exit(0))));
