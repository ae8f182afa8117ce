/** Fresh in-memory clusters from a template made once (kernel/pglite-template.ts). */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInMemoryCluster, useClusterTemplate } from './pglite-template.ts';

describe('in-memory clusters from a template', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xentree-template-test-'));
  // Whatever this process used before (the harness's folder, when files share a process) is put back.
  const before = useClusterTemplate(dir);
  afterAll(() => {
    useClusterTemplate(before);
    rmSync(dir, { recursive: true, force: true });
  });
  const templates = () => readdirSync(dir).filter((f) => /^xentree-pglite-\d+\.\d+\.\d+\.tar$/.test(f));

  it('dumps the first cluster before anything runs on it, and starts the next from that dump', async () => {
    const first = await createInMemoryCluster({});
    expect(templates()).toHaveLength(1);
    // Written after the dump: not in the template.
    await first.exec('create table kept (v text); insert into kept values ($$first$$)');
    const made = statSync(path.join(dir, templates()[0] ?? '')).mtimeMs;

    const second = await createInMemoryCluster({});
    expect(statSync(path.join(dir, templates()[0] ?? '')).mtimeMs).toBe(made);
    const { rows } = await second.query<{ present: boolean }>(`select to_regclass('kept') is not null as present`);
    expect(rows).toEqual([{ present: false }]);
    await second.exec('create table kept (v text)');
    expect((await first.query('select v from kept')).rows).toEqual([{ v: 'first' }]);
    expect(readdirSync(dir)).toEqual(templates());
    await Promise.all([first.close(), second.close()]);
  });

  it('makes the template again when it cannot be loaded', async () => {
    const file = path.join(dir, templates()[0] ?? '');
    writeFileSync(file, 'not a data directory');
    const db = await createInMemoryCluster({});
    expect((await db.query<{ n: number }>('select 1 as n')).rows).toEqual([{ n: 1 }]);
    expect(statSync(file).size).toBeGreaterThan(1_000_000);
    await db.close();
  });

  it('still gives a cluster when the template cannot be written', async () => {
    const gone = path.join(dir, 'removed');
    useClusterTemplate(gone);
    try {
      const db = await createInMemoryCluster({});
      expect((await db.query<{ n: number }>('select 1 as n')).rows).toEqual([{ n: 1 }]);
      await db.close();
    } finally {
      useClusterTemplate(dir);
    }
    expect(readdirSync(dir)).toEqual(templates());
  });
});
