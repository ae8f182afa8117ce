import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, openApiFileText } from './openapi-file.ts';

describe('schema/openapi.json', () => {
  it('is the document the gateway serves (run `npm run compose` after changing a route)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiFileText());
  });
});
