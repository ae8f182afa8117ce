/** The whole REST route table, area by area (§3), with each route's access and rate policy from the supergraph. */
import type { Route } from '../route.ts';
import { resolveRoutes } from '../route-policies.ts';
import { authRoutes } from './auth.routes.ts';
import { orgRoutes } from './orgs.routes.ts';
import { apiKeyRoutes } from './api-keys.routes.ts';
import { chatRoutes } from './chat.routes.ts';
import { chatAiRoutes } from './chat-ai.routes.ts';
import { knowledgeRoutes } from './knowledge.routes.ts';

export const ROUTES: readonly Route[] = resolveRoutes([...authRoutes, ...orgRoutes, ...apiKeyRoutes, ...chatAiRoutes, ...chatRoutes, ...knowledgeRoutes]);
