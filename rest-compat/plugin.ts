/**
 * The REST compatibility layer as a gateway plugin: the composition root (bin/) hands it to
 * `createGateway`, which never imports rest-compat itself.
 */
import type { GatewayPlugin } from '../gateway/plugin.ts';
import type { Route } from './route.ts';
import { registerRestCompat } from './engine.ts';
import { operationIdsByRoute } from './openapi.ts';
import { ROUTES } from './areas/index.ts';

/** Mounts the route table (default: every documented route) on the gateway's executor. */
export function restCompat(routes: readonly Route[] = ROUTES): GatewayPlugin {
  return {
    name: 'rest-compat',
    operations: operationIdsByRoute(routes),
    register: ({ app, ...deps }) => registerRestCompat(app, deps, routes),
  };
}
