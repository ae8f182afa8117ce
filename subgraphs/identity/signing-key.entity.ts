/** ES256 signing keys for access tokens. Private JWKs are sealed with ENCRYPTION_KEY at rest. */
import { createdAt, entitySchema } from '../../kernel/entity-schema.ts';

export interface SigningKey {
  kid: string;
  privateJwkSealed: string;
  publicJwk: Record<string, unknown>;
  active: boolean;
  createdAt: Date;
  retiredAt: Date | null;
}

export const SigningKeySchema = entitySchema<SigningKey>('SigningKey', 'signing_keys', {
  kid: { type: 'string', primary: true },
  privateJwkSealed: { type: 'text', fieldName: 'private_jwk_sealed' },
  publicJwk: { type: 'json', fieldName: 'public_jwk' },
  active: { type: 'boolean' },
  ...createdAt(),
  retiredAt: { type: 'Date', nullable: true, fieldName: 'retired_at' },
});
