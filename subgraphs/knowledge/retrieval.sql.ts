/**
 * The SQL of retriever.ts and document.service.ts. `VISIBLE` (documents aliased `d`) takes, in
 * order: the user id, include-shared, the organization ids as a JSON array, the conversation id
 * (or null) and the user id again (§4.10's candidate set). Documents still being ingested
 * are never visible.
 */

export const VISIBLE = `(d."ready" and ((d."owner_id" = ? and d."scope" = 'user')
  or (?::boolean and d."shared" and d."organization_id" in (select (jsonb_array_elements_text(?::jsonb))::uuid))
  or (d."scope" = 'conversation' and d."conversation_id" = ?::uuid and d."owner_id" = ?)))`;

/**
 * Matches are delimited with two private-use characters (which the chunker strips from documents),
 * so the text can be HTML-escaped before they become `<mark>` tags (see retriever.ts).
 */
export const MARK_START = '\uE000';
export const MARK_END = '\uE001';
const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=40, MinWords=20, MaxFragments=2, FragmentDelimiter=" … "`;

export const RETRIEVAL_SQL = {
  /** The query words that are not stop words, in order. */
  meaningful: `select x.word from jsonb_array_elements_text(?::jsonb) with ordinality as x(word, ord)
    where numnode(to_tsquery('english', quote_literal(x.word))) > 0 order by x.ord`,
  /**
   * For each word that no visible document contains, the closest words of the vocabulary that a
   * visible document contains (pg_trgm similarity ≥ the threshold), best first. Params: VISIBLE's,
   * words, threshold, limit.
   */
  corrections: `with visible as materialized (select d."id" from "knowledge"."documents" d where ${VISIBLE}),
    words as (select x.word from jsonb_array_elements_text(?::jsonb) as x(word))
    select w.word, case
      when char_length(w.word) < 4 or exists (
        select 1 from "knowledge"."document_terms" t where t."term" = w.word and t."document_id" in (select "id" from visible)
      ) then '{}'::text[]
      else array(
        select v."term" from "knowledge"."terms" v
         where v."term" % w.word and similarity(v."term", w.word) >= ?
           and exists (select 1 from "knowledge"."document_terms" t where t."term" = v."term" and t."document_id" in (select "id" from visible))
         order by similarity(v."term", w.word) desc, v."term" limit ?
      ) end as fixes
    from words w`,
  /**
   * Ranked chunks. Params: the any-group tsquery, the groups (JSON array of tsquery texts), the
   * websearch filter text (or null), VISIBLE's, top k.
   */
  search: (highlight: boolean) => `with q as materialized (
      select to_tsquery('english', ?) as anyq,
        array(select to_tsquery('english', g) from jsonb_array_elements_text(?::jsonb) as g) as groups,
        (select websearch_to_tsquery('english', p.v) from (select ?::text as v) p where p.v is not null) as phrase
    ),
    hits as (
      select c."document_id", c."chunk_index", c."content", d."title", d."scope", d."conversation_id", d."shared", d."created_at",
        greatest(round((
          0.6 * (select count(*) from unnest(q.groups) as g where c."tsv" @@ g)::float8 / greatest(cardinality(q.groups), 1)
          + 0.4 * ts_rank_cd(c."tsv", q.anyq, 32)
        )::numeric, 6), 0.000001)::float8 as score
      from q cross join "knowledge"."chunks" c
      join "knowledge"."documents" d on d."id" = c."document_id"
      where c."tsv" @@ q.anyq and (q.phrase is null or c."tsv" @@ q.phrase) and ${VISIBLE}
      order by score desc, d."created_at" desc, c."chunk_index" asc, c."document_id" asc
      limit ?
    )
    select h."document_id", h."chunk_index", h."content", h."title", h."scope", h."conversation_id", h."shared", h."score",
      ${highlight ? `ts_headline('english', h."content", q.anyq, '${HEADLINE_OPTIONS}')` : 'null'} as highlight
    from hits h cross join q
    order by h."score" desc, h."created_at" desc, h."chunk_index" asc, h."document_id" asc`,
} as const;
