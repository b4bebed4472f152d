import type { Page } from '@playwright/test';
import { composer, lastAnswer, openReport, sendButton, waitForMessages, waitUntilLive } from './support/app-page.js';
import { sampleReport, type ApiClient, type ApiSource } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import { startTestServer } from './support/servers.js';

/** Asked of the sample report, the local model quotes passages far down it (escalations, weekends). */
const QUESTION = 'Why do escalated tickets wait so long, and what about weekend coverage?';

const settled = (ms: Array<{ state: string }>) => ms.length > 0 && ms.every((m) => !['sending', 'queued', 'answering'].includes(m.state));

/** The report's highlight (the CSS Custom Highlight API): its text, and whether all of it is in the viewport. */
interface Shown {
  text: string;
  inView: boolean;
  inReport: boolean;
}

function readHighlight(page: Page): Promise<Shown | null> {
  return page.evaluate(() => {
    const ranges = [...(CSS.highlights.get('report-source') ?? [])] as Range[];
    const range = ranges[0];
    if (ranges.length !== 1 || !range) return null;
    const rect = range.getBoundingClientRect();
    const top = document.querySelector('.app-header')?.getBoundingClientRect().bottom ?? 0;
    return {
      text: range.toString(),
      inView: rect.height > 0 && rect.top >= top && rect.bottom <= window.innerHeight && rect.left >= 0 && rect.right <= window.innerWidth,
      inReport: document.querySelector('.report-article')?.contains(range.commonAncestorContainer) ?? false,
    };
  });
}

/**
 * The quote as the rendered page reads it: the sample report's quotes are paragraphs and lists, whose Markdown
 * marks (a list item's number or bullet, emphasis) are not text on the page.
 */
const rendered = (quote: string) => quote.replace(/^\s*(\d+[.)]|[-*+])\s+/gm, '').replace(/\*\*/g, '');

/** Waits until the report shows exactly `source`'s quote highlighted and in view (a smooth scroll takes a moment). */
async function expectHighlighted(page: Page, source: ApiSource, what: string): Promise<void> {
  const expected: Shown = { text: rendered(source.quote), inView: true, inReport: true };
  await expect.poll(() => readHighlight(page), { message: `${what}: its passage highlighted in view`, timeout: 5_000, intervals: [50] }).toEqual(expected);
}

/** Asks QUESTION on the page and returns the stored answer's sources, checked against the stored report. */
async function askForSources(page: Page, api: ApiClient, reportId: string, content: string): Promise<ApiSource[]> {
  await composer(page).fill(QUESTION);
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be saved', (ms) => ms.length === 2 && settled(ms), 30_000);
  const answer = (await api.messages(reportId))[1];
  expect(answer, 'the stored answer').toBeDefined();
  const { sources } = answer!;
  expect(sources.length, 'passages the local model cites').toBeGreaterThanOrEqual(2);
  for (const s of sources) expect(content.slice(s.start, s.end), `source ${s.n}'s quote`).toBe(s.quote);
  return sources;
}

/** The source furthest down the report: far enough that showing it needs a scroll. */
const furthest = (sources: ApiSource[]) => sources.reduce((a, b) => (b.start > a.start ? b : a));

const citationName = (s: ApiSource) => `Source ${s.n}: ${s.heading || 'the start of the report'}`;

test('citation: clicking a citation on desktop highlights exactly its passage in view, by keyboard too, and after a reload', async ({ quickServer: server, newPage }) => {
  const { login, api } = await server.createUser('Citation reader');
  const { title, content } = sampleReport();
  const report = await api.createReport(title, content);
  const page = await newPage({ width: 1280, height: 800 });
  await openReport(page, server.url, login, report.id);

  const sources = await askForSources(page, api, report.id, content);
  const answer = page.locator('li.message-assistant').last();
  const target = furthest(sources);
  expect(await readHighlight(page), 'the highlight before any citation is activated').toBeNull();
  expect(await answer.locator('.source-list > li').count(), 'sources listed under the answer').toBe(sources.length);

  await answer.getByRole('button', { name: citationName(target), exact: true }).click();
  await expectHighlighted(page, target, 'a clicked citation');
  expect(await page.evaluate(() => window.scrollY), 'how far the report scrolled to a passage below the first screen').toBeGreaterThan(0);

  // Keyboard: another source, from the list under the answer.
  const other = sources.find((s) => s.n !== target.n)!;
  await page.evaluate(() => window.scrollTo(0, 0));
  await answer.locator('.source-item').nth(sources.indexOf(other)).focus();
  await page.keyboard.press('Enter');
  await expectHighlighted(page, other, 'a source activated with the keyboard');
  expect(await page.evaluate(() => document.activeElement?.closest('.report-article') !== null), 'focus moved to the passage').toBe(true);

  // A reload reads the answer from history: its stored sources still lead to the passage.
  await page.reload();
  await waitUntilLive(page);
  await waitForMessages(page, 'the conversation after the reload', (ms) => ms.length === 2 && lastAnswer(ms)?.state === 'saved');
  expect(await readHighlight(page), 'the highlight after the reload, before any click').toBeNull();
  await page.locator('li.message-assistant').last().getByRole('button', { name: citationName(target), exact: true }).click();
  await expectHighlighted(page, target, 'a citation clicked after the reload');
});

