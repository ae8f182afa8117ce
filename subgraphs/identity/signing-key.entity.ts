/** ES256 signing keys for access tokens. Private JWKs are sealed with ENCRYPTION_KEY at rest. */
import { EntitySchema } from '@mikro-orm/postgresql';

export interface SigningKey {
  kid: string;
  privateJwkSealed: string;
  publicJwk: Record<string, unknown>;
  active: boolean;
  createdAt: Date;
  retiredAt: Date | null;
}

export const SigningKeySchema = new EntitySchema<SigningKey>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  properties: {
    kid: { type: 'string', primary: true },
    privateJwkSealed: { type: 'text', fieldName: 'private_jwk_sealed' },
    publicJwk: { type: 'json', fieldName: 'public_jwk' },
    active: { type: 'boolean' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    retiredAt: { type: 'Date', nullable: true, fieldName: 'retired_at' },
  },
});
