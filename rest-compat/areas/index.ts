/**
 * The REST areas (§3). Each area is a folder, `areas/<area>/`, holding side by side its routes
 * (`routes.ts`), its response definitions (`responses.ts`, response.ts) and the named GraphQL
 * operations its routes run (`*.graphql`). The route table is every area's routes, each route's
 * access and rate policy resolved from the supergraph; a new area adds its routes here.
 */
import type { Route, RouteDecl } from '../route.ts';
import { resolveRoutes } from '../route-policies.ts';
import { authRoutes } from './auth/routes.ts';
import { orgRoutes } from './orgs/routes.ts';
import { apiKeyRoutes } from './api-keys/routes.ts';
import { chatRoutes } from './chat/routes.ts';
import { chatAiRoutes } from './chat/ai.routes.ts';
import { knowledgeRoutes } from './knowledge/routes.ts';
import { learningRoutes } from './learning/routes.ts';
import { xelRoutes } from './xel/routes.ts';
import { liveRoutes } from './live/routes.ts';
import { integrationRoutes } from './integrations/routes.ts';

/** Every area's routes, in the order of the API contract. */
export const AREA_ROUTES: readonly (readonly RouteDecl[])[] = [authRoutes, orgRoutes, apiKeyRoutes, chatAiRoutes, chatRoutes, knowledgeRoutes, learningRoutes, xelRoutes, liveRoutes, integrationRoutes];

export const ROUTES: readonly Route[] = resolveRoutes(AREA_ROUTES.flat());
