import { describe, expect, it } from 'vitest';
import { prettyDestination, prettyLine } from './log-pretty.ts';

const TIME = Date.UTC(2026, 11, 4, 21, 5, 9, 42);

describe('readable log lines', () => {
  it('prints time, level, component, message and the remaining fields', () => {
    const line = JSON.stringify({ level: 30, time: TIME, pid: 1, hostname: 'h', name: 'xentree', component: 'http', msg: 'request', method: 'GET', path: '/api/auth/me', status: 200, durationMs: 1.5, requestId: 'r-1', caller: null });
    expect(prettyLine(line, false)).toBe('21:05:09.042 INFO  [http] request method=GET path=/api/auth/me status=200 durationMs=1.5 requestId=r-1 caller=null\n');
  });

  it('quotes strings with spaces, prints objects as JSON and an error stack indented below', () => {
    const line = JSON.stringify({ level: 50, time: TIME, msg: 'shutdown failed', reason: 'two words', caller: { mode: 'bearer' }, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:1)' } });
    expect(prettyLine(line, false)).toBe('21:05:09.042 ERROR shutdown failed reason="two words" caller={"mode":"bearer"}\n    Error: boom\n        at f (x.ts:1:1)\n');
  });

  it('colours by level when the terminal has colours, and passes through what is not JSON', () => {
    expect(prettyLine(JSON.stringify({ level: 40, time: TIME, msg: 'careful' }), true)).toBe('\u001b[90m21:05:09.042\u001b[0m \u001b[33mWARN \u001b[0m careful\n');
    expect(prettyLine('plain text', false)).toBe('plain text\n');
  });

  it('writes through to the stream it wraps', () => {
    const written: string[] = [];
    const dest = prettyDestination({ write: (s: string) => written.push(s) > 0, hasColors: () => false });
    dest.write(`${JSON.stringify({ level: 30, time: TIME, msg: 'listening', port: 4000 })}\n`);
    expect(written).toEqual(['21:05:09.042 INFO  listening port=4000\n']);
  });
});
