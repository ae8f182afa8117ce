/**
 * A fastify request hook made of a synchronous function, in callback style: an `async` hook costs
 * a promise and a microtask on every request for work that never waits.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

export function syncHook(work: (req: FastifyRequest, reply: FastifyReply) => void): (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  return (req, reply, done) => {
    try {
      work(req, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}