test('citation: on a phone, tapping a citation closes the conversation and shows the passage highlighted', async ({ quickServer: server, browser, defer }) => {
  const { login, api } = await server.createUser('Citation phone reader');
  const { title, content } = sampleReport();
  const report = await api.createReport(title, content);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  defer(() => context.close());
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`    [page error] ${err.message}`));
  await openReport(page, server.url, login, report.id);

  await page.getByRole('button', { name: 'Ask about this report' }).tap();
  const sources = await askForSources(page, api, report.id, content);
  const target = furthest(sources);
  await page.locator('li.message-assistant').last().getByRole('button', { name: citationName(target), exact: true }).tap();
  await expect(page.locator('.chat-panel'), 'the conversation drawer closes').toBeHidden({ timeout: 5_000 });
  await expectHighlighted(page, target, 'a tapped citation on a phone');

  // Back in the conversation after a reload, the stored sources still lead to the passage.
  await page.reload();
  await waitUntilLive(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByRole('button', { name: 'Ask about this report' }).tap();
  await waitForMessages(page, 'the conversation after the reload', (ms) => ms.length === 2 && lastAnswer(ms)?.state === 'saved');
  await page.locator('li.message-assistant').last().locator('.source-item').first().tap();
  await expectHighlighted(page, [...sources].sort((a, b) => a.n - b.n)[0]!, 'a tapped source after the reload');
});

test('citation: after the report changes, an earlier answer highlights its words where they still are, else shows them from its revision', async ({
  quickServer: server,
  newPage,
}) => {
  const { login, api } = await server.createUser('Citation reviser');
  const { title, content } = sampleReport();
  const report = await api.createReport(title, content);
  const page = await newPage({ width: 1280, height: 800 });
  await openReport(page, server.url, login, report.id);
  const sources = await askForSources(page, api, report.id, content);
  const [moved, changed] = [...sources].sort((a, b) => a.start - b.start) as [ApiSource, ApiSource];
  expect(moved.end, 'where the first source ends, before the second starts').toBeLessThanOrEqual(changed.start);

  // A paragraph added before both moves them; one of them is then reworded.
  const preface = '\n\nA note added after the answer, before everything else.\n';
  const firstBreak = content.indexOf('\n');
  const reworded = changed.quote.replace(/\S+/, 'Reworded');
  const edited = content.slice(0, firstBreak) + preface + content.slice(firstBreak, changed.start) + reworded + content.slice(changed.end);
  const { revision } = await api.updateReport(report.id, edited);
  expect(revision, 'the revision the edit made').toBeGreaterThan(1);

  await page.reload();
  await waitUntilLive(page);
  await waitForMessages(page, 'the conversation after the edit', (ms) => ms.length === 2 && lastAnswer(ms)?.state === 'saved');
  const answer = page.locator('li.message-assistant').last();
  await answer.getByText('Given on an earlier version of the report').waitFor({ timeout: 5_000 });

  await answer.getByRole('button', { name: citationName(moved), exact: true }).click();
  await expectHighlighted(page, moved, 'a moved passage');

  await answer.getByRole('button', { name: citationName(changed), exact: true }).click();
  const earlier = page.getByRole('complementary', { name: citationName(changed) });
  await earlier.waitFor({ timeout: 5_000 });
  // Shown as plain text: without the marks that only style it.
  expect(await earlier.locator('mark').textContent(), 'the quote shown from the earlier revision').toBe(changed.quote.replace(/\*\*/g, ''));
  expect(await readHighlight(page), 'the highlight for words no longer in the report').toBeNull();
});

test('citation: an answer given a selection of the report says on how many of its sections it was based', async ({ newPage, defer }) => {
  // A budget smaller than the sample report: the model is given part of it.
  const server = await startTestServer({ CONTEXT_MAX_TOKENS: '1000', LOCAL_MODEL_CHUNK_DELAY_MS: '5' });
  defer(() => server.close());
  const { login, api } = await server.createUser('Citation selection reader');
  const { title, content } = sampleReport();
  const report = await api.createReport(title, content);
  const page = await newPage({ width: 1280, height: 800 });
  await openReport(page, server.url, login, report.id);
  await composer(page).fill('What is the executive summary?');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be saved', (ms) => ms.length === 2 && settled(ms), 30_000);
  const context = (await api.messages(report.id))[1]?.context;
  expect(context, 'the context the answer was given').toBeTruthy();
  const { passages, totalPassages } = context!;
  expect(passages, `passages the answer was given, of ${totalPassages}`).toBeLessThan(totalPassages);
  const note = page.locator('li.message-assistant').last().locator('.message-context');
  expect(await note.textContent({ timeout: 5_000 }), 'the note under the answer').toBe(`Based on ${passages} of ${totalPassages} sections`);
});
