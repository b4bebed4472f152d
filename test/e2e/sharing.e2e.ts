import { composer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';

test('a viewer follows another user’s question and streaming answer live, with no input, Send or Clear; an editor can send', async ({
  quickServer: server,
  newPage,
}) => {
  const owner = await server.createUser('Report Owner');
  const editor = await server.createUser('Eddie Editor');
  const viewer = await server.createUser('Vera Viewer');
  const report = await owner.api.createReport(sampleReport().title, sampleReport().content);
  await owner.api.share(report.id, editor.userId, 'editor');
  await owner.api.share(report.id, viewer.userId, 'viewer');

  // Each person in a browser of their own, signed in with email and password.
  const viewing = await newPage();
  await openReport(viewing, server.url, viewer.login, report.id);
  const editing = await newPage();
  await openReport(editing, server.url, editor.login, report.id);

  const clear = (page: typeof viewing) => page.getByRole('button', { name: 'Clear', exact: true });
  expect(await composer(viewing).count(), 'the viewer’s question inputs').toBe(0);
  expect(await sendButton(viewing).count(), 'the viewer’s Send buttons').toBe(0);
  expect(await clear(viewing).count(), 'the viewer’s Clear buttons').toBe(0);
  expect(await viewing.locator('.suggestion').count(), 'the viewer’s suggested questions').toBe(0);
  await viewing.getByText('You can read this conversation but not write in it.').waitFor({ state: 'visible' });
  expect(await clear(editing).count(), 'the editor’s Clear buttons (owner only)').toBe(0);

  await composer(editing).fill('What is the weekend shift proposal?');
  await sendButton(editing).click();

  // The viewer sees the question and the answer growing, without a reload.
  const lengths: number[] = [];
  await waitForMessages(viewing, 'the viewer to see the editor’s answer streaming', (ms) => {
    const answer = ms[1];
    if (ms[0]?.text.includes('What is the weekend shift proposal?') && answer?.state === 'answering') lengths.push(answer.text.length);
    return new Set(lengths).size >= 3;
  });
  const settled = (ms: Array<{ state: string }>) => ms.length === 2 && ms.every((m) => m.state === 'saved');
  const seenByViewer = await waitForMessages(viewing, 'the viewer to see the answer saved', settled, 30_000);
  const seenByEditor = await waitForMessages(editing, 'the editor to see the answer saved', settled, 30_000);

  const stored = await owner.api.messages(report.id);
  expect(stored.map((m) => [m.role, m.status]), 'stored turn').toEqual([
    ['user', 'complete'],
    ['assistant', 'complete'],
  ]);
  const expected = stored.map((m) => [m.id, contentHash(m.content)]);
  expect(seenByViewer.map((m) => [m.id, m.hash]), 'the viewer shows the stored conversation').toEqual(expected);
  expect(seenByEditor.map((m) => [m.id, m.hash]), 'the editor shows the stored conversation').toEqual(expected);
  expect(await viewing.getByText('You can read this report and its conversation').first().isVisible(), 'the viewer’s page says its role').toBe(true);
  expect(await composer(viewing).count(), 'the viewer’s question inputs, still').toBe(0);
});
