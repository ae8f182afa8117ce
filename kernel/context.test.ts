import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from './errors.ts';
import { anonymousContext, reusableContext, signContext, signServiceCredential, verifyContext, verifyServiceCredential, withRequestId, type AuthContext } from './context.ts';

const SECRET = 's'.repeat(40);
const ctx: AuthContext = { ...anonymousContext('req-1', '127.0.0.1'), mode: 'bearer', userId: '6f1c1f7e-8a52-4a43-9c55-5c4b6a1f0e11', scopes: ['a:b'] };

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('signed internal context', () => {
  it('round-trips the whole context', async () => {
    expect(await verifyContext(await signContext(ctx, SECRET), SECRET)).toEqual(ctx);
  });

  it('rejects a missing, forged, tampered, alg-none or expired context', async () => {
    const token = await signContext(ctx, SECRET);
    expect(await rejection(verifyContext(undefined, SECRET))).toEqual({ code: 'UNAUTHENTICATED', message: 'Missing internal context' });
    const invalid = { code: 'UNAUTHENTICATED', message: 'Invalid internal context' };
    expect(await rejection(verifyContext(token, 'o'.repeat(40)))).toEqual(invalid);
    const [h, p, sig] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { ctx: AuthContext };
    payload.ctx.role = 'admin';
    expect(await rejection(verifyContext(`${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`, SECRET))).toEqual(invalid);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(await rejection(verifyContext(`${none}.${p}.`, SECRET))).toEqual(invalid);
    vi.useFakeTimers({ now: Date.now() + 61_000 });
    expect(await rejection(verifyContext(token, SECRET))).toEqual(invalid);
  });

  it('answers a context verified before the same way until it expires, and never under another secret', async () => {
    const token = await signContext(ctx, SECRET);
    const first = await verifyContext(token, SECRET);
    first.scopes.push('x:y');
    first.userId = null;
    expect(await verifyContext(token, SECRET)).toEqual(ctx);
    const invalid = { code: 'UNAUTHENTICATED', message: 'Invalid internal context' };
    expect(await rejection(verifyContext(token, 'o'.repeat(40)))).toEqual(invalid);
    vi.useFakeTimers({ now: Date.now() + 61_000 });
    expect(await rejection(verifyContext(token, SECRET))).toEqual(invalid);
  });

  it('keeps the two audiences apart', async () => {
    const credential = await signServiceCredential('orgs', SECRET);
    expect(await verifyServiceCredential(credential, SECRET)).toBe('orgs');
    expect(await rejection(verifyContext(credential, SECRET))).toEqual({ code: 'UNAUTHENTICATED', message: 'Invalid internal context' });
    expect(await verifyServiceCredential(await signContext(ctx, SECRET), SECRET)).toBeNull();
    expect(await verifyServiceCredential(credential, 'o'.repeat(40))).toBeNull();
  });
});

describe('reusable context', () => {
  it('is one token per caller for 30 s whatever the request id, never shared by callers that differ in any other field', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-06T10:00:00Z'));
    const first = await reusableContext(ctx, SECRET);
    expect(await reusableContext({ ...ctx, requestId: 'req-2' }, SECRET)).toBe(first);
    const others = [{ ...ctx, userId: '0d3b7a40-7f65-4f0e-9d4e-1f1d7f3f9a01' }, { ...ctx, scopes: ['a:b', 'c:d'] }, { ...ctx, clientIp: '10.0.0.9' }, { ...ctx, sessionId: 's-2' }, { ...ctx, plan: 'pro' as const }];
    for (const other of others) expect(await reusableContext(other, SECRET)).not.toBe(first);
    expect(await reusableContext(ctx, 't'.repeat(40))).not.toBe(first);
    // The receiver names the request from the header beside it.
    expect(withRequestId(await verifyContext(first, SECRET), 'req-2')).toEqual({ ...ctx, requestId: 'req-2' });
    vi.setSystemTime(new Date('2026-12-06T10:00:29Z'));
    expect(await reusableContext(ctx, SECRET)).toBe(first);
    vi.setSystemTime(new Date('2026-12-06T10:00:31Z'));
    const next = await reusableContext(ctx, SECRET);
    expect(next).not.toBe(first);
    expect(await verifyContext(next, SECRET)).toEqual(ctx);
  });
});
