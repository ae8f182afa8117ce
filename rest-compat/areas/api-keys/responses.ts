/** The response bodies of the API Keys area (§3.10), read from the `ApiKeyResponseFields` fragment. */
import { r, response, within } from '../../response.ts';

const apiKey = {
  id: r.uuid(),
  name: r.str(),
  organization_id: r.uuid(),
  key_prefix: r.str({ description: 'The first 12 characters of the key.' }),
  scopes: r.strings(),
  allowed_ips: r.strings(),
  expires_at: r.dateTimeOrNull(),
  expired: r.bool(),
  created_by: r.uuid(),
  created_at: r.dateTime(),
  last_used_at: r.dateTimeOrNull(),
};

/** An `ApiKey`. */
export const APIKeyResponse = response('APIKeyResponse', apiKey);

/** A `CreateApiKeyPayload`: the key's fields plus the full key, shown this once. */
export const APIKeyCreateResponse = response('APIKeyCreateResponse', {
  ...within('apiKey', apiKey),
  key: r.str({ description: 'The full key, shown only here, once.' }),
});
