/**
 * Who sees which knowledge documents (§4.10 candidate set, §4.12): private documents stay
 * with their owner; shared ones reach exactly the members of their organization (an API key only
 * its own organization's); conversation-scoped ones appear only with their conversation's id and
 * only to the owner. Deleting a conversation deletes its documents; deleting an organization
 * un-shares its documents (event-driven, so polled with a bounded wait).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestStack, type TestStack } from './harness.ts';
import { addMember, apiKey, createKey, createOrg, orgWith, person } from './org-fixtures.ts';
import { createConversation } from './chat-fixtures.ts';
import { until } from './chat-stream-fixtures.ts';
import { DOCUMENT_FIELDS, gql, txt, upload, uploadGraphql, type Credentials, type KnowledgeDocumentGql, type RagDocumentBody } from './knowledge-fixtures.ts';
import { notFoundBody, ok } from './assertions.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await t?.close();
});

const auth = (c: Credentials): Record<string, string> => (typeof c === 'string' ? bearer(c) : c);

/** KB-1: the ids of the documents found for `query`, in rank order (status checked). */
async function found(c: Credentials, query: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const res = ok<{ results: { document_id: string }[] }>(await t.rest('POST', '/api/knowledge/search', { json: { query, top_k: 50, ...extra }, headers: auth(c) }), 200);
  return res.results.map((r) => r.document_id);
}

/** KB-2: the ids listed with these query parameters (status checked). */
async function listed(c: Credentials, query = ''): Promise<string[]> {
  const res = ok<{ items: RagDocumentBody[]; total: number }>(await t.rest('GET', `/api/knowledge/documents?limit=100${query}`, { headers: auth(c) }), 200);
  expect(res.total).toBe(res.items.length);
  return res.items.map((d) => d.id);
}

/** KB-4 with the local provider: the ids of the sources (status checked). */
async function sourced(c: Credentials, query: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const res = ok<{ sources: { document_id: string }[] }>(await t.rest('POST', '/api/rag/query', { json: { query, provider: 'local', ...extra }, headers: auth(c) }), 200);
  return res.sources.map((s) => s.document_id);
}

/** `knowledgeDocument(id)` (null when invisible). */
async function byId(c: Credentials, id: string): Promise<KnowledgeDocumentGql | null> {
  const res = await gql(t.url, c, `query($id: ID!) { knowledgeDocument(id: $id) { ${DOCUMENT_FIELDS} } }`, { id });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return (res.body.data?.knowledgeDocument ?? null) as KnowledgeDocumentGql | null;
}

describe('private documents', () => {
  it('are seen by their owner only', async () => {
    const [alice, bob] = await Promise.all([person(t, 'vis_alice'), person(t, 'vis_bob')]);
    const doc = await upload(t.url, alice.access, txt('recipe', 'Grandmother always soaked the saffron threads in warm milk.'));

    expect(await found(alice.access, 'saffron')).toEqual([doc.id]);
    expect(await listed(alice.access)).toEqual([doc.id]);
    expect((await byId(alice.access, doc.id))?.id).toBe(doc.id);
    expect(await sourced(alice.access, 'saffron threads')).toEqual([doc.id]);

    expect(await found(bob.access, 'saffron')).toEqual([]);
    expect(await found(bob.access, 'safron')).toEqual([]);
    expect(await listed(bob.access)).toEqual([]);
    expect(await byId(bob.access, doc.id)).toBeNull();
    expect(await sourced(bob.access, 'saffron threads')).toEqual([]);
    // Nor can anyone else delete it.
    const del = await gql(t.url, bob.access, 'mutation($id: ID!) { deleteKnowledgeDocument(id: $id) }', { id: doc.id });
    expect(del.body).toEqual({
      errors: [{ message: 'Document not found', path: ['deleteKnowledgeDocument'], extensions: { code: 'NOT_FOUND', status: 404, serviceName: 'knowledge' } }],
      data: null,
    });
    expect(await found(alice.access, 'saffron')).toEqual([doc.id]);
  });
});

