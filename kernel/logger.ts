/** pino JSON logger; one root per process, children per service and per request. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'xentree'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.password', '*.refreshToken'], remove: true },
  });
}
