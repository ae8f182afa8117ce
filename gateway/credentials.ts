/**
 * The gateway's identity service client and the credentials of a request as the authenticator
 * reads them, for HTTP requests and for WebSocket upgrades alike.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { TRPCClient } from '@trpc/client';
import type { Config } from '../kernel/config.ts';
import { anonymousContext, type AuthContext } from '../kernel/context.ts';
import { AppError } from '../kernel/errors.ts';
import { isUuid } from '../kernel/input.ts';
import { callInternal } from '../kernel/trpc.ts';
import type { PubSub } from '../kernel/pubsub.ts';
import { createInternalClient } from '../kernel/trpc.ts';
import type { IdentityRouter } from '../subgraphs/identity/router.ts';
import { Authenticator, clientIpOf, requestIdOf } from './auth.ts';

/** The identity client the gateway authenticates with (and checks identity's health through). */
export function createIdentityClient(config: Config, baseUrl: string | undefined): TRPCClient<IdentityRouter> {
  return createInternalClient<IdentityRouter>({
    target: 'identity',
    baseUrl: baseUrl ?? config.subgraphUrls.identity,
    caller: 'gateway',
    secret: config.internalServiceKey,
    timeoutMs: config.trpcTimeoutMs,
    maxBatch: config.trpcMaxBatch,
  });
}

/** A started authenticator (listening for revocations on `pubsub`). */
export async function startAuthenticator(identity: TRPCClient<IdentityRouter>, pubsub: PubSub): Promise<Authenticator> {
  const authenticator = new Authenticator(identity, pubsub);
  await authenticator.start();
  return authenticator;
}

function firstHeader(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Authenticates an HTTP request by its `Authorization` or `X-API-Key` header. */
export function httpAuthentication(authenticator: Authenticator, trustProxy: boolean): (req: FastifyRequest) => Promise<AuthContext> {
  return (req) =>
    authenticator.authenticate({
      authorization: firstHeader(req, 'authorization'),
      apiKey: firstHeader(req, 'x-api-key'),
      requestId: req.id,
      clientIp: clientIpOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustProxy),
    });
}

/** Authenticates a WebSocket connection by the credentials of its `connection_init` and its upgrade request. */
export function upgradeAuthentication(authenticator: Authenticator, trustProxy: boolean) {
  return (headers: { authorization?: string; apiKey?: string }, req: IncomingMessage): Promise<AuthContext> =>
    authenticator.authenticate({
      authorization: headers.authorization,
      apiKey: headers.apiKey,
      requestId: requestIdOf(req.headers['x-request-id']),
      clientIp: clientIpOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustProxy),
    });
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The internal service mode (LIVE-7 only): `X-Internal-Service-Key` must equal the internal
 * secret, compared in constant time (as digests, so the length leaks nothing either), and
 * `X-Acting-User-Id` must name an existing user, who becomes the acting principal.
 * @throws INVALID_SERVICE_KEY for a wrong or empty key, or a missing, malformed or unknown user.
 */
export function internalAuthentication(identity: TRPCClient<IdentityRouter>, secret: string | null, trustProxy: boolean): (req: FastifyRequest) => Promise<AuthContext> {
  const expected = secret ? digest(secret) : null;
  return async (req) => {
    const key = firstHeader(req, 'x-internal-service-key') ?? '';
    const acting = (firstHeader(req, 'x-acting-user-id') ?? '').trim().toLowerCase();
    if (!expected || !timingSafeEqual(digest(key), expected) || !isUuid(acting)) throw new AppError('INVALID_SERVICE_KEY');
    const [user] = await callInternal(identity.usersByIds.query({ ids: [acting] }));
    if (!user) throw new AppError('INVALID_SERVICE_KEY');
    return {
      ...anonymousContext(req.id, clientIpOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustProxy)),
      mode: 'internal',
      userId: user.id,
      role: user.role === 'admin' ? 'admin' : 'user',
      plan: user.plan === 'pro' ? 'pro' : 'free',
      timezone: user.timezone,
    };
  };
}
