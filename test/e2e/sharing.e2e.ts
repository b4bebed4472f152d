import { composer, openReport, sendButton, waitForMessages } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { assert, assertEqual, e2e } from './support/harness.js';

e2e('a viewer follows another user’s question and streaming answer live, with no input, Send or Clear; an editor can send', async (ctx) => {
  const server = await ctx.sharedServer('quick');
  const owner = await server.createUser('Report Owner');
  const editor = await server.createUser('Eddie Editor');
  const viewer = await server.createUser('Vera Viewer');
  const report = await owner.api.createReport(sampleReport().title, sampleReport().content);
  await owner.api.share(report.id, editor.userId, 'editor');
  await owner.api.share(report.id, viewer.userId, 'viewer');

  // Each person in a browser of their own, signed in with email and password.
  const viewing = await ctx.newPage();
  await openReport(viewing, server.url, viewer.login, report.id);
  const editing = await ctx.newPage();
  await openReport(editing, server.url, editor.login, report.id);

  const clear = (page: typeof viewing) => page.getByRole('button', { name: 'Clear', exact: true });
  assertEqual(await composer(viewing).count(), 0, 'the viewer’s question inputs');
  assertEqual(await sendButton(viewing).count(), 0, 'the viewer’s Send buttons');
  assertEqual(await clear(viewing).count(), 0, 'the viewer’s Clear buttons');
  assertEqual(await viewing.locator('.suggestion').count(), 0, 'the viewer’s suggested questions');
  await viewing.getByText('You can read this conversation but not write in it.').waitFor({ state: 'visible' });
  assertEqual(await clear(editing).count(), 0, 'the editor’s Clear buttons (owner only)');

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
  assertEqual(stored.map((m) => [m.role, m.status]), [['user', 'complete'], ['assistant', 'complete']], 'stored turn');
  const expected = stored.map((m) => [m.id, contentHash(m.content)]);
  assertEqual(seenByViewer.map((m) => [m.id, m.hash]), expected, 'the viewer shows the stored conversation');
  assertEqual(seenByEditor.map((m) => [m.id, m.hash]), expected, 'the editor shows the stored conversation');
  assert(await viewing.getByText('You can read this report and its conversation').first().isVisible(), 'the viewer’s page says its role');
  assertEqual(await composer(viewing).count(), 0, 'still no input for the viewer');
});
