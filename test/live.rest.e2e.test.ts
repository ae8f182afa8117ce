/** Xentree Live over REST: LIVE-1..4 (§3.7, §4.8) through the gateway, with exact statuses and bodies. */
import { describe, expect, it } from 'vitest';
import { bearer, useTestStack } from './harness.ts';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4 } from './assertions.ts';
import { apiKey, createKey, createOrg, person, scopeMissing, type Person } from './org-fixtures.ts';
import { backdate, currentMonthStart, endedVoiceSession, liveSql, QUOTA_EXCEEDED, setUsage, startSession } from './live-fixtures.ts';
import { until } from './chat-stream-fixtures.ts';

const t = useTestStack({ env: { LIVE_SWEEP_INTERVAL_MS: '100' } });

const monthStart = () => currentMonthStart().toISOString();
const nextMonthStart = () => {
  const m = currentMonthStart();
  return new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1)).toISOString();
};
const quota = (p: Person) => t.rest('GET', '/api/live/quota', { headers: bearer(p.access) });
const heartbeat = (p: Person, id: string) => t.rest('POST', '/api/live/session/heartbeat', { json: { session_id: id }, headers: bearer(p.access) });
const end = (p: Person, id: string) => t.rest('POST', '/api/live/session/end', { json: { session_id: id }, headers: bearer(p.access) });

describe('LIVE-1 quota', () => {
  it('shows the free plan month with nothing used', async () => {
    const p = await person(t, 'lq');
    const res = await quota(p);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { plan: 'free', period_start: monthStart(), period_end: nextMonthStart(), quota_seconds: 1800, used_seconds: 0, remaining_seconds: 1800, active_session_id: null },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('counts only the current UTC month: last month used up leaves this one whole', async () => {
    const p = await person(t, 'lm');
    const m = currentMonthStart();
    await setUsage(t, p.id, 1800, new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() - 1, 1)));
    expect((await quota(p)).body).toMatchObject({ used_seconds: 0, remaining_seconds: 1800 });
    await setUsage(t, p.id, 1700);
    expect((await quota(p)).body).toMatchObject({ used_seconds: 1700, remaining_seconds: 100 });
  });

  it('refuses the unauthenticated', async () => {
    const res = await t.rest('GET', '/api/live/quota');
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
  });
});

describe('LIVE-2 start', () => {
  it('starts one session, and 409 names it while it runs', async () => {
    const p = await person(t, 'ls');
    const res = await t.rest('POST', '/api/live/session/start', { json: { session_type: 'avatar' }, headers: bearer(p.access) });
    expect(res.status).toBe(201);
    const body = res.body as Record<string, unknown>;
    expect(body).toEqual({
      session_id: expect.stringMatching(UUID_V4),
      session_type: 'avatar',
      status: 'active',
      started_at: expect.stringMatching(TIMESTAMP),
      last_heartbeat_at: body.started_at,
      used_seconds: 0,
      remaining_seconds: 1800,
      heartbeat_interval_seconds: 20,
      heartbeat_timeout_seconds: 60,
      realtime_url: 'wss://orchstr.xentree.com',
    });
    const again = await t.rest('POST', '/api/live/session/start', { json: { session_type: 'voice' }, headers: bearer(p.access) });
    expect({ status: again.status, body: again.body }).toEqual({ status: 409, body: coded('live_session_active', 'A live session is already active', { session_id: body.session_id }) });
    expect((await quota(p)).body).toMatchObject({ active_session_id: body.session_id });
  });

  it('ends a silent session first (timeout at its last heartbeat) and starts anew', async () => {
    const p = await person(t, 'lst');
    const old = await startSession(t, p.access);
    await backdate(t, old, 61);
    const fresh = await startSession(t, p.access);
    expect(fresh).not.toBe(old);
    const ended = await end(p, old);
    expect(ended.body).toMatchObject({ session_id: old, status: 'ended', end_reason: 'timeout', billed_seconds: 0, duration_seconds: 0, xp_awarded: 0 });
  });

  it('validates session_type and refuses a used-up month with 429', async () => {
    const p = await person(t, 'lsv');
    const bad = await t.rest('POST', '/api/live/session/start', { json: { session_type: 'video' }, headers: bearer(p.access) });
    expect({ status: bad.status, body: bad.body }).toEqual({
      status: 422,
      body: { detail: [{ type: 'enum', loc: ['body', 'session_type'], msg: "Input should be 'voice' or 'avatar'", input: 'video', ctx: { expected: "'voice' or 'avatar'" } }] },
    });
    await setUsage(t, p.id, 1800);
    const res = await t.rest('POST', '/api/live/session/start', { json: { session_type: 'voice' }, headers: bearer(p.access) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 429, body: QUOTA_EXCEEDED });
  });
});

