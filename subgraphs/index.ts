/**
 * The list of subgraphs, for tooling (compose, migrate), the launcher and tests.
 * Runtime code in the gateway never imports this.
 */
import { subgraphEntry, type SubgraphEntry } from '../kernel/server.ts';
import { identity } from './identity/index.ts';
import { orgs } from './orgs/index.ts';
import { chat } from './chat/index.ts';
import { knowledge } from './knowledge/index.ts';
import { learning } from './learning/index.ts';
import { live } from './live/index.ts';
import { integrations } from './integrations/index.ts';

export const SUBGRAPHS: readonly SubgraphEntry[] = [subgraphEntry(identity), subgraphEntry(orgs), subgraphEntry(chat), subgraphEntry(knowledge), subgraphEntry(learning), subgraphEntry(live), subgraphEntry(integrations)];
