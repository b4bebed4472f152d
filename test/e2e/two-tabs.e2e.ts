import { composer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

const settled = (state: string) => !['sending', 'queued', 'answering'].includes(state);

test('two tabs of one user send at the same moment: both turns are stored and both tabs show all four in order', async ({ quickServer: server, newPage }) => {
  const { login, api } = await server.createUser('Tab Tester');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const [a, b] = [await newPage(), await newPage()];
  await openReport(a, server.url, login, report.id);
  await openReport(b, server.url, login, report.id);

  await composer(a).fill('What drove the growth in ticket volume?');
  await composer(b).fill('Why do escalations wait so long?');
  await Promise.all([sendButton(a).click(), sendButton(b).click()]);

  const done = (ms: Array<{ role: string; state: string }>) => ms.length === 4 && ms.every((m) => settled(m.state));
  const shownA = await waitForMessages(a, 'tab A to show four settled messages', done, 40_000);
  const shownB = await waitForMessages(b, 'tab B to show four settled messages', done, 40_000);

  const stored = await api.messages(report.id);
  expect(stored.length, 'stored messages').toBe(4);
  expect(stored.map((m) => m.seq), 'stored seqs').toEqual([1, 2, 3, 4]);
  expect(stored.map((m) => m.role), 'stored roles').toEqual(['user', 'assistant', 'user', 'assistant']);
  expect(stored.filter((m) => m.role === 'user').map((m) => m.content).sort(), 'stored questions').toEqual([
    'What drove the growth in ticket volume?',
    'Why do escalations wait so long?',
  ]);
  expect(stored.map((m) => m.status), 'stored statuses').toEqual(['complete', 'complete', 'complete', 'complete']);
  const expected = stored.map((m) => ({ id: m.id, seq: m.seq, state: 'saved', hash: contentHash(m.content) }));
  expect(shownA.map((m) => ({ id: m.id, seq: m.seq, state: m.state, hash: m.hash })), 'tab A shows').toEqual(expected);
  expect(shownB.map((m) => ({ id: m.id, seq: m.seq, state: m.state, hash: m.hash })), 'tab B shows').toEqual(expected);

  // Another tab's question and its answer appear live, while the answer streams.
  await composer(a).fill('What is the weekend shift proposal?');
  await sendButton(a).click();
  const lengths: number[] = [];
  await waitForMessages(b, 'tab B to show tab A’s answer streaming', (ms) => {
    const answer = ms[5];
    if (ms[4]?.text.includes('What is the weekend shift proposal?') && answer?.state === 'answering') lengths.push(answer.text.length);
    return new Set(lengths).size >= 3;
  });
  const final = await waitForMessages(b, 'tab B to show tab A’s answer saved', (ms) => ms.length === 6 && ms[5]?.state === 'saved', 30_000);
  const storedAll = await api.messages(report.id);
  expect(final.map((m) => [m.id, m.hash]), 'tab B shows the stored conversation').toEqual(storedAll.map((m) => [m.id, contentHash(m.content)]));
});
