/** Root fields of an operation: through fragments (each visited once), and computed once per operation node. */
import { describe, expect, it } from 'vitest';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { rootFieldsOfOperation } from './policies.ts';

const operationOf = (doc: DocumentNode): OperationDefinitionNode => {
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op?.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation');
  return op;
};

describe('rootFieldsOfOperation', () => {
  const text = 'query Q { a ...F ... on Query { b } } fragment F on Query { c ...G } fragment G on Query { a d ...F }';

  it('names each root field once, through named and inline fragments, cycles included', () => {
    const doc = parse(text);
    expect([...rootFieldsOfOperation(operationOf(doc), doc)].sort()).toEqual(['Query.a', 'Query.b', 'Query.c', 'Query.d']);
    const mutation = parse('mutation { x y: z }');
    expect(rootFieldsOfOperation(operationOf(mutation), mutation)).toEqual(['Mutation.x', 'Mutation.z']);
  });

  it('answers the same operation node with the same frozen list, and another parse of the text with an equal one', () => {
    const doc = parse(text);
    const first = rootFieldsOfOperation(operationOf(doc), doc);
    expect(rootFieldsOfOperation(operationOf(doc), doc)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const again = parse(text);
    const other = rootFieldsOfOperation(operationOf(again), again);
    expect(other).not.toBe(first);
    expect(other).toEqual(first);
  });
});