describe('shared documents', () => {
  it('are seen by the members of their organization, not by outsiders nor by members of another organization', async () => {
    const { org, owner, people } = await orgWith(t, { member: 'member', outsider: 'none' });
    const other = await orgWith(t, { elsewhere: 'member' });
    const shared = await upload(t.url, owner.access, txt('handbook', 'The onboarding handbook explains the espresso machine rota.'), { shared: true, organization_id: org.id });
    expect([shared.shared, shared.organization_id, shared.scope]).toEqual([true, org.id, 'user']);
    const mine = await upload(t.url, people.member.access, txt('member-notes', 'My own espresso tasting notes.'));

    // The member sees it everywhere a shared document is readable.
    expect(new Set(await found(people.member.access, 'espresso'))).toEqual(new Set([mine.id, shared.id]));
    expect(await found(people.member.access, 'rota')).toEqual([shared.id]);
    expect(await found(people.member.access, 'rota', { include_shared: false })).toEqual([]);
    expect(await listed(people.member.access)).toEqual([mine.id, shared.id]);
    expect(await listed(people.member.access, '&mine=true')).toEqual([mine.id]);
    expect(await listed(people.member.access, '&shared=true')).toEqual([shared.id]);
    expect(await byId(people.member.access, shared.id)).toEqual(expect.objectContaining({ id: shared.id, shared: true, organizationId: org.id, ownerId: owner.id }));
    expect(await sourced(people.member.access, 'machine rota')).toEqual([shared.id]);

    // The owner's other members do not see the member's private notes.
    expect(await found(owner.access, 'tasting')).toEqual([]);

    for (const stranger of [people.outsider, other.people.elsewhere, other.owner]) {
      expect(await found(stranger.access, 'rota')).toEqual([]);
      expect(await listed(stranger.access)).toEqual([]);
      expect(await byId(stranger.access, shared.id)).toBeNull();
      expect(await sourced(stranger.access, 'machine rota')).toEqual([]);
    }

    // Joining the organization makes it visible.
    await addMember(t, org.id, owner, people.outsider.id, 'member');
    expect(await found(people.outsider.access, 'rota')).toEqual([shared.id]);
  });

  it('reach an API key only when shared with the key’s own organization', async () => {
    const [frank, gina, harry] = await Promise.all([person(t, 'vis_frank'), person(t, 'vis_gina'), person(t, 'vis_harry')]);
    const orgA = await createOrg(t, frank);
    const orgB = await createOrg(t, gina);
    await addMember(t, orgB.id, gina, frank.id, 'member');
    await addMember(t, orgA.id, frank, harry.id, 'member');

    const inA = await upload(t.url, harry.access, txt('a-guide', 'Team A keeps the lighthouse logbook.'), { shared: true, organization_id: orgA.id });
    const inB = await upload(t.url, gina.access, txt('b-guide', 'Team B keeps the lighthouse inventory.'), { shared: true, organization_id: orgB.id });
    const own = await upload(t.url, frank.access, txt('frank', 'Frank sketched the lighthouse at dawn.'));

    // Bearer: every organization frank belongs to.
    expect(new Set(await found(frank.access, 'lighthouse'))).toEqual(new Set([inA.id, inB.id, own.id]));
    const key = apiKey((await createKey(t, frank, orgA.id, ['rag:read', 'rag:write'])).key);
    // The key acts as frank (his own documents) but sees only organization A's shared ones.
    expect(new Set(await found(key, 'lighthouse'))).toEqual(new Set([inA.id, own.id]));
    expect(new Set(await listed(key))).toEqual(new Set([inA.id, own.id]));
    expect(new Set(await sourced(key, 'lighthouse'))).toEqual(new Set([inA.id, own.id]));
    expect(await byId(key, inB.id)).toBeNull();
    expect((await byId(key, inA.id))?.id).toBe(inA.id);

    // Sharing with an API key defaults to the key's organization.
    const viaKey = await upload(t.url, key, txt('key-shared', 'The lighthouse lamp needs a new bulb.'), { shared: true });
    expect([viaKey.owner_id, viaKey.shared, viaKey.organization_id]).toEqual([frank.id, true, orgA.id]);
    expect(await found(harry.access, 'bulb')).toEqual([viaKey.id]);
    expect(await found(gina.access, 'bulb')).toEqual([]);
  });
});

