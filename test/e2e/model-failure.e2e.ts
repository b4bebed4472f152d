import { startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { composer, lastAnswer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import { startTestServer } from './support/servers.js';

test('a model failure shows failed with its reason, and its retry asks again as a new turn that completes', async ({ newPage, defer }) => {
  const fake = await startFakeOpenAI({ behavior: { failAfterChunks: 2, chunkDelayMs: 30 } });
  defer(() => fake.close());
  const server = await startTestServer({ LLM_PROVIDER: 'openai-compatible', LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake' });
  defer(() => server.close());
  const { login, api } = await server.createUser('Model Failure');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const page = await newPage();
  await openReport(page, server.url, login, report.id);

  const question = 'How much did billing tickets grow?';
  await composer(page).fill(question);
  await sendButton(page).click();
  const failed = await waitForMessages(page, 'the answer to show failed', (ms) => lastAnswer(ms)?.state === 'failed');
  const failedAnswer = lastAnswer(failed);
  const storedFailed = await api.messages(report.id);
  expect(storedFailed.map((m) => m.status), 'stored statuses after the failure').toEqual(['complete', 'failed']);
  const reason = storedFailed[1]?.error ?? '';
  expect(reason, 'the failed answer’s reason').not.toBe('');
  const stateLine = page.locator(`li[data-message-id="${failedAnswer?.id}"] .message-state`);
  expect(await stateLine.textContent(), 'the failed answer’s state line shows the reason').toContain(reason);

  fake.setBehavior({});
  await stateLine.getByRole('button', { name: 'Retry' }).click();
  const shown = await waitForMessages(
    page,
    'the retried turn to complete',
    (ms) => ms.length === 4 && lastAnswer(ms)?.state === 'saved',
    30_000,
  );

  const stored = await api.messages(report.id);
  expect(stored.map((m) => [m.seq, m.role, m.status]), 'stored turns').toEqual([
    [1, 'user', 'complete'],
    [2, 'assistant', 'failed'],
    [3, 'user', 'complete'],
    [4, 'assistant', 'complete'],
  ]);
  expect(stored[2]?.content, 'the retry asks the same question').toBe(question);
  expect(stored[2]?.id, 'the retry’s id: a new turn').not.toBe(stored[0]?.id);
  expect(shown.map((m) => [m.id, m.state]), 'the page shows').toEqual(stored.map((m, i) => [m.id, i === 1 ? 'failed' : 'saved']));
});
