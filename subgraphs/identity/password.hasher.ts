/** argon2id password hashing with API.md §4.1's parameters, and a dummy hash for unknown users. */
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id is an ambient const enum (value 2), unusable under verbatimModuleSyntax.
const ARGON2ID = 2;
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export class PasswordHasher {
  private dummy: Promise<string> | null = null;

  hash(password: string): Promise<string> {
    return hash(password, PARAMS);
  }

  /** Verifies against `phc`, or against a dummy hash when the user is unknown, so both take as long. */
  async verify(phc: string | null, password: string): Promise<boolean> {
    if (phc === null) {
      this.dummy ??= hash('dummy-password-for-timing', PARAMS);
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    return verify(phc, password).catch(() => false);
  }
}
