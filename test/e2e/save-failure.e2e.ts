import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import { makeTempDir, removeTempDir, startTestServer } from './support/servers.js';

test('an answer whose final commit fails shows not saved, keeps its text and offers a retry', async ({ newPage, defer }) => {
  test.setTimeout(90_000);
  const dir = makeTempDir('report-chat-e2e-db-');
  defer(() => removeTempDir(dir));
  const db = await startEmbeddedPostgres(join(dir, 'data'));
  let dbStopped = false;
  defer(async () => {
    if (!dbStopped) await db.stop();
  });
  const server = await startTestServer({ DATABASE_URL: db.url, LOCAL_MODEL_CHUNK_DELAY_MS: '60' });
  defer(() => server.close());
  const { login, api } = await server.createUser('Save Failure');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  await composer(page).fill('What are the risks and open questions?');
  await sendButton(page).click();
  await waitForMessages(page, 'the answer to be streaming with some text', (ms) => {
    const a = lastAnswer(ms);
    return a?.state === 'answering' && a.text.length > 20;
  });

  dbStopped = true;
  await db.stop();

  // The final commit is retried for about 10 s before the stream says saved:false.
  const shown = await waitForMessages(page, 'the answer to show not saved', (ms) => lastAnswer(ms)?.state === 'not-saved', 45_000);
  const answer = lastAnswer(shown);
  expect(answer?.text.length ?? 0, 'the length of the answer’s text on screen').toBeGreaterThan(40);
  const stateLine = page.locator(`li[data-message-id="${answer?.id}"] .message-state`);
  expect(await stateLine.textContent(), 'the state says “Not saved” in words').toContain('Not saved');
  await stateLine.getByRole('button', { name: 'Retry' }).waitFor({ state: 'visible' });
});
