import { describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { PasswordHasher } from './password.hasher.ts';

describe('PasswordHasher', () => {
  it('hashes and verifies argon2id passwords, and rejects wrong ones and unknown users', async () => {
    const hasher = new PasswordHasher();
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(phc, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(phc, 'wrong')).toBe(false);
    expect(await hasher.verify('not a hash', 'wrong')).toBe(false);
    expect(await hasher.verify(null, 'anything')).toBe(false);
  });

  it('runs at most `concurrency` hashes at once and refuses one that would queue too long with SERVICE_UNAVAILABLE', async () => {
    // One slot, and no patience: while the first hash runs (tens of ms), the others cannot wait.
    const hasher = new PasswordHasher(1, 1);
    const results = await Promise.allSettled([hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]);
    expect(results[0]?.status).toBe('fulfilled');
    const refused = results.slice(1).map((r) => (r.status === 'rejected' && r.reason instanceof AppError ? r.reason.code : r.status));
    expect(refused).toEqual(['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
    // The slot is free again afterwards.
    expect(await hasher.hash('d')).toMatch(/^\$argon2id\$/);
  });

  it('queues within the wait: every hash of a burst completes with enough patience', async () => {
    const hasher = new PasswordHasher(1, 60_000);
    const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hasher.hash(`p${i}`)));
    expect(new Set(hashes).size).toBe(6);
  });
});
