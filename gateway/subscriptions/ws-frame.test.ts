import { GraphQLError } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { EventResult, type Result } from './engine.ts';
import { nextFrameOf } from './ws-server.ts';

/** What graphql-ws's own `next` emission writes for `result` (server.ts: errors as toJSON(), after the rest). */
function graphqlWsFrame(id: string, result: Result): string {
  const { errors, ...rest } = result;
  return stringifyMessage({ id, type: MessageType.Next, payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) } });
}

describe('a subscription event serialised once for every subscriber', () => {
  const cases: [string, Result][] = [
    ['data', { data: { messageAdded: { id: 'm1', role: 'USER', content: 'héllo "quoted" \u2028 line' } } }],
    ['data and errors', { data: null, errors: [new GraphQLError('Not allowed', { path: ['messageAdded'], extensions: { code: 'FORBIDDEN', status: 403 } })] }],
    ['errors only', { errors: [new GraphQLError('Subscription source "chat" is unavailable', { extensions: { code: 'SERVICE_UNAVAILABLE', status: 503, serviceName: 'chat' } })] }],
  ];
  it.each(cases)('frames %s exactly as graphql-ws does, for each subscription id', (_, result) => {
    const event = new EventResult(result);
    for (const id of ['1', '0b4c6f1e-2f43-4c0e-9a55-7a2d2b8c9d10', 'id "with" quotes']) {
      expect(nextFrameOf(id)(event).toString('utf8')).toBe(graphqlWsFrame(id, result));
    }
    // Serialised once: the same bytes for every subscriber.
    expect(event.payloadBytes).toBe(event.payloadBytes);
  });
});
