/**
 * The SQL of search.service.ts. Collection queries take, in order: the widened tsquery, the exact
 * tsquery, ts_headline options, the user id, the collection and the limit.
 */

/** Score in (0, 1): 0.5 for an exact prefix match, plus half the normalised cover-density rank. */
const SCORE = `greatest(round(((case when s."tsv" @@ q.exact then 0.5 else 0 end) + 0.5 * ts_rank_cd(s."tsv", q.expanded, 32))::numeric, 6), 0.000001)::float8`;
const FROM = `from (select to_tsquery('simple', ?) as expanded, to_tsquery('simple', ?) as exact, ?::text as options) q
  cross join "chat"."search_index" s`;
const WHERE = `where s."user_id" = ? and s."collection" = ? and s."tsv" @@ q.expanded`;
/** A timestamp as epoch milliseconds: drivers differ on whether timestamptz arrives as Date or text. */
const ms = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8`;

export const SEARCH_SQL = {
  /** The distinct words of a query, as the `simple` configuration splits and lowercases them. */
  lexemes: `select distinct unnest(tsvector_to_array(to_tsvector('simple', ?))) as lexeme order by 1`,
  /** For each prefix operand (1-based `ord`), whether any of the user's documents matches it. */
  known: `select x.ord, exists (
      select 1 from "chat"."search_index" s
       where s."user_id" = ? and s."collection" in (select jsonb_array_elements_text(?::jsonb)) and s."tsv" @@ to_tsquery('simple', x.operand)
    ) as known
    from jsonb_array_elements_text(?::jsonb) with ordinality as x(operand, ord)`,
  /** For each lexeme, the user's words most similar to it (pg_trgm), best first. */
  corrections: `with vocabulary as materialized (
      select distinct w.word from "chat"."search_index" s, unnest(tsvector_to_array(s."tsv")) as w(word)
       where s."user_id" = ? and s."collection" in (select jsonb_array_elements_text(?::jsonb))
    )
    select x.lexeme, array(
      select v.word from vocabulary v where similarity(v.word, x.lexeme) >= ?
       order by similarity(v.word, x.lexeme) desc, v.word limit ?
    ) as fixes
    from jsonb_array_elements_text(?::jsonb) as x(lexeme)`,
  conversations: `select c."id", c."title", ${ms('c."updated_at"')} as updated_ms, ts_headline('simple', c."title", q.expanded, q.options) as marked, ${SCORE} as score
    ${FROM} join "chat"."conversations" c on c."id" = s."doc_id" and c."user_id" = s."user_id"
    ${WHERE} order by score desc, c."updated_at" desc, c."id" asc limit ?`,
  messages: `select m."id", m."conversation_id", c."title" as conversation_title, m."role", ${ms('m."created_at"')} as created_ms,
      ts_headline('simple', m."content", q.expanded, q.options) as marked, ${SCORE} as score
    ${FROM} join "chat"."messages" m on m."id" = s."doc_id" and m."user_id" = s."user_id"
      join "chat"."conversations" c on c."id" = m."conversation_id"
    ${WHERE} order by score desc, m."created_at" desc, m."id" asc limit ?`,
  notes: `select n."id", n."conversation_id", n."title", ${ms('n."updated_at"')} as updated_ms,
      ts_headline('simple', n."content", q.expanded, q.options) as marked,
      ts_headline('simple', n."title", q.expanded, q.options) as marked_title, ${SCORE} as score
    ${FROM} join "chat"."notes" n on n."id" = s."doc_id" and n."user_id" = s."user_id"
    ${WHERE} order by score desc, n."updated_at" desc, n."id" asc limit ?`,
  counts: `select "collection", count(*) as n from "chat"."search_index" group by "collection"`,
  state: `select ${ms('"reindex_started_at"')} as started_ms, ${ms('"last_reindex_at"')} as finished_ms from "chat"."search_state" where "id" = 1`,
  /** Claims the reindex unless a fresh claim exists; returns the row when claimed. */
  claim: `update "chat"."search_state" set "reindex_started_at" = ?
    where "id" = 1 and ("reindex_started_at" is null or "reindex_started_at" < ?) returning "id"`,
  /** Releases the claim; records the finish time when the rebuild committed. */
  release: `update "chat"."search_state" set "reindex_started_at" = null, "last_reindex_at" = coalesce(?::timestamptz, "last_reindex_at") where "id" = 1`,
} as const;
