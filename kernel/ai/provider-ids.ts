/**
 * The AI provider ids a request may name (§3.2 `ProviderInfo.id`, §4.17). Conversations
 * record the provider they were created with; the generation layer (ai/registry.ts) resolves and
 * runs them, its providers typed against this list.
 */

/** Every provider id, `auto` first (CONV-1 lists them in this order). */
export const PROVIDER_IDS = ['auto', 'local', 'openai', 'anthropic'] as const;

export type ProviderId = (typeof PROVIDER_IDS)[number];

/** True when `id` names a provider of the registry (exact, case-sensitive match). */
export function isKnownProvider(id: string): id is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(id);
}
