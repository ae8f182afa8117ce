/** XEL sessions and transcripts (XEL-10..13, §4.7) through the gateway: replacement, the 1800 s idle timeout, XP and learning time. */
import { describe, expect, it } from 'vitest';
import { coded, notFoundBody, TIMESTAMP, UNKNOWN_ID, UUID_V4, wire } from './assertions.ts';
import { at, learner, type Learner, useLearningStack } from './learning-fixtures.ts';
import { loadCatalogue } from '../subgraphs/learning/xel.catalogue.ts';

const t = useLearningStack();

const module = loadCatalogue().modules[0]!;
const post = (l: Learner, path: string, json?: unknown) => t.rest('POST', path, { json, headers: l.headers });
const start = async (l: Learner, json?: unknown) => (await post(l, '/api/xel/sessions/start', json)).body as { id: string };
const ended = (id: string) => ({ status: 409, body: coded('session_already_ended', 'Session has already ended', { session_id: id }) });
const learningSql = (sql: string, params: unknown[]) => t.stack.subgraphs.find((s) => s.name === 'learning')!.orm.em.fork().getConnection().execute(sql, params);

describe('XEL-10 and XEL-11', () => {
  it('starts, ends after 10 minutes with 10 XP and the learning time; a second end is 409', async () => {
    const l = await learner(t);
    at('2026-06-01T09:00:00.000Z');
    const res = await post(l, '/api/xel/sessions/start', { module_id: module.id });
    expect(wire(res)).toEqual({
      status: 201,
      body: { id: expect.stringMatching(UUID_V4), module_id: module.id, status: 'active', started_at: '2026-06-01T09:00:00.000Z', last_activity_at: '2026-06-01T09:00:00.000Z', ended_at: null, duration_seconds: null },
    });
    const id = (res.body as { id: string }).id;
    at('2026-06-01T09:10:05.000Z');
    expect(wire(await post(l, `/api/xel/sessions/${id}/end`))).toEqual({
      status: 200,
      body: { id, module_id: module.id, started_at: '2026-06-01T09:00:00.000Z', ended_at: '2026-06-01T09:10:05.000Z', duration_seconds: 605, end_reason: 'client', xp_awarded: 10 },
    });
    expect(wire(await post(l, `/api/xel/sessions/${id}/end`))).toEqual(ended(id));
    expect((await t.rest('GET', '/api/xp/learning-time', { headers: l.headers })).body).toMatchObject({ total_seconds: 605, session_count: 1, by_source: { chat: 0, xel: 605, live: 0 } });
    expect((await t.rest('GET', '/api/xp/profile', { headers: l.headers })).body).toMatchObject({ today_xp_breakdown: { xel_session: 10 } });
  });

  it('a new start replaces the active session; an idle one times out at its last activity', async () => {
    const l = await learner(t);
    at('2026-06-02T09:00:00.000Z');
    const first = await start(l);
    at('2026-06-02T09:05:00.000Z');
    const second = await start(l);
    expect(wire(await post(l, `/api/xel/sessions/${first.id}/end`))).toEqual(ended(first.id));
    at('2026-06-02T09:06:00.000Z');
    expect((await post(l, `/api/xel/sessions/${second.id}/transcripts`, { role: 'user', text: 'Hello!' })).status).toBe(201);
    at('2026-06-02T09:36:01.000Z'); // 1801 s after the last activity
    expect(wire(await post(l, `/api/xel/sessions/${second.id}/end`))).toEqual(ended(second.id));
    // replaced after 300 s; timed out at 09:06 after 60 s
    expect((await t.rest('GET', '/api/xp/learning-time', { headers: l.headers })).body).toMatchObject({ total_seconds: 360, session_count: 2, by_source: { xel: 360 } });
  });

  it('starts of one user at once: every one answers 201 and one session stays active, the others replaced', async () => {
    const l = await learner(t);
    at('2026-06-03T09:00:00.000Z');
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(l, '/api/xel/sessions/start')));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    const rows = (await learningSql(`select "ended_at", "end_reason" from "learning"."xel_sessions" where "user_id" = ?`, [l.id])) as { ended_at: Date | null; end_reason: string | null }[];
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.ended_at === null)).toHaveLength(1);
    expect(rows.filter((r) => r.end_reason === 'replaced')).toHaveLength(7);
  });

  it('404 Module and 404 Session', async () => {
    const l = await learner(t);
    expect(wire(await post(l, '/api/xel/sessions/start', { module_id: UNKNOWN_ID }))).toEqual({ status: 404, body: notFoundBody('Module') });
    expect(wire(await post(l, `/api/xel/sessions/${UNKNOWN_ID}/end`))).toEqual({ status: 404, body: notFoundBody('Session') });
    const other = await learner(t);
    const s = await start(other);
    expect(wire(await post(l, `/api/xel/sessions/${s.id}/end`))).toEqual({ status: 404, body: notFoundBody('Session') });
    expect(wire(await t.rest('GET', `/api/xel/sessions/${s.id}/transcripts`, { headers: l.headers }))).toEqual({ status: 404, body: notFoundBody('Session') });
  });
});

