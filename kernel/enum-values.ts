/**
 * GraphQL enum values are the domain's lowercase values in uppercase (`user` ↔ `USER`): resolvers
 * convert with these, and the template-literal types check that both sides have the value.
 */

/** A domain value as its GraphQL enum value (`voice` → `VOICE`). */
export const upper = <T extends string>(s: T): Uppercase<T> => s.toUpperCase() as Uppercase<T>;

/** A GraphQL enum value as its domain value (`VOICE` → `voice`). */
export const lower = <T extends string>(s: T): Lowercase<T> => s.toLowerCase() as Lowercase<T>;
