/**
 * The provider registry (§4.17): providers come from configuration, `auto` routes to the
 * configured default (else the first configured remote provider, else `local`).
 */
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { createAnthropicProvider } from './anthropic.provider.ts';
import { createLocalProvider } from './local.provider.ts';
import { createOpenAiProvider } from './openai.provider.ts';
import type { AiProvider } from './provider.ts';
import { tracedProvider } from './traced.provider.ts';

/** CONV-1's `ProviderInfo`. */
export interface ProviderInfo {
  id: string;
  name: string;
  models: string[];
  defaultModel: string | null;
  available: boolean;
}

export interface ResolvedProvider {
  /** What the caller asked for (echoed in responses, e.g. `auto`). */
  requested: string;
  provider: AiProvider;
  model: string;
}

export class ProviderRegistry {
  private readonly providers: AiProvider[];

  constructor(private readonly ai: Config['ai']) {
    this.providers = [
      createLocalProvider(),
      createOpenAiProvider({ ...ai.openai, timeoutMs: ai.timeoutMs }),
      createAnthropicProvider({ ...ai.anthropic, timeoutMs: ai.timeoutMs }),
    ];
  }

  /** CONV-1: `auto` first, then every provider with its models and availability. */
  list(): { defaultProvider: 'auto'; providers: ProviderInfo[] } {
    const target = this.byId(this.ai.defaultProvider);
    const auto: ProviderInfo = {
      id: 'auto',
      name: `Automatic (${target?.name ?? 'none'})`,
      models: target?.models ?? [],
      defaultModel: target?.defaultModel ?? null,
      available: this.providers.some((p) => p.available),
    };
    return {
      defaultProvider: 'auto',
      providers: [auto, ...this.providers.map((p) => ({ id: p.id, name: p.name, models: p.models, defaultModel: p.defaultModel, available: p.available }))],
    };
  }

  /**
   * Resolves a requested provider id (default `auto`).
   * @throws UNKNOWN_PROVIDER (with `provider`) for an unknown or unavailable provider
   */
  resolve(requested: string | null | undefined): ResolvedProvider {
    const id = requested ?? 'auto';
    const provider = id === 'auto' ? (this.byId(this.ai.defaultProvider) ?? this.byId('local')) : this.byId(id);
    if (!provider?.available || !provider.defaultModel) throw new AppError('UNKNOWN_PROVIDER', { extras: { provider: id } });
    return { requested: id, provider: tracedProvider(provider), model: provider.defaultModel };
  }

  private byId(id: string): AiProvider | undefined {
    return this.providers.find((p) => p.id === id);
  }
}
