/**
 * One multiplexed graphql-ws connection per subgraph address (a supergraph reload that moves a
 * subgraph opens a new one; subscriptions on the old one end with it). The connection authenticates
 * with the gateway's service credential; each subscription carries its caller's signed context in
 * `extensions`. A dropped connection ends every subscription on it with an error (no silent hang).
 */
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import type { ExecutionResult } from 'graphql';
import { CONTEXT_HEADER, SERVICE_HEADER } from '../../kernel/context.ts';

export interface UpstreamSink {
  next(result: ExecutionResult): void;
  error(err: unknown): void;
  complete(): void;
}

export interface UpstreamPoolOptions {
  /** Subgraph GraphQL URL (http://host:port/graphql) by name, as the current supergraph routes it. */
  urlOf(name: string): string;
  serviceCredential(): Promise<string>;
}

export class UpstreamPool {
  private readonly clients = new Map<string, Client>();
  private active = 0;

  constructor(private readonly options: UpstreamPoolOptions) {}

  /** Upstream subscriptions currently open (for metrics and tests). */
  get activeCount(): number {
    return this.active;
  }

  private client(name: string): Client {
    const url = this.options.urlOf(name).replace(/^http/, 'ws');
    let client = this.clients.get(url);
    if (!client) {
      client = createClient({
        url,
        webSocketImpl: WebSocket,
        lazy: true,
        // Keep the socket a moment after the last subscription, so churn does not reconnect.
        lazyCloseTimeout: 1_000,
        retryAttempts: 0,
        keepAlive: 12_000,
        connectionParams: async () => ({ [SERVICE_HEADER]: await this.options.serviceCredential() }),
      });
      this.clients.set(url, client);
    }
    return client;
  }

  /**
   * Starts `query` on subgraph `name` for the caller whose signed context is `context`.
   * Returns a function that releases the upstream subscription at once.
   */
  subscribe(name: string, query: string, variables: Record<string, unknown>, context: string, sink: UpstreamSink): () => void {
    this.active += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.active -= 1;
    };
    const dispose = this.client(name).subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query, variables, extensions: { [CONTEXT_HEADER]: context } },
      {
        next: (value) => sink.next(value as ExecutionResult),
        error: (err) => {
          release();
          sink.error(err);
        },
        complete: () => {
          release();
          sink.complete();
        },
      },
    );
    return () => {
      if (released) return;
      release();
      dispose();
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.dispose()));
    this.clients.clear();
  }
}
