/**
 * A subgraph's errors as the client receives them, exactly as @apollo/gateway reports them: the
 * subgraph's message and extensions plus `serviceName`, a code (the subgraph's, else
 * DOWNSTREAM_SERVICE_ERROR), and the path rewritten from the subgraph's operation into the
 * client's (`_entities`' index → that entity's place in the result).
 */
import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { FetchNode, ResponsePath } from '@apollo/query-planner';
import { GraphQLError, type GraphQLErrorOptions, type GraphQLFormattedError } from 'graphql';
import { hydratedPaths } from './entities.ts';

type ErrorPath = GraphQLErrorOptions['path'];

/** Rewrites a fetch's error paths; the entities' full paths are computed only if an error needs them. */
export function errorPathRewriter(fetch: FetchNode, cursorPath: ResponsePath, fullResult: unknown): (path: ErrorPath) => ErrorPath {
  let entityPaths: ResponsePath[] | undefined;
  return (path) => {
    if (fetch.requires && typeof path?.[1] === 'number') {
      entityPaths ??= hydratedPaths(cursorPath, fullResult);
      return [...(entityPaths[path[1]] ?? []), ...path.slice(2)];
    }
    return path ? [...cursorPath, ...path] : undefined;
  };
}

/** One error of `serviceName`'s answer, for the client. */
export function downstreamServiceError(original: GraphQLFormattedError, serviceName: string, rewritePath: (path: ErrorPath) => ErrorPath): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const extensions = original.extensions;
  const options: GraphQLErrorOptions = {
    // @apollo/gateway passes the subgraph's error object on as the original error; so does this one.
    originalError: { name: 'Error', ...original },
    path: rewritePath(original.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
