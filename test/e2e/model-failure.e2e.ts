import { startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { assert, assertEqual, e2e } from './support/harness.js';
import { startTestServer } from './support/servers.js';

e2e('a model failure shows failed with its reason, and its retry asks again as a new turn that completes', async (ctx) => {
  const fake = await startFakeOpenAI({ behavior: { failAfterChunks: 2, chunkDelayMs: 30 } });
  ctx.defer(() => fake.close());
  const server = await startTestServer({ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake' });
  ctx.defer(() => server.close());
  const { login, api } = await server.createUser('Model Failure');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await ctx.newPage();
  await openReport(page, server.url, login, report.id);

  const question = 'How much did billing tickets grow?';
  await composer(page).fill(question);
  await sendButton(page).click();
  const failed = await waitForMessages(page, 'the answer to show failed', (ms) => lastAnswer(ms)?.state === 'failed');
  const failedAnswer = lastAnswer(failed);
  const storedFailed = await api.messages(report.id);
  assertEqual(storedFailed.map((m) => m.status), ['complete', 'failed'], 'stored statuses after the failure');
  const reason = storedFailed[1]?.error ?? '';
  assert(reason.length > 0, 'the failed answer has a reason');
  const stateLine = page.locator(`li[data-message-id="${failedAnswer?.id}"] .message-state`);
  assert((await stateLine.textContent())?.includes(reason), `the page shows the reason “${reason}”`);

  fake.setBehavior({});
  await stateLine.getByRole('button', { name: 'Retry' }).click();
  const shown = await waitForMessages(
    page,
    'the retried turn to complete',
    (ms) => ms.length === 4 && lastAnswer(ms)?.state === 'saved',
    30_000,
  );

  const stored = await api.messages(report.id);
  assertEqual(
    stored.map((m) => [m.seq, m.role, m.status]),
    [
      [1, 'user', 'complete'],
      [2, 'assistant', 'failed'],
      [3, 'user', 'complete'],
      [4, 'assistant', 'complete'],
    ],
    'stored turns',
  );
  assertEqual(stored[2]?.content, question, 'the retry asks the same question');
  assert(stored[2]?.id !== stored[0]?.id, 'the retry is a new turn with a new id');
  assertEqual(shown.map((m) => [m.id, m.state]), stored.map((m, i) => [m.id, i === 1 ? 'failed' : 'saved']), 'the page shows');
});
