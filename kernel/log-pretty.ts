/**
 * Readable log lines for a terminal: pino's JSON lines rewritten as
 * `12:34:56.789 INFO  [http] request method=GET path=/api/auth/me status=200 …`, colour by level,
 * an error's stack on the lines below. Used when stdout is a TTY (`npm start`, `npm run dev`);
 * anything else (containers, pipes, files) gets the JSON lines unchanged.
 */
import type { DestinationStream } from 'pino';

const LEVELS: Record<number, { label: string; colour: number }> = {
  10: { label: 'TRACE', colour: 90 },
  20: { label: 'DEBUG', colour: 36 },
  30: { label: 'INFO ', colour: 32 },
  40: { label: 'WARN ', colour: 33 },
  50: { label: 'ERROR', colour: 31 },
  60: { label: 'FATAL', colour: 35 },
};

/** Fields every line has, shown in the prefix or not at all. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'component', 'err', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line as readable text (a line that is not JSON is returned as it is). */
export function prettyLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[Number(entry.level)] ?? { label: String(entry.level).padEnd(5), colour: 0 };
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const paint = (code: number, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const scope = typeof entry.component === 'string' ? `[${entry.component}] ` : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${paint(90, `${k}=`)}${value(v)}`)
    .join(' ');
  let out = `${paint(90, time)} ${paint(level.colour, level.label)} ${scope}${String(entry.msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
  const err = entry.err as { stack?: unknown; message?: unknown } | undefined;
  if (err) out += `${String(err.stack ?? err.message ?? JSON.stringify(err)).replace(/^/gm, '    ')}\n`;
  return out;
}

/** A pino destination writing readable lines to `out`. */
export function prettyDestination(out: { write(chunk: string): unknown; hasColors?(): boolean }): DestinationStream {
  const colour = typeof out.hasColors === 'function' ? out.hasColors() : false;
  return { write: (line: string) => void out.write(prettyLine(line, colour)) };
}