describe('XEL-12 and XEL-13 transcripts', () => {
  it('entries in order; at most 1,000; none once ended', async () => {
    const l = await learner(t);
    const s = await start(l);
    const a = await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'ai', text: 'How was your weekend?', timestamp: '2026-06-03T10:00:00+02:00' });
    expect(wire(a)).toEqual({ status: 201, body: { id: expect.stringMatching(UUID_V4), session_id: s.id, sequence: 1, role: 'ai', text: 'How was your weekend?', timestamp: '2026-06-03T08:00:00.000Z', created_at: expect.stringMatching(TIMESTAMP) } });
    const b = await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'user', text: 'I went hiking.' });
    expect(b.body).toMatchObject({ sequence: 2, role: 'user', timestamp: expect.stringMatching(TIMESTAMP) });
    expect(wire(await t.rest('GET', `/api/xel/sessions/${s.id}/transcripts`, { headers: l.headers }))).toEqual({ status: 200, body: { session_id: s.id, entries: [a.body, b.body] } });
    const bad = await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'teacher', text: '' });
    expect(bad.status).toBe(422);
    expect((bad.body as { detail: { type: string }[] }).detail.map((d) => d.type)).toEqual(['enum', 'string_too_short']);
    await learningSql(`insert into "learning"."xel_transcripts" ("id", "session_id", "sequence", "role", "text", "timestamp", "created_at")
      select gen_random_uuid(), ?, n, 'user', 'filler', now(), now() from generate_series(3, 999) as n`, [s.id]);
    expect((await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'user', text: 'the thousandth' })).body).toMatchObject({ sequence: 1000 });
    expect(wire(await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'user', text: 'one more' }))).toEqual({ status: 400, body: coded('transcript_limit_reached', 'Session transcript limit reached', { max_entries: 1000 }) });
    expect((await post(l, `/api/xel/sessions/${s.id}/end`)).status).toBe(200);
    expect(wire(await post(l, `/api/xel/sessions/${s.id}/transcripts`, { role: 'user', text: 'late' }))).toEqual(ended(s.id));
  });
});

describe('sessions and submissions', () => {
  it('XEL-5 with an active session records activity; with an ended one it is 409', async () => {
    const l = await learner(t);
    const task = module.tasks[1]!;
    const s = await start(l);
    expect((await post(l, `/api/xel/tasks/${task.id}/submit`, { answer: 'is', session_id: s.id })).status).toBe(201);
    await post(l, `/api/xel/sessions/${s.id}/end`);
    expect(wire(await post(l, `/api/xel/tasks/${task.id}/submit`, { answer: 'is', session_id: s.id }))).toEqual(ended(s.id));
    const gql = await t.gql('mutation { startXelSession { id status moduleId } }', {}, l.headers);
    expect(gql.body).toEqual({ data: { startXelSession: { id: expect.stringMatching(UUID_V4), status: 'active', moduleId: null } } });
  });
});
