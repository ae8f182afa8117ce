/**
 * `npm run bench -- stream`: per-event latency the gateway adds to a streamed reply. One
 * generation (an OpenAI-compatible test server pacing 400 chunks 10 ms apart) is followed live by
 * two subscriptions at once — straight to the chat subgraph and through the gateway — and each
 * event's arrival is compared. Target (issue): p99 ≤ 5 ms added.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { anonymousContext, serviceCredentialProvider, signContext } from '../kernel/context.ts';
import { startFakeAi } from '../test/fake-ai.ts';
import { benchUser, percentile, startDistributed } from './distributed.ts';

const CHUNKS = Number(process.env.BENCH_STREAM_CHUNKS ?? 400);
const RESUME = 'subscription($s: ID!, $a: Int) { chatStreamResume(streamId: $s, afterSeq: $a) { seq type } }';

export async function run(): Promise<void> {
  const fake = await startFakeAi();
  fake.mode = { kind: 'stream', words: Array.from({ length: CHUNKS }, (_, i) => `w${i} `), delayMs: 10 };
  const sys = await startDistributed({ OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'bench', OPENAI_MODELS: 'bench-model', DEFAULT_AI_PROVIDER: 'openai' });
  try {
    const user = await benchUser(sys.gateway);
    const gw = (params: Record<string, string>) => createClient({ url: `${sys.gateway.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: params, retryAttempts: 0 });
    const credential = serviceCredentialProvider('bench', sys.secret);
    const direct = createClient({ url: `${sys.chat.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: async () => ({ 'x-xentree-service': await credential() }), retryAttempts: 0 });
    const starter = gw({ authorization: `Bearer ${user.token}` });
    const viaGateway = gw({ authorization: `Bearer ${user.token}` });

    const arrivals = { direct: new Map<number, number>(), gateway: new Map<number, number>() };
    let attachedAt = 0;
    const done = new Promise<void>((resolve) => {
      let ended = 0;
      const end = () => (++ended === 2 ? resolve() : undefined);
      starter.subscribe(
        { query: 'subscription { chatStream(input: { message: "benchmark" }) { streamId seq type } }' },
        {
          next: (r) => {
            const e = (r.data as { chatStream?: { streamId: string; seq: number } } | undefined)?.chatStream;
            if (!e || e.seq !== 0) return;
            void (async () => {
              const context = await signContext({ ...anonymousContext('bench'), mode: 'bearer', userId: user.id, sessionId: user.sid }, sys.secret);
              const listen = (target: Map<number, number>) => ({
                next: (x: { data?: unknown }) => {
                  const ev = (x.data as { chatStreamResume?: { seq: number } } | undefined)?.chatStreamResume;
                  if (ev) target.set(ev.seq, performance.now());
                },
                error: end,
                complete: end,
              });
              direct.subscribe({ query: RESUME, variables: { s: e.streamId, a: 0 }, extensions: { 'x-xentree-context': context } }, listen(arrivals.direct));
              viaGateway.subscribe({ query: RESUME, variables: { s: e.streamId, a: 0 } }, listen(arrivals.gateway));
              attachedAt = performance.now();
            })();
          },
          error: () => {},
          complete: () => {},
        },
      );
    });
    await done;
    // Only events produced after both subscriptions were live (replayed ones arrive in a burst).
    const added: number[] = [];
    for (const [seq, at] of arrivals.gateway) {
      const d = arrivals.direct.get(seq);
      if (d !== undefined && d > attachedAt + 200) added.push(at - d);
    }
    console.log(`stream bench: ${CHUNKS} chunks 10 ms apart; ${added.length} live events compared (gateway vs direct subgraph subscription)`);
    console.log(`  added latency per event: p50 ${percentile(added, 50).toFixed(2)} ms  p99 ${percentile(added, 99).toFixed(2)} ms  max ${Math.max(...added).toFixed(2)} ms (target p99 <= 5 ms)`);
    await Promise.all([starter.dispose(), viaGateway.dispose(), direct.dispose()]);
  } finally {
    await sys.stop();
    await fake.close();
  }
}
