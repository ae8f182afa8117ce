/**
 * Ends a long-lived result stream (REST's Server-Sent Events) when the credential it was opened
 * with is revoked: logout or a revoked session family for a bearer token, deletion for an API key.
 * The stream yields one last result carrying the error the credential would now get
 * (`TOKEN_REVOKED`, `INVALID_API_KEY`), which REST sends as an `error` event, and then ends and
 * releases its source. graphql-ws sockets are closed with 4403 instead (ws-server.ts).
 *
 * Written by hand rather than as an `async function*` so `return()` releases the source at once
 * even while a `next()` is waiting (an `async function*` cannot be closed while it awaits the next upstream event).
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { AuthContext } from '../../kernel/context.ts';
import { AppError, toGraphQLExtensions, type ErrorCode } from '../../kernel/errors.ts';
import type { Revocation } from '../auth.ts';

/** The error code a revocation gives `auth`, or null when it does not concern it. */
export function revokedCode(auth: Pick<AuthContext, 'sessionId' | 'apiKeyId'>, revoked: Revocation): ErrorCode | null {
  if (auth.sessionId && revoked.sessionIds.includes(auth.sessionId)) return 'TOKEN_REVOKED';
  if (auth.apiKeyId && revoked.apiKeyIds.includes(auth.apiKeyId)) return 'INVALID_API_KEY';
  return null;
}

export function endOnRevocation(
  source: AsyncIterator<ExecutionResult>,
  auth: AuthContext,
  onRevoked: (listener: (revoked: Revocation) => void) => () => void,
): AsyncIterableIterator<ExecutionResult> {
  let finished = false;
  let signal: (result: ExecutionResult) => void = () => {};
  const revokedResult = new Promise<ExecutionResult>((resolve) => (signal = resolve));
  const unsubscribe = onRevoked((revoked) => {
    const code = revokedCode(auth, revoked);
    if (!code) return;
    const error = new AppError(code);
    signal({ data: null, errors: [new GraphQLError(error.message, { extensions: toGraphQLExtensions(error) })] });
  });
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    if (!finished) {
      finished = true;
      unsubscribe();
      await source.return?.();
    }
    return { done: true, value: undefined };
  };
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      const next = await Promise.race([source.next(), revokedResult.then((value) => ({ revoked: true as const, value }))]);
      if ('revoked' in next) {
        await finish();
        return { done: false, value: next.value };
      }
      if (next.done) {
        finished = true;
        unsubscribe();
      }
      return next;
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