describe('conversation-scoped documents', () => {
  it('appear only with their conversation id, and only to the owner', async () => {
    const [alice, bob] = await Promise.all([person(t, 'conv_alice'), person(t, 'conv_bob')]);
    const conv = await createConversation(t, alice);
    const other = await createConversation(t, alice);
    const bobConv = await createConversation(t, bob);
    const doc = await upload(t.url, alice.access, txt('minutes', 'The committee approved the orchard irrigation budget.'), { scope: 'conversation', conversation_id: conv.id });
    expect([doc.scope, doc.conversation_id, doc.shared, doc.organization_id]).toEqual(['conversation', conv.id, false, null]);

    expect(await found(alice.access, 'orchard')).toEqual([]);
    expect(await found(alice.access, 'orchard', { conversation_id: other.id })).toEqual([]);
    expect(await found(alice.access, 'orchard', { conversation_id: conv.id })).toEqual([doc.id]);
    expect(await sourced(alice.access, 'orchard irrigation')).toEqual([]);
    expect(await sourced(alice.access, 'orchard irrigation', { conversation_id: conv.id })).toEqual([doc.id]);
    expect(await listed(alice.access, `&conversation_id=${conv.id}`)).toEqual([doc.id]);
    expect(await listed(alice.access, `&conversation_id=${other.id}`)).toEqual([]);
    expect(await listed(alice.access, '&scope=user')).toEqual([]);

    // GraphQL takes the same id.
    const viaGql = await gql(t.url, alice.access, 'query($i: KnowledgeSearchInput!) { knowledgeSearch(input: $i) { results { documentId scope conversationId } } }', {
      i: { query: 'orchard', conversationId: conv.id },
    });
    expect(viaGql.body).toEqual({ data: { knowledgeSearch: { results: [{ documentId: doc.id, scope: 'CONVERSATION', conversationId: conv.id }] } } });

    // Someone else's conversation id is not found; their own conversation does not reveal it.
    const foreign = await t.rest('POST', '/api/knowledge/search', { json: { query: 'orchard', conversation_id: conv.id }, headers: bearer(bob.access) });
    expect({ status: foreign.status, body: foreign.body }).toEqual({ status: 404, body: notFoundBody('Conversation') });
    expect(await found(bob.access, 'orchard', { conversation_id: bobConv.id })).toEqual([]);
    expect(await byId(bob.access, doc.id)).toBeNull();
    expect(await listed(bob.access)).toEqual([]);
  });

  it('are deleted with their conversation', async () => {
    const alice = await person(t, 'conv_del');
    const conv = await createConversation(t, alice);
    const keep = await createConversation(t, alice);
    const gone = await uploadGraphql(t.url, alice.access, { file: txt('agenda', 'Agenda: the harbour dredging contract.'), scope: 'CONVERSATION', conversationId: conv.id });
    const goneId = (gone.body.data?.uploadKnowledgeDocument as { document: { id: string } }).document.id;
    const kept = await upload(t.url, alice.access, txt('agenda-2', 'Agenda: the harbour lighting contract.'), { scope: 'conversation', conversation_id: keep.id });
    const userDoc = await upload(t.url, alice.access, txt('harbour', 'A history of the harbour.'));

    const del = await t.rest('DELETE', `/api/core/conversations/${conv.id}`, { headers: bearer(alice.access) });
    expect(del.status).toBe(204);
    await until(async () => (await byId(alice.access, goneId)) === null, 10_000);

    expect(await listed(alice.access)).toEqual([userDoc.id, kept.id]);
    expect(new Set(await found(alice.access, 'harbour', { conversation_id: keep.id }))).toEqual(new Set([kept.id, userDoc.id]));
    expect(await found(alice.access, 'dredging', { conversation_id: keep.id })).toEqual([]);
    const stale = await t.rest('POST', '/api/knowledge/search', { json: { query: 'dredging', conversation_id: conv.id }, headers: bearer(alice.access) });
    expect({ status: stale.status, body: stale.body }).toEqual({ status: 404, body: notFoundBody('Conversation') });
  });
});

describe('deleting an organization', () => {
  it('un-shares its documents, which stay with their owners', async () => {
    const { org, owner, people } = await orgWith(t, { member: 'member' });
    const byOwner = await upload(t.url, owner.access, txt('policy', 'Travel policy: book trains for trips under four hours.'), { shared: true, organization_id: org.id });
    const byMember = await upload(t.url, people.member.access, txt('tips', 'Travel tips: trains have power sockets.'), { shared: true, organization_id: org.id });
    expect(new Set(await found(people.member.access, 'trains'))).toEqual(new Set([byOwner.id, byMember.id]));

    expect((await t.rest('DELETE', `/api/organizations/${org.id}`, { headers: bearer(owner.access) })).status).toBe(204);
    const unshared = (d: KnowledgeDocumentGql | null): boolean => d !== null && !d.shared && d.organizationId === null;
    await until(async () => unshared(await byId(owner.access, byOwner.id)) && unshared(await byId(people.member.access, byMember.id)), 10_000);

    const after = await byId(owner.access, byOwner.id);
    expect(after).toEqual(expect.objectContaining({ id: byOwner.id, ownerId: owner.id, scope: 'USER', shared: false, organizationId: null, chunkCount: 1 }));
    // Each owner keeps theirs; neither sees the other's any more.
    expect(await found(owner.access, 'trains')).toEqual([byOwner.id]);
    expect(await found(people.member.access, 'trains')).toEqual([byMember.id]);
    expect(await listed(owner.access)).toEqual([byOwner.id]);
    expect(await listed(people.member.access)).toEqual([byMember.id]);
    expect(await byId(people.member.access, byOwner.id)).toBeNull();
  });
});
