import { composer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { assertEqual, e2e } from './support/harness.js';

const settled = (state: string) => !['sending', 'queued', 'answering'].includes(state);

e2e('two tabs of one user send at the same moment: both turns are stored and both tabs show all four in order', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const { login, api } = await server.createUser('Tab Tester');
  const report = await api.createReport(sampleReport().title, sampleReport().content);
  const [a, b] = [await ctx.newPage(), await ctx.newPage()];
  await openReport(a, server.url, login, report.id);
  await openReport(b, server.url, login, report.id);

  await composer(a).fill('What drove the growth in ticket volume?');
  await composer(b).fill('Why do escalations wait so long?');
  await Promise.all([sendButton(a).click(), sendButton(b).click()]);

  const done = (ms: Array<{ role: string; state: string }>) => ms.length === 4 && ms.every((m) => settled(m.state));
  const shownA = await waitForMessages(a, 'tab A to show four settled messages', done, 40_000);
  const shownB = await waitForMessages(b, 'tab B to show four settled messages', done, 40_000);

  const stored = await api.messages(report.id);
  assertEqual(stored.length, 4, 'stored messages');
  assertEqual(stored.map((m) => m.seq), [1, 2, 3, 4], 'stored seqs');
  assertEqual(stored.map((m) => m.role), ['user', 'assistant', 'user', 'assistant'], 'stored roles');
  assertEqual(
    stored.filter((m) => m.role === 'user').map((m) => m.content).sort(),
    ['What drove the growth in ticket volume?', 'Why do escalations wait so long?'],
    'stored questions',
  );
  assertEqual(stored.map((m) => m.status), ['complete', 'complete', 'complete', 'complete'], 'stored statuses');
  const expected = stored.map((m) => ({ id: m.id, seq: m.seq, state: 'saved', hash: contentHash(m.content) }));
  assertEqual(shownA.map((m) => ({ id: m.id, seq: m.seq, state: m.state, hash: m.hash })), expected, 'tab A shows');
  assertEqual(shownB.map((m) => ({ id: m.id, seq: m.seq, state: m.state, hash: m.hash })), expected, 'tab B shows');

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
  assertEqual(final.map((m) => [m.id, m.hash]), storedAll.map((m) => [m.id, contentHash(m.content)]), 'tab B shows the stored conversation');
});
