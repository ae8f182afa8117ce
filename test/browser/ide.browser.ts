/**
 * The IDEs in a real browser (Debian's chromium driven by playwright-core, headless): GraphiQL and
 * Swagger UI load from the gateway with nothing fetched from anywhere else; GraphiQL opens on the
 * project's example operations, runs a query with a bearer header and a `chatStream`
 * subscription whose chunks appear on the page; Swagger UI's "Try it out" on `GET /api/health`
 * shows 200. On failure a screenshot goes to a temporary folder (its path is printed).
 *
 * Run with `npm run test:browser` (vitest.browser.config.ts); CHROMIUM_PATH overrides
 * /usr/bin/chromium.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerAndLogin, startTestStack, type TestStack } from '../harness.ts';

// The functions given to page.evaluate run in the page; the project is type-checked without the
// DOM library, so the little of it they use is declared here.
interface Element {
  readonly textContent: string | null;
}
declare const document: { querySelector(selector: string): Element | null; querySelectorAll(selector: string): ArrayLike<Element> };
declare const window: { shown?: string[] };
declare const localStorage: { getItem(key: string): string | null; clear(): void };

let t: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let user: Awaited<ReturnType<typeof registerAndLogin>>;
/** Every request the page made that did not go to the gateway (they are refused). */
let foreign: string[];

beforeAll(async () => {
  t = await startTestStack();
  user = await registerAndLogin(t, 'browser');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps'],
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

beforeEach(async () => {
  foreign = [];
  context = await browser.newContext();
  const origin = new URL(t.url).origin;
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== new URL(t.url).host) foreign.push(ws.url());
  });
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    const dir = mkdtempSync(path.join(tmpdir(), 'xentree-browser-'));
    const file = path.join(dir, `${ctx.task.name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.error(`screenshot of the failed test: ${file}`);
  }
  await context.close();
});

/** The text of the CodeMirror editor under `selector` (GraphiQL 3 uses CodeMirror 5). */
function editorText(selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel) as (Element & { CodeMirror?: { getValue(): string } }) | null;
    return el?.CodeMirror?.getValue() ?? '';
  }, selector);
}

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const RESPONSE = '.graphiql-response .CodeMirror';
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';

/**
 * The operation name GraphiQL holds for its active tab. It parses the query editor a moment after
 * the editor changes (a tab switch too), and only then drops the other tab's name: a click before
 * that sends the new document with the old name, which the gateway rightly refuses as
 * OPERATION_RESOLUTION_FAILURE.
 */
function activeOperationName(): Promise<string | null> {
  return page.evaluate(() => {
    const state = JSON.parse(localStorage.getItem('graphiql:tabState') ?? 'null') as { activeTabIndex: number; tabs: { operationName: string | null }[] } | null;
    return state?.tabs[state.activeTabIndex]?.operationName ?? null;
  });
}

/** Opens the Headers tab of the current GraphiQL tab and sets the bearer header there. */
async function setBearer(token: string): Promise<void> {
  await page.getByRole('button', { name: 'Headers' }).click();
  await page.evaluate(
    ({ sel, value }) => {
      const el = document.querySelector(sel) as (Element & { CodeMirror?: { setValue(v: string): void } }) | null;
      if (!el?.CodeMirror) throw new Error('no headers editor');
      el.CodeMirror.setValue(value);
    },
    { sel: HEADERS_EDITOR, value: JSON.stringify({ authorization: `Bearer ${token}` }) },
  );
}

interface StreamEvent {
  seq: number;
  type: string;
  delta: string | null;
  user: { username: string };
}

describe('GraphiQL in a browser', () => {
  it('loads from the gateway alone and opens on the example operations', async () => {
    await page.goto(`${t.url}/graphql`);
    await page.locator(QUERY_EDITOR).waitFor();
    const query = await editorText(QUERY_EDITOR);
    expect(query).toContain('query Me {');
    expect(query).not.toContain('Welcome to GraphiQL');
    await expect.poll(() => page.locator('.graphiql-tab').count()).toBe(2);
    await page.locator('.graphiql-tab').nth(1).locator('button').first().click();
    expect(await editorText(QUERY_EDITOR)).toContain('subscription ChatStream {');
    expect(foreign).toEqual([]);
  });

  it('runs a query with a bearer header', async () => {
    await page.goto(`${t.url}/graphql`);
    await page.locator(QUERY_EDITOR).waitFor();
    await setBearer(user.access);
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => editorText(RESPONSE), { timeout: 15_000 }).toContain(`"username": "${user.user.username}"`);
    const response = JSON.parse(await editorText(RESPONSE)) as { data: { me: { id: string; email: string } } };
    expect(response.data.me).toMatchObject({ id: user.id, email: user.user.email });
    expect(foreign).toEqual([]);
  });

  it('runs chatStream over WebSocket and shows every chunk as it arrives', async () => {
    await page.goto(`${t.url}/graphql`);
    // Without the tab state the earlier tests left, so that the ChatStream tab's name is only there
    // once GraphiQL has parsed that tab's editor (activeOperationName).
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.locator(QUERY_EDITOR).waitFor();
    await expect.poll(activeOperationName).toBe('Me');
    await page.locator('.graphiql-tab').nth(1).locator('button').first().click();
    await expect.poll(() => editorText(QUERY_EDITOR)).toContain('subscription ChatStream');
    await expect.poll(activeOperationName).toBe('ChatStream');
    await setBearer(user.access);
    // Record every text the response pane shows, so chunks replaced by later ones are seen too.
    await page.evaluate((sel) => {
      const el = document.querySelector(sel) as (Element & { CodeMirror?: { getValue(): string; on(e: string, f: () => void): void } }) | null;
      const shown: string[] = [];
      window.shown = shown;
      el?.CodeMirror?.on('change', () => shown.push(el.CodeMirror?.getValue() ?? ''));
    }, RESPONSE);
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => editorText(RESPONSE), { timeout: 30_000 }).toContain('"type": "DONE"');
    const shown = await page.evaluate(() => window.shown ?? []);
    const events = shown
      .map((text) => {
        try {
          return (JSON.parse(text) as { data?: { chatStream?: StreamEvent } }).data?.chatStream;
        } catch {
          return undefined;
        }
      })
      .filter((e): e is StreamEvent => e !== undefined);
    const chunks = events.filter((e) => e.type === 'CHUNK');
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.seq)).toEqual([...chunks.map((c) => c.seq)].sort((a, b) => a - b));
    expect(chunks.every((c) => typeof c.delta === 'string' && c.user.username === user.user.username)).toBe(true);
    expect(events.at(-1)?.type).toBe('DONE');
    expect(foreign).toEqual([]);
  });
});

describe('Swagger UI in a browser', () => {
  it('loads from the gateway alone, and "Try it out" on GET /api/health shows 200', async () => {
    await page.goto(`${t.url}/api/docs`);
    const health = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/api/health"]') });
    await health.locator('.opblock-summary').click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    await health.getByRole('button', { name: 'Execute' }).click();
    const live = health.locator('.live-responses-table tbody tr.response').first();
    await expect.poll(() => live.locator('.response-col_status').textContent(), { timeout: 15_000 }).toBe('200');
    await expect.poll(() => live.locator('.response-col_description').textContent()).toContain('"status": "ok"');
    expect(foreign).toEqual([]);
  });
});
