/**
 * How the subgraphs declare their tables: a MikroORM `EntitySchema` (no decorators) per table,
 * with the columns most tables share. Each of those is made afresh per entity, because MikroORM
 * rewrites a property's options in place when it discovers an entity (`fieldName` becomes
 * `fieldNames`): two entities must never share one options object.
 */
import { EntitySchema, type EntitySchemaMetadata } from '@mikro-orm/postgresql';

/** The entity `name` stored in `tableName` (in the subgraph's Postgres schema) with `properties`. */
export function entitySchema<T>(name: string, tableName: string, properties: EntitySchemaMetadata<T>['properties']): EntitySchema<T> {
  return new EntitySchema<T>({ name, tableName, properties });
}

/** `id`: a UUID primary key (the application makes it). */
export const uuidId = () => ({ id: { type: 'uuid', primary: true } }) as const;

/** `createdAt`, in `created_at`. */
export const createdAt = () => ({ createdAt: { type: 'Date', fieldName: 'created_at' } }) as const;

/** `createdAt` and `updatedAt`, in `created_at` and `updated_at`. */
export const timestamps = () => ({ ...createdAt(), updatedAt: { type: 'Date', fieldName: 'updated_at' } }) as const;
