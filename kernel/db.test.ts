import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { closeEmbeddedPostgres, embeddedPostgres } from './db.ts';

const env = (extra: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', XENTREE_PGLITE: 'memory', ...extra });

describe('embedded PostgreSQL', () => {
  afterEach(closeEmbeddedPostgres);

  it('runs with a 16 MB buffer pool by default', async () => {
    const db = await embeddedPostgres(env());
    expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
  });

  it('takes its buffer pool size from XENTREE_PGLITE_SHARED_BUFFERS_MB', async () => {
    const db = await embeddedPostgres(env({ XENTREE_PGLITE_SHARED_BUFFERS_MB: '32' }));
    expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '32MB' }]);
  });
});
