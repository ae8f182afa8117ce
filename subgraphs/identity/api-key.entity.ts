/** API keys (§4.14): only the SHA-256 of the key is stored, plus its first 12 characters. */
import { createdAt, entitySchema, uuidId } from '../../kernel/entity-schema.ts';

export interface ApiKey {
  id: string;
  name: string;
  organizationId: string;
  keyHash: string;
  keyPrefix: string;
  scopes: string[];
  allowedIps: string[];
  expiresAt: Date | null;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const ApiKeySchema = entitySchema<ApiKey>('ApiKey', 'api_keys', {
  ...uuidId(),
  name: { type: 'string' },
  organizationId: { type: 'uuid', fieldName: 'organization_id' },
  keyHash: { type: 'string', unique: true, fieldName: 'key_hash' },
  keyPrefix: { type: 'string', fieldName: 'key_prefix' },
  scopes: { type: 'json' },
  allowedIps: { type: 'json', fieldName: 'allowed_ips' },
  expiresAt: { type: 'Date', nullable: true, fieldName: 'expires_at' },
  createdBy: { type: 'uuid', fieldName: 'created_by' },
  ...createdAt(),
  lastUsedAt: { type: 'Date', nullable: true, fieldName: 'last_used_at' },
});
