/**
 * `node bench/bare-proxy.mjs`: the least a gateway hop can cost, for `npm run bench -- gateway`.
 * A plain `node:http` server that forwards each POST's body and `x-xentree-context` header to
 * TARGET over a keep-alive undici pool and answers with what came back: no GraphQL, no
 * authentication, no limits, no metrics, no security headers. Listens on a free port of 127.0.0.1
 * and prints `ready <port>` once it does.
 */
import http from 'node:http';
import { Agent, request } from 'undici';

const target = process.env.TARGET;
if (!target) throw new Error('set TARGET (a URL)');
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
// Port 0: the system's choice, so no other process can take it between choosing and listening.
server.listen(0, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => pool.close().then(() => process.exit(0))));
