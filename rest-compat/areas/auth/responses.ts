/** The response bodies of the Authentication area (§3.1). */
import { r, response } from '../../response.ts';

const utc = { description: 'UTC, ISO 8601 with exactly 3 fractional digits and `Z`.' };

/** A `User`, from the `UserProfileFields` fragment. */
export const UserProfile = response('UserProfile', {
  id: r.uuid(),
  email: r.str({ description: 'Lowercased.' }),
  username: r.str({ description: 'Lowercased.' }),
  full_name: r.strOrNull(),
  timezone: r.str({ description: 'IANA time zone.' }),
  preferred_language: r.str(),
  avatar_url: r.strOrNull(),
  live_nickname: r.strOrNull(),
  plan: r.lower({ type: 'string', enum: ['free', 'pro'] }),
  role: r.lower({ type: 'string', enum: ['user', 'admin'], description: 'Platform role.' }),
  public_profile_enabled: r.bool(),
  created_at: r.dateTime(utc),
  updated_at: r.dateTime(utc),
});

/** A `TokenPayload` of login and refresh. */
export const TokenResponse = response('TokenResponse', {
  access_token: r.str({ description: 'A JWT (ES256).' }),
  token_type: r.str({ const: 'bearer' }),
  refresh_token: r.str({ description: 'Opaque; single use.' }),
});

export const LogoutResponse = response('LogoutResponse', { message: r.str({ const: 'Logged out' }) });
