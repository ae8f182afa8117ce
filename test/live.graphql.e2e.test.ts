/** Xentree Live over GraphQL: the operations behind LIVE-1..4 and the `liveEvents` subscription over graphql-ws. */
import { describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bearer, useTestStack } from './harness.ts';
import { UNKNOWN_ID } from './assertions.ts';
import { createKey, createOrg, person, type Person } from './org-fixtures.ts';
import { backdate, setUsage } from './live-fixtures.ts';
import { collect, until, wsClient } from './chat-stream-fixtures.ts';

// Credits reach learning (the live_minutes quest) within a pass of the outbox, not a minute later.
const t = useTestStack({ env: { LIVE_SWEEP_INTERVAL_MS: '100', LIVE_CREDIT_DELIVERY_MS: '50' } });

const SESSION = 'id sessionType status billedSeconds endReason xpAwarded heartbeatIntervalSeconds heartbeatTimeoutSeconds realtimeUrl';
const QUOTA = 'plan quotaSeconds usedSeconds remainingSeconds activeSessionId';
const START = `mutation($t: LiveSessionType!) { startLiveSession(input: { sessionType: $t }) { session { ${SESSION} } quota { ${QUOTA} } } }`;
const HEARTBEAT = `mutation($id: ID!) { heartbeatLiveSession(input: { sessionId: $id }) { session { ${SESSION} } quota { ${QUOTA} } } }`;
const END = `mutation($id: ID!) { endLiveSession(input: { sessionId: $id }) { session { ${SESSION} } quota { ${QUOTA} } } }`;
const EVENTS = 'subscription { liveEvents { type creditedSeconds session { id status billedSeconds endReason xpAwarded } quota { usedSeconds remainingSeconds } user { id username liveNickname } } }';

const start = async (p: Person) => {
  const res = await t.gql(START, { t: 'VOICE' }, bearer(p.access));
  const id = (res.body.data?.startLiveSession as { session: { id: string } } | undefined)?.session.id;
  if (!id) throw new Error(`start failed: ${JSON.stringify(res.body)}`);
  return id;
};
/** A heartbeat after each of `gaps` in turn (the session backdated by that many seconds first). */
const heartbeatsAfter = async (p: Person, id: string, gaps: number[]) => {
  for (const seconds of gaps) {
    await backdate(t, id, seconds);
    await t.gql(HEARTBEAT, { id }, bearer(p.access));
  }
};
const errorOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => {
  const ext = { ...body.errors?.[0]?.extensions };
  delete ext.serviceName;
  return ext;
};

describe('Live over GraphQL', () => {
  it('starts, credits, refuses a second start and ends', async () => {
    const p = await person(t, 'gl');
    const res = await t.gql(START, { t: 'AVATAR' }, bearer(p.access));
    const started = res.body.data?.startLiveSession as { session: { id: string } };
    expect(res.body).toEqual({
      data: {
        startLiveSession: {
          session: { id: started.session.id, sessionType: 'AVATAR', status: 'ACTIVE', billedSeconds: 0, endReason: null, xpAwarded: null, heartbeatIntervalSeconds: 20, heartbeatTimeoutSeconds: 60, realtimeUrl: 'wss://orchstr.xentree.com' },
          quota: { plan: 'FREE', quotaSeconds: 1800, usedSeconds: 0, remainingSeconds: 1800, activeSessionId: started.session.id },
        },
      },
    });
    const again = await t.gql(START, { t: 'VOICE' }, bearer(p.access));
    expect({ data: again.body.data, ext: errorOf(again.body) }).toEqual({ data: null, ext: { code: 'LIVE_SESSION_ACTIVE', status: 409, session_id: started.session.id } });
    await backdate(t, started.session.id, 25);
    const beat = await t.gql(HEARTBEAT, { id: started.session.id }, bearer(p.access));
    expect(beat.body.data?.heartbeatLiveSession).toMatchObject({ session: { billedSeconds: 25, status: 'ACTIVE' }, quota: { usedSeconds: 25, remainingSeconds: 1775 } });
    const ended = await t.gql(END, { id: started.session.id }, bearer(p.access));
    expect(ended.body.data?.endLiveSession).toMatchObject({ session: { status: 'ENDED', endReason: 'CLIENT', billedSeconds: 25, xpAwarded: 0 }, quota: { activeSessionId: null } });
    const missing = await t.gql(HEARTBEAT, { id: UNKNOWN_ID }, bearer(p.access));
    expect(errorOf(missing.body)).toEqual({ code: 'NOT_FOUND', status: 404 });
    expect(missing.body.errors?.[0]?.message).toBe('Live session not found');
    const over = await t.gql(HEARTBEAT, { id: started.session.id }, bearer(p.access));
    expect(errorOf(over.body)).toEqual({ code: 'SESSION_ALREADY_ENDED', status: 409, session_id: started.session.id });
    const q = await t.gql(`{ liveQuota { ${QUOTA} } }`, {}, bearer(p.access));
    expect(q.body).toEqual({ data: { liveQuota: { plan: 'FREE', quotaSeconds: 1800, usedSeconds: 25, remainingSeconds: 1775, activeSessionId: null } } });
  });

  it('ended sessions reach learning: live_session XP and live learning time', async () => {
    const p = await person(t, 'gxp');
    const id = await start(p);
    await heartbeatsAfter(p, id, [55, 50]);
    await backdate(t, id, 30);
    const ended = await t.gql(END, { id }, bearer(p.access));
    expect(ended.body.data?.endLiveSession).toMatchObject({ session: { billedSeconds: 135, xpAwarded: 4 } });
    const learning = async () => (await t.gql('{ xpProfile { todayXpBreakdown { liveSession } } learningTime { bySource { live } } }', {}, bearer(p.access))).body.data;
    await until(async () => JSON.stringify(await learning()) === JSON.stringify({ xpProfile: { todayXpBreakdown: { liveSession: 4 } }, learningTime: { bySource: { live: 135 } } }));
  });
});

