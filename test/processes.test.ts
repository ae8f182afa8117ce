/** The test topology's port choice: free, and out of the kernel's ephemeral range where there is one. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './processes.ts';

const ephemeralLow = (): number | null => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return null;
  }
};

describe('freePort', () => {
  it('gives ports that can be bound, below the ephemeral range (Linux)', async () => {
    const low = ephemeralLow();
    for (let i = 0; i < 5; i++) {
      const port = await freePort();
      if (low !== null && low > 11_000) expect(port).toBeLessThan(low);
      expect(port).toBeGreaterThanOrEqual(low !== null && low > 11_000 ? 10_000 : 1);
      const srv = createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});
