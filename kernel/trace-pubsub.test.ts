/**
 * PubSub messages with tracing off in this process: payloads travel bare, and a message from a
 * replica that traces (an envelope with its trace context) reaches handlers unwrapped, so replicas
 * with and without tracing can share one Redis.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryPubSub } from './pubsub.ts';
import { deliver, tracedPublish } from './trace-pubsub.ts';
import { tracingEnabled } from './telemetry.ts';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('PubSub messages without tracing', () => {
  it('publishes the bare payload', async () => {
    expect(tracingEnabled()).toBe(false);
    const sent: unknown[] = [];
    await tracedPublish('memory', 'c', { n: 1 }, async (m) => void sent.push(m));
    expect(sent).toEqual([{ n: 1 }]);
    const pubsub = createMemoryPubSub();
    const got: unknown[] = [];
    await pubsub.subscribe('c', (p) => got.push(p));
    await pubsub.publish('c', { n: 2 });
    expect(got).toEqual([{ n: 2 }]);
  });

  it("unwraps a traced replica's envelope, and leaves payloads that only look like one", () => {
    const got: unknown[] = [];
    deliver('redis', 'c', { '@trace': { traceparent }, '@payload': { n: 3 } }, (p) => got.push(p));
    deliver('redis', 'c', { '@trace': { traceparent }, '@payload': 1, other: true }, (p) => got.push(p));
    deliver('redis', 'c', { '@trace': 'x', '@payload': 2 }, (p) => got.push(p));
    deliver('redis', 'c', 'text', (p) => got.push(p));
    expect(got).toEqual([{ n: 3 }, { '@trace': { traceparent }, '@payload': 1, other: true }, { '@trace': 'x', '@payload': 2 }, 'text']);
  });
});
