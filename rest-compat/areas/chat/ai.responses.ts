/** The response bodies of AI chat (CONV-1, CONV-2, §3.2); CONV-2's `done` stream event carries a ChatResponse too. */
import { r, response } from '../../response.ts';

export const ProviderInfo = response('ProviderInfo', { id: r.str(), name: r.str(), models: r.strings(), default_model: r.strOrNull(), available: r.bool() });

/** `AiProviders`. */
export const ProvidersResponse = response('ProvidersResponse', { default_provider: r.str({ const: 'auto' }), providers: r.list(ProviderInfo) });

export const ChatUsage = response('ChatUsage', { prompt_tokens: r.int(), completion_tokens: r.int(), total_tokens: r.int() });

/** A `ChatResponse`. */
export const ChatResponse = response('ChatResponse', {
  content: r.str(),
  provider: r.str(),
  model: r.str(),
  usage: r.oneOrNull(ChatUsage),
  conversation_id: r.uuidOrNull(),
  message_id: r.uuidOrNull(),
});
