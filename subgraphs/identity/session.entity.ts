/**
 * Refresh-token families ("sessions") and their tokens (§4.1). An access token's `sid` names
 * its family; revoking a family invalidates every access and refresh token in it.
 */
import { EntitySchema } from '@mikro-orm/postgresql';

export interface SessionFamily {
  id: string;
  userId: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface RefreshToken {
  id: string;
  familyId: string;
  userId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

export const SessionFamilySchema = new EntitySchema<SessionFamily>({
  name: 'SessionFamily',
  tableName: 'session_families',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    revokedAt: { type: 'Date', nullable: true, fieldName: 'revoked_at' },
    revokedReason: { type: 'string', nullable: true, fieldName: 'revoked_reason' },
  },
});

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: { type: 'uuid', primary: true },
    familyId: { type: 'uuid', fieldName: 'family_id' },
    userId: { type: 'uuid', fieldName: 'user_id' },
    tokenHash: { type: 'string', unique: true, fieldName: 'token_hash' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    expiresAt: { type: 'Date', fieldName: 'expires_at' },
    consumedAt: { type: 'Date', nullable: true, fieldName: 'consumed_at' },
  },
});
