/**
 * The base of a subgraph's per-request context whose EntityManager is forked on first use: a
 * request answered from memory or from plain rows makes no fork (an identity map and a copy of
 * the configuration, a measurable part of a short request). `em` is a getter on the prototype, and
 * the fork an ordinary property, because Apollo Server copies a context's own properties onto a new
 * object of the same prototype for each operation: an own `em` would be read, and so forked, at once.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

export class ForkOnFirstUse {
  private forked: EntityManager | undefined = undefined;

  constructor(protected readonly orm: MikroORM) {}

  /** The request's own EntityManager, for reads of managed entities and for writes. */
  get em(): EntityManager {
    return (this.forked ??= this.orm.em.fork());
  }
}
