/**
 * Refresh-token families ("sessions") and their tokens (§4.1). An access token's `sid` names
 * its family; revoking a family invalidates every access and refresh token in it.
 */
import { createdAt, entitySchema, uuidId } from '../../kernel/entity-schema.ts';

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

export const SessionFamilySchema = entitySchema<SessionFamily>('SessionFamily', 'session_families', {
  ...uuidId(),
  userId: { type: 'uuid', fieldName: 'user_id' },
  ...createdAt(),
  revokedAt: { type: 'Date', nullable: true, fieldName: 'revoked_at' },
  revokedReason: { type: 'string', nullable: true, fieldName: 'revoked_reason' },
});

export const RefreshTokenSchema = entitySchema<RefreshToken>('RefreshToken', 'refresh_tokens', {
  ...uuidId(),
  familyId: { type: 'uuid', fieldName: 'family_id' },
  userId: { type: 'uuid', fieldName: 'user_id' },
  tokenHash: { type: 'string', unique: true, fieldName: 'token_hash' },
  ...createdAt(),
  expiresAt: { type: 'Date', fieldName: 'expires_at' },
  consumedAt: { type: 'Date', nullable: true, fieldName: 'consumed_at' },
});
