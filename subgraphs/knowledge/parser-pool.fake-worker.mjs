// A stand-in for parse.worker.ts in parser-pool.test.ts: the document's text is a command that
// misbehaves as a hostile document would, anything else comes back as one paragraph.
import { parentPort } from 'node:worker_threads';

const hold = [];
parentPort.on('message', ({ id, bytes }) => {
  const text = Buffer.from(bytes).toString('utf8');
  if (text === 'spin') for (;;);
  if (text === 'heap') for (;;) hold.push(new Array(1e5).fill({ text }));
  if (text === 'buffers') for (;;) hold.push(Buffer.alloc(16 * 1024 * 1024, 1));
  if (text === 'long') return parentPort.postMessage({ id, ok: false, failure: 'too_large', reason: 'long' });
  if (text === 'exit') process.exit(3);
  parentPort.postMessage({ id, ok: true, blocks: [{ kind: 'paragraph', level: 0, text }] });
});
parentPort.postMessage('ready');
