/** Users (accounts). Email and username are stored lowercase and unique (§4.1). */
import { entitySchema, timestamps, uuidId } from '../../kernel/entity-schema.ts';

export type Plan = 'free' | 'pro';
export type PlatformRole = 'user' | 'admin';

export interface User {
  id: string;
  email: string;
  username: string;
  passwordHash: string;
  fullName: string | null;
  timezone: string;
  preferredLanguage: string;
  avatarUrl: string | null;
  liveNickname: string | null;
  plan: Plan;
  role: PlatformRole;
  publicProfileEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const UserSchema = entitySchema<User>('User', 'users', {
  ...uuidId(),
  email: { type: 'string', unique: true },
  username: { type: 'string', unique: true },
  passwordHash: { type: 'string', fieldName: 'password_hash' },
  fullName: { type: 'string', nullable: true, fieldName: 'full_name' },
  timezone: { type: 'string' },
  preferredLanguage: { type: 'string', fieldName: 'preferred_language' },
  avatarUrl: { type: 'string', nullable: true, fieldName: 'avatar_url' },
  liveNickname: { type: 'string', nullable: true, fieldName: 'live_nickname' },
  plan: { type: 'string' },
  role: { type: 'string' },
  publicProfileEnabled: { type: 'boolean', fieldName: 'public_profile_enabled' },
  ...timestamps(),
});