describe('the live_minutes quest', () => {
  it('counts the credited seconds of a running session, in whole minutes, up to completion', async () => {
    // Three of seven quest types are picked per user and day: sign up until one has live_minutes.
    type Quest = { type: string; target: number; progress: number; completed: boolean };
    const quests = async (p: Person) => ((await t.gql('{ dailyQuests { quests { type target progress completed } } }', {}, bearer(p.access))).body.data?.dailyQuests as { quests: Quest[] }).quests;
    let p: Person | null = null;
    let quest: Quest | undefined;
    for (let i = 0; i < 30 && !quest; i++) {
      p = await person(t, `gq${i}`);
      quest = (await quests(p)).find((q) => q.type === 'live_minutes');
    }
    if (!p || !quest) throw new Error('no user with a live_minutes quest in 30 sign-ups');
    const who = p;
    expect(quest).toEqual({ type: 'live_minutes', target: quest.target, progress: 0, completed: false });
    const id = await start(who);
    // 50 s credited per heartbeat (a session silent for more than 60 s would be ended).
    const target = quest.target;
    const progress = async () => (await quests(who)).find((q) => q.type === 'live_minutes')?.progress;
    for (let used = 50; used < target * 60 + 50; used += 50) {
      await backdate(t, id, 50);
      const beat = await t.gql(HEARTBEAT, { id }, bearer(who.access));
      expect(beat.body, JSON.stringify(beat.body)).toMatchObject({ data: { heartbeatLiveSession: { quota: { usedSeconds: used } } } });
      // Whole minutes only: 100 s is 1 minute.
      if (used === 100) await until(async () => (await progress()) === 1);
    }
    await until(async () => (await quests(who)).find((q) => q.type === 'live_minutes')?.completed === true);
    expect((await quests(who)).find((q) => q.type === 'live_minutes')).toEqual({ type: 'live_minutes', target, progress: target, completed: true });
  });
});

describe('nicknames and transcripts over GraphQL', () => {
  it('sets a nickname, saves, lists and reads transcripts; refuses bad input and another user', async () => {
    const p = await person(t, 'gnt');
    const nick = await t.gql('mutation { setLiveNickname(input: { nickname: " Ana María " }) { nickname updatedAt } }', {}, bearer(p.access));
    expect(nick.body).toEqual({ data: { setLiveNickname: { nickname: 'Ana María', updatedAt: expect.any(String) } } });
    const bad = await t.gql('mutation { setLiveNickname(input: { nickname: "a" }) { nickname } }', {}, bearer(p.access));
    expect(errorOf(bad.body)).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ type: 'string_too_short', loc: ['input', 'nickname'], ctx: { min_length: 2 } }] });
    const SAVE = 'mutation($input: SaveLiveTranscriptInput!) { saveLiveTranscript(input: $input) { transcript { id turnCount preview durationSeconds } } }';
    const input = { sessionStartedAt: '2026-05-01T08:00:00Z', sessionEndedAt: '2026-05-01T08:01:00Z', transcripts: [{ role: 'USER', text: 'hi', timestamp: '2026-05-01T08:00:01Z' }] };
    const saved = await t.gql(SAVE, { input }, bearer(p.access));
    const id = (saved.body.data?.saveLiveTranscript as { transcript: { id: string } }).transcript.id;
    expect(saved.body).toEqual({ data: { saveLiveTranscript: { transcript: { id, turnCount: 1, preview: 'hi', durationSeconds: 60 } } } });
    const backwards = await t.gql(SAVE, { input: { ...input, sessionEndedAt: '2026-05-01T07:00:00Z' } }, bearer(p.access));
    expect(errorOf(backwards.body)).toEqual({ code: 'INVALID_TIME_RANGE', status: 400 });
    const list = await t.gql('{ liveTranscripts(limit: 5) { total limit offset items { id turns { role text timestamp } } } }', {}, bearer(p.access));
    expect(list.body).toEqual({ data: { liveTranscripts: { total: 1, limit: 5, offset: 0, items: [{ id, turns: [{ role: 'USER', text: 'hi', timestamp: '2026-05-01T08:00:01.000Z' }] }] } } });
    const q = await person(t, 'gnto');
    expect((await t.gql('query($id: ID!) { liveTranscript(id: $id) { id } }', { id }, bearer(q.access))).body).toEqual({ data: { liveTranscript: null } });
    expect((await t.gql('query($id: ID!) { liveTranscript(id: $id) { id } }', { id }, bearer(p.access))).body).toEqual({ data: { liveTranscript: { id } } });
  });
});

