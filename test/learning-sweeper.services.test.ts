/**
 * The XEL session sweeper with two learning processes on one PostgreSQL (issue 13, item 5): an
 * idle session is closed at its last activity by whichever process sweeps first, and awarded
 * exactly once (row lock with SKIP LOCKED; no timers per session).
 */
import { describe, expect, it } from 'vitest';
import { signUp, useTopology } from './topology.ts';
import { pollUntil } from './org-fixtures.ts';

// live serves part of the user profile registration answers with.
const topology = useTopology({ name: 'sweeper', subgraphs: ['identity', 'live', 'learning'], perGateway: 'learning', env: { LOG_LEVEL: 'error' } });

describe('two learning processes sweeping', () => {
  it('close an idle XEL session once, at its last activity, with one award', async () => {
    const [a = '', b = ''] = topology.gateways;
    const user = await signUp(a, a, 'sweep');
    const res = await fetch(`${b}/api/xel/sessions/start`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` } });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    await topology.query(`update "learning"."xel_sessions" set "started_at" = now() - interval '45 minutes', "last_activity_at" = now() - interval '40 minutes' where "id" = $1`, [id]);
    const rows = await pollUntil(
      async () => (await topology.query<{ end_reason: string | null; duration_seconds: number | null; xp_awarded: number | null }>(`select "end_reason", "duration_seconds", "xp_awarded" from "learning"."xel_sessions" where "id" = $1`, [id])).rows,
      (r) => r[0]?.end_reason != null,
      75_000,
      500,
    );
    expect(rows).toEqual([{ end_reason: 'timeout', duration_seconds: 300, xp_awarded: 5 }]);
    // Another sweep of either process finds nothing more to do.
    await new Promise((r) => setTimeout(r, 31_000));
    expect((await topology.query(`select "xp" from "learning"."ledger" where "source" = 'xel_session' and "source_id" = $1`, [id])).rows).toEqual([{ xp: 5 }]);
    expect((await topology.query(`select "seconds" from "learning"."sessions" where "source" = 'xel' and "source_id" = $1`, [id])).rows).toEqual([{ seconds: 300 }]);
  }, 150_000);
});
