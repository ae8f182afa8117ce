/**
 * Cuts a `ts_headline(…, 'HighlightAll=true')` rendering down to §4.11's highlight: at most
 * `max` characters around the first match, each matched word wrapped in `<mark>`…`</mark>`. The
 * limit counts the markup too, so a client may rely on `snippet.length <= 200` whatever it renders.
 * Words are never cut, except a single word longer than the limit.
 */

const OPEN = '<mark>';
const CLOSE = '</mark>';
const MARKUP = OPEN.length + CLOSE.length;
/** Share of the room left after the first match that may go to the text before it. */
const LEADING_SHARE = 0.25;

interface Token {
  text: string;
  mark: boolean;
}

/** Marked words and, between them, words and whitespace runs as separate tokens. */
function tokenize(marked: string): Token[] {
  const tokens: Token[] = [];
  const plain = (text: string) => {
    for (const part of text.split(/(\s+)/)) if (part) tokens.push({ text: part, mark: false });
  };
  let rest = marked;
  for (;;) {
    const open = rest.indexOf(OPEN);
    const close = open < 0 ? -1 : rest.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) break;
    plain(rest.slice(0, open));
    tokens.push({ text: rest.slice(open + OPEN.length, close), mark: true });
    rest = rest.slice(close + CLOSE.length);
  }
  plain(rest);
  return tokens;
}

const cost = (t: Token): number => t.text.length + (t.mark ? MARKUP : 0);
const render = (tokens: Token[]): string => tokens.map((t) => (t.mark ? `${OPEN}${t.text}${CLOSE}` : t.text)).join('').trim();

/** The highlight of `marked` (ts_headline output), at most `max` characters including markup. */
export function cropHighlight(marked: string, max = 200): string {
  const tokens = tokenize(marked);
  const first = tokens.findIndex((t) => t.mark);
  if (first < 0) {
    const out: Token[] = [];
    let used = 0;
    for (const t of tokens) {
      if (used + t.text.length > max) break;
      out.push(t);
      used += t.text.length;
    }
    return out.length > 0 ? render(out) : marked.slice(0, max).trim();
  }
  const hit = tokens[first];
  if (!hit) return '';
  if (cost(hit) > max) return `${OPEN}${hit.text.slice(0, Math.max(0, max - MARKUP))}${CLOSE}`;
  let lo = first;
  let hi = first;
  let used = cost(hit);
  const leading = Math.floor((max - used) * LEADING_SHARE);
  let before = 0;
  const fits = (t: Token | undefined, limit: number): t is Token => t !== undefined && cost(t) <= limit;
  for (let t = tokens[lo - 1]; fits(t, leading - before); t = tokens[lo - 1]) {
    before += cost(t);
    used += cost(t);
    lo -= 1;
  }
  for (let t = tokens[hi + 1]; fits(t, max - used); t = tokens[hi + 1]) {
    used += cost(t);
    hi += 1;
  }
  // The text after the match ran out: give the remaining room to the text before it.
  for (let t = tokens[lo - 1]; fits(t, max - used); t = tokens[lo - 1]) {
    used += cost(t);
    lo -= 1;
  }
  return render(tokens.slice(lo, hi + 1));
}