describe('LIVE-3 heartbeat', () => {
  it('credits the whole seconds since the last heartbeat', async () => {
    const p = await person(t, 'lh');
    const id = await startSession(t, p.access);
    await backdate(t, id, 30);
    const res = await heartbeat(p, id);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { session_id: id, status: 'active', last_heartbeat_at: expect.stringMatching(TIMESTAMP), used_seconds: 30, remaining_seconds: 1770 },
    });
    expect((await quota(p)).body).toMatchObject({ used_seconds: 30, remaining_seconds: 1770, active_session_id: id });
  });

  it('credits a session whose month has no usage yet (it began last month) in that month, and its next heartbeats too', async () => {
    const p = await person(t, 'lnew');
    const id = await startSession(t, p.access);
    await liveSql(t, `delete from "live"."usage" where "user_id" = ?`, [p.id]);
    await backdate(t, id, 20);
    const first = await heartbeat(p, id);
    expect({ status: first.status, body: first.body }).toEqual({
      status: 200,
      body: { session_id: id, status: 'active', last_heartbeat_at: expect.stringMatching(TIMESTAMP), used_seconds: 20, remaining_seconds: 1780 },
    });
    await backdate(t, id, 10);
    const second = await heartbeat(p, id);
    expect({ status: second.status, body: second.body }).toEqual({
      status: 200,
      body: { session_id: id, status: 'active', last_heartbeat_at: expect.stringMatching(TIMESTAMP), used_seconds: 30, remaining_seconds: 1770 },
    });
    expect(await liveSql(t, `select "used_seconds" from "live"."usage" where "user_id" = ?`, [p.id])).toEqual([{ used_seconds: 30 }]);
  });

  it('answers 429 once the month is used up, caps the credit and keeps the session active', async () => {
    const p = await person(t, 'lx');
    const id = await startSession(t, p.access);
    await setUsage(t, p.id, 1790);
    await backdate(t, id, 30);
    const res = await heartbeat(p, id);
    expect({ status: res.status, body: res.body }).toEqual({ status: 429, body: QUOTA_EXCEEDED });
    expect((await quota(p)).body).toMatchObject({ used_seconds: 1800, remaining_seconds: 0, active_session_id: id });
    const done = await end(p, id);
    expect(done.body).toMatchObject({ status: 'ended', end_reason: 'client', billed_seconds: 10, remaining_seconds: 0 });
  });

  it('20 parallel heartbeats never credit a second twice', async () => {
    const p = await person(t, 'lpar');
    const id = await startSession(t, p.access);
    await backdate(t, id, 30);
    const [row] = await liveSql<{ last_heartbeat_at: Date | string }>(t, `select "last_heartbeat_at" from "live"."sessions" where "id" = ?`, [id]);
    const from = new Date(row?.last_heartbeat_at ?? 0).getTime();
    const results = await Promise.all(Array.from({ length: 20 }, () => heartbeat(p, id)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const last = Math.max(...results.map((r) => new Date((r.body as { last_heartbeat_at: string }).last_heartbeat_at).getTime()));
    const used = ((await quota(p)).body as { used_seconds: number }).used_seconds;
    expect(used).toBeGreaterThanOrEqual(30);
    expect(used).toBeLessThanOrEqual(Math.floor((last - from) / 1000));
    expect(Math.max(...results.map((r) => (r.body as { used_seconds: number }).used_seconds))).toBe(used);
  });

  it('404 for an unknown or another user\'s session, 409 once ended or timed out, 422 for a bad id', async () => {
    const [p, q] = [await person(t, 'lha'), await person(t, 'lhb')];
    const id = await startSession(t, p.access);
    for (const res of [await heartbeat(q, id), await heartbeat(p, UNKNOWN_ID)]) expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: notFoundBody('Live session') });
    await backdate(t, id, 61);
    const late = await heartbeat(p, id);
    expect({ status: late.status, body: late.body }).toEqual({ status: 409, body: coded('session_already_ended', 'Session has already ended', { session_id: id }) });
    const bad = await t.rest('POST', '/api/live/session/heartbeat', { json: { session_id: 'nope' }, headers: bearer(p.access) });
    expect(bad.status).toBe(422);
    expect((bad.body as { detail: { type: string; loc: string[] }[] }).detail.map((d) => [d.type, d.loc])).toEqual([['uuid_parsing', ['body', 'session_id']]]);
  });
});

