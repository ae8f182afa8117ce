import { describe, expect, it } from 'vitest';
import { cropHighlight } from './search.snippet.ts';

describe('cropHighlight', () => {
  it('keeps a short text whole', () => {
    expect(cropHighlight('The <mark>Kubernetes</mark> cluster')).toBe('The <mark>Kubernetes</mark> cluster');
  });

  it('keeps at most 200 characters, markup included, around the first match and never cuts words', () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`);
    words[80] = '<mark>needle</mark>';
    words[85] = '<mark>needles</mark>';
    const out = cropHighlight(words.join(' '));
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out).toContain('<mark>needle</mark>');
    expect(out).toContain('<mark>needles</mark>');
    for (const w of out.replace(/<\/?mark>/g, '').split(' ')) expect(w).toMatch(/^(word\d+|needles?)$/);
    // Some context before the match, most of the room after it.
    const before = out.slice(0, out.indexOf('<mark>'));
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(out.length / 2);
  });

  it('gives the room to the text before the match when the match is near the end', () => {
    const text = `${Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ')} <mark>end</mark>`;
    const out = cropHighlight(text);
    expect(out.endsWith('<mark>end</mark>')).toBe(true);
    expect(out.length).toBeGreaterThan(150);
    expect(out.length).toBeLessThanOrEqual(200);
  });

  it('cuts a single over-long matched word to fit', () => {
    const out = cropHighlight(`<mark>${'x'.repeat(300)}</mark> tail`);
    expect(out).toBe(`<mark>${'x'.repeat(187)}</mark>`);
  });

  it('without a match, returns the beginning', () => {
    expect(cropHighlight('a b c', 3)).toBe('a b');
  });
});
