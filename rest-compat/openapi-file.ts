/**
 * The committed OpenAPI document, `schema/openapi.json`: what `GET /api/openapi.json` serves, for
 * client generators and API gateways that read a file. `npm run compose` rewrites it;
 * `openapi-file.test.ts` fails when it is stale.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ROUTES } from './areas/index.ts';
import { buildOpenApi } from './openapi.ts';

export const OPENAPI_FILE = new URL('../schema/openapi.json', import.meta.url);

/** The document as the file holds it: the served JSON, indented, with a final newline. */
export function openApiFileText(): string {
  return `${JSON.stringify(buildOpenApi(ROUTES), null, 2)}\n`;
}

/** Writes `schema/openapi.json` when it differs; true when it changed. */
export function writeOpenApiFile(): boolean {
  const text = openApiFileText();
  if (existsSync(OPENAPI_FILE) && readFileSync(OPENAPI_FILE, 'utf8') === text) return false;
  writeFileSync(OPENAPI_FILE, text);
  return true;
}