describe('LIVE-4 end', () => {
  /** A fresh person's session: `credited` seconds credited by a heartbeat, then `silent` seconds without one. */
  const creditedThenSilent = async (prefix: string, credited: number, silent: number) => {
    const p = await person(t, prefix);
    const id = await startSession(t, p.access);
    await backdate(t, id, credited);
    await heartbeat(p, id);
    await backdate(t, id, silent);
    return { p, id };
  };

  it('ends with the last credit, and is idempotent', async () => {
    const { p, id } = await creditedThenSilent('le', 50, 40);
    const res = await end(p, id);
    const body = res.body as Record<string, unknown>;
    expect({ status: res.status, body }).toEqual({
      status: 200,
      body: endedVoiceSession(id, { billed_seconds: 90, remaining_seconds: 1710, end_reason: 'client', xp_awarded: 2 }),
    });
    expect(body.duration_seconds).toBeGreaterThanOrEqual(90);
    const again = await end(p, id);
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body });
    expect((await quota(p)).body).toMatchObject({ used_seconds: 90, active_session_id: null });
    const other = await end(await person(t, 'leo'), id);
    expect({ status: other.status, body: other.body }).toEqual({ status: 404, body: notFoundBody('Live session') });
  });

  it('the sweeper ends a silent session at its last heartbeat with reason timeout', async () => {
    const { p, id } = await creditedThenSilent('lsw', 40, 61);
    await until(async () => (await liveSql(t, `select 1 from "live"."sessions" where "id" = ? and "ended_at" is not null`, [id])).length === 1);
    const [row] = await liveSql<{ last_heartbeat_at: Date | string }>(t, `select "last_heartbeat_at" from "live"."sessions" where "id" = ?`, [id]);
    const res = await end(p, id);
    expect(res.body).toMatchObject({ status: 'ended', end_reason: 'timeout', billed_seconds: 40, ended_at: new Date(row?.last_heartbeat_at ?? 0).toISOString(), xp_awarded: 0 });
  });
});

describe('API-key scopes', () => {
  it('live:read reads the quota; starting needs live:write', async () => {
    const p = await person(t, 'lk');
    const org = await createOrg(t, p);
    const { key } = await createKey(t, p, org.id, ['live:read']);
    expect((await t.rest('GET', '/api/live/quota', { headers: apiKey(key) })).status).toBe(200);
    const res = await t.rest('POST', '/api/live/session/start', { json: { session_type: 'voice' }, headers: apiKey(key) });
    expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: scopeMissing('live:write', ['live:read']) });
    const { key: writer } = await createKey(t, p, org.id, ['live:write']);
    expect((await t.rest('POST', '/api/live/session/start', { json: { session_type: 'voice' }, headers: apiKey(writer) })).status).toBe(201);
    const read = await t.rest('GET', '/api/live/quota', { headers: apiKey(writer) });
    expect({ status: read.status, body: read.body }).toEqual({ status: 403, body: scopeMissing('live:read', ['live:write']) });
  });
});

describe('credits on their way to learning', () => {
  /** Runs SQL on learning's database (its recorded activities), as liveSql does on live's. */
  const learningSql = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const orm = t.stack.subgraphs.find((s) => s.name === 'learning')?.orm;
    if (!orm) throw new Error('learning subgraph is not running');
    return orm.em.fork().getConnection().execute<T[]>(sql, params);
  };
  const records = (userId: string) =>
    liveSql<{ id: string; amount: number | null; attempts: number; delivered: boolean }>(
      t,
      `select "id", ("payload"->>'amount')::int as "amount", "attempts", "delivered_at" is not null as "delivered" from "live"."xp_outbox" where "user_id" = ? order by "created_at", "id"`,
      [userId],
    );
  const learned = async (p: Person) => ({
    activities: await learningSql<{ kind: string; amount: number }>(`select "kind", "amount" from "learning"."activities" where "user_id" = ?`, [p.id]),
    figures: (await t.gql('{ xpProfile { todayXpBreakdown { liveSession } } learningTime { bySource { live } } }', {}, bearer(p.access))).body.data,
  });

  it('a running session\'s credits add up in one record (not due for a minute), sealed and sent with its end; sent again, counted once', async () => {
    const p = await person(t, 'lcr');
    const id = await startSession(t, p.access);
    for (const gap of [50, 50, 50]) {
      await backdate(t, id, gap);
      expect((await heartbeat(p, id)).status).toBe(200);
    }
    expect(await records(p.id)).toEqual([{ id: `live_credit_open:${id}`, amount: 150, attempts: 0, delivered: false }]);
    expect((await end(p, id)).body).toMatchObject({ billed_seconds: 150, xp_awarded: 4 });
    await until(async () => (await records(p.id)).every((r) => r.delivered));
    const sealed = expect.stringMatching(new RegExp(`^live_credit:${id}:\\d{4}-\\d\\d-\\d\\dT`));
    expect(await records(p.id)).toEqual([
      { id: sealed, amount: 150, attempts: 1, delivered: true },
      { id: `live_session:${id}`, amount: null, attempts: 1, delivered: true },
    ]);
    const once = { activities: [{ kind: 'live_credit', amount: 150 }], figures: { xpProfile: { todayXpBreakdown: { liveSession: 4 } }, learningTime: { bySource: { live: 150 } } } };
    expect(await learned(p)).toEqual(once);
    // Delivered again, as after a crash between learning's answer and the records being marked.
    await liveSql(t, `update "live"."xp_outbox" set "delivered_at" = null, "next_attempt_at" = now() where "user_id" = ?`, [p.id]);
    await until(async () => (await records(p.id)).every((r) => r.delivered && r.attempts === 2), 20_000);
    expect(await learned(p)).toEqual(once);
  });
});