interface Received {
  type: string;
  creditedSeconds: number | null;
  session: { id: string; status: string; billedSeconds: number; endReason: string | null; xpAwarded: number | null };
  quota: { usedSeconds: number; remainingSeconds: number };
  user: { id: string; username: string; liveNickname: string | null };
}

/** Subscribes to liveEvents; `events` fills as they arrive. */
function listen(client: Client): { events: Received[]; stop(): void } {
  const events: Received[] = [];
  const stop = client.subscribe<{ liveEvents: Received }>({ query: EVENTS }, {
    next: (r) => {
      if (r.data) events.push(r.data.liveEvents);
    },
    error: () => {},
    complete: () => {},
  });
  return { events, stop };
}

describe('liveEvents over graphql-ws', () => {
  it('two devices see a session start, tick down, run low, run out and end', async () => {
    const p = await person(t, 'gev');
    await t.rest('PUT', '/api/live/nickname', { json: { nickname: 'Vee' }, headers: bearer(p.access) });
    const [a, b] = [wsClient(t.url, p.access), wsClient(t.url, p.access)];
    const [la, lb] = [listen(a), listen(b)];
    try {
      // Probe sessions until both subscriptions deliver (the upstream subscription opens asynchronously).
      await until(async () => {
        const probe = await start(p);
        await new Promise((r) => setTimeout(r, 150));
        await t.gql(END, { id: probe }, bearer(p.access));
        return la.events.length > 0 && lb.events.length > 0;
      }, 10_000);
      await setUsage(t, p.id, 1650);
      const id = await start(p);
      await heartbeatsAfter(p, id, [45, 55]);
      await backdate(t, id, 55);
      const exhausted = await t.gql(HEARTBEAT, { id }, bearer(p.access));
      expect(errorOf(exhausted.body)).toEqual({ code: 'LIVE_QUOTA_EXCEEDED', status: 429 });
      await t.gql(END, { id }, bearer(p.access));
      const mine = (l: { events: Received[] }) => l.events.filter((e) => e.session.id === id);
      await until(() => mine(la).length === 8 && mine(lb).length === 8);
      const user = { id: p.id, username: p.username, liveNickname: 'Vee' };
      const active = (billed: number) => ({ id, status: 'ACTIVE', billedSeconds: billed, endReason: null, xpAwarded: null });
      const expected: Received[] = [
        { type: 'STARTED', creditedSeconds: null, session: active(0), quota: { usedSeconds: 1650, remainingSeconds: 150 }, user },
        { type: 'CREDITED', creditedSeconds: 45, session: active(45), quota: { usedSeconds: 1695, remainingSeconds: 105 }, user },
        { type: 'QUOTA_LOW', creditedSeconds: null, session: active(45), quota: { usedSeconds: 1695, remainingSeconds: 105 }, user },
        { type: 'CREDITED', creditedSeconds: 55, session: active(100), quota: { usedSeconds: 1750, remainingSeconds: 50 }, user },
        { type: 'CREDITED', creditedSeconds: 50, session: active(150), quota: { usedSeconds: 1800, remainingSeconds: 0 }, user },
        { type: 'QUOTA_EXHAUSTED', creditedSeconds: null, session: active(150), quota: { usedSeconds: 1800, remainingSeconds: 0 }, user },
        { type: 'CREDITED', creditedSeconds: 0, session: active(150), quota: { usedSeconds: 1800, remainingSeconds: 0 }, user },
        { type: 'ENDED', creditedSeconds: null, session: { id, status: 'ENDED', billedSeconds: 150, endReason: 'CLIENT', xpAwarded: 4 }, quota: { usedSeconds: 1800, remainingSeconds: 0 }, user },
      ];
      expect(mine(la)).toEqual(expected);
      expect(mine(lb)).toEqual(expected);
    } finally {
      la.stop();
      lb.stop();
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it('an API key needs live:read to subscribe', async () => {
    const p = await person(t, 'gek');
    const org = await createOrg(t, p);
    const { key } = await createKey(t, p, org.id, ['live:write']);
    const client = wsClient(t.url, '', { 'x-api-key': key });
    try {
      const results = await collect(client, 'subscription { liveEvents { type } }');
      expect(results).toEqual([
        {
          data: null,
          errors: [
            {
              message: 'API key lacks required scope for this endpoint',
              path: ['liveEvents'],
              extensions: { code: 'INSUFFICIENT_API_KEY_SCOPE', status: 403, required_scope: 'live:read', granted_scopes: ['live:write'], serviceName: 'live' },
            },
          ],
        },
      ]);
    } finally {
      await client.dispose();
    }
  });
});
