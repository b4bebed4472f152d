import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { assert, e2e } from './support/harness.js';
import { makeTempDir, removeTempDir, startTestServer } from './support/servers.js';

e2e(
  'an answer whose final commit fails shows not saved, keeps its text and offers a retry',
  async (ctx) => {
    const dir = makeTempDir('report-chat-e2e-db-');
    ctx.defer(() => removeTempDir(dir));
    const db = await startEmbeddedPostgres(join(dir, 'data'));
    let dbStopped = false;
    ctx.defer(async () => {
      if (!dbStopped) await db.stop();
    });
    const server = await startTestServer({ DATABASE_URL: db.url, LOCAL_MODEL_CHUNK_DELAY_MS: '60' });
    ctx.defer(() => server.close());
    const { login, api } = await server.createUser('Save Failure');
    const report = await api.createReport(sampleReport().title, sampleReport().content);
    const page = await ctx.newPage();
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
    assert((answer?.text.length ?? 0) > 40, 'the answer’s text stays on screen');
    const stateLine = page.locator(`li[data-message-id="${answer?.id}"] .message-state`);
    const words = (await stateLine.textContent()) ?? '';
    assert(words.includes('Not saved'), 'the state says “Not saved” in words');
    await stateLine.getByRole('button', { name: 'Retry' }).waitFor({ state: 'visible' });
  },
  { timeoutMs: 90_000 },
);
