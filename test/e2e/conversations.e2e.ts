import type { Page } from '@playwright/test';
import { composer, lastAnswer, sendButton, signIn, waitForMessages, waitUntilLive, type ShownMessage } from './support/app-page.js';
import { contentHash, sampleReport } from './support/api-client.js';
import { expect, test } from './support/fixtures.js';
import type { TestServer } from './support/servers.js';

const saved = (n: number) => (ms: ShownMessage[]) => ms.length === n && ms.every((m) => m.state === 'saved');
const shownView = (ms: ShownMessage[]) => ms.map((m) => [m.id, m.seq, m.hash]);
const storedView = (ms: Array<{ id: string; seq: number; content: string }>) => ms.map((m) => [m.id, m.seq, contentHash(m.content)]);

async function ask(page: Page, question: string): Promise<void> {
  await composer(page).fill(question);
  await sendButton(page).click();
}

/** Waits until the page shows another conversation of the report than the main one, and returns its id. */
async function forkOpened(page: Page, reportId: string): Promise<string> {
  await page.waitForURL(new RegExp(`/reports/${reportId}/conversations/[0-9a-f-]{36}$`));
  return new URL(page.url()).pathname.split('/').at(-1)!;
}

/** The conversations panel of the chat header, opened. */
async function conversationsPanel(page: Page) {
  const toggle = page.getByRole('button', { name: 'Conversations', exact: true });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  return page.getByRole('region', { name: 'Conversations' });
}

async function newReport(server: TestServer, name: string) {
  const user = await server.createUser(name);
  const report = await user.api.createReport(sampleReport().title, sampleReport().content);
  return { ...user, reportId: report.id };
}

const switcherAt = (page: Page, seq: number) => page.locator(`li.message[data-seq="${seq}"] .branch-switcher`);

test('editing a question opens a branch with the edited question and its answer; the switcher moves between the branches, and the original stays word for word', async ({
  quickServer: server,
  newPage,
}) => {
  const { login, api, reportId } = await newReport(server, 'Question Editor');
  const page = await newPage();
  await signIn(page, server.url, login, `/reports/${reportId}`);
  await waitUntilLive(page);
  await ask(page, 'What drove the growth in ticket volume?');
  await waitForMessages(page, 'the first turn saved', saved(2));
  await ask(page, 'Why do escalations wait so long?');
  const original = await waitForMessages(page, 'both turns saved', saved(4));
  const stored = await api.messages(reportId);
  expect(shownView(original), 'the page shows the stored conversation').toEqual(storedView(stored));

  await page.locator('li.message[data-seq="3"]').getByRole('button', { name: 'Edit this question' }).click();
  const editor = page.getByLabel('Edit your question');
  await expect(editor, 'the editor takes the focus').toBeFocused();
  await expect(editor).toHaveValue('Why do escalations wait so long?');
  const edited = 'What is the weekend shift proposal?';
  await editor.fill(edited);
  await page.getByRole('button', { name: 'Send the edited question' }).click();

  const forkId = await forkOpened(page, reportId);
  const inFork = await waitForMessages(page, 'the fork to show the edited question answered', (ms) => saved(4)(ms) && ms[2]?.text === edited);
  const forkStored = await api.messages(reportId, forkId);
  expect(forkStored.map((m) => [m.seq, m.role, m.status]), 'the fork as stored').toEqual([
    [1, 'user', 'complete'],
    [2, 'assistant', 'complete'],
    [3, 'user', 'complete'],
    [4, 'assistant', 'complete'],
  ]);
  expect(forkStored.slice(0, 2).map((m) => [m.copiedFrom, m.content]), 'the fork’s first turn: copies of the original').toEqual(
    stored.slice(0, 2).map((m) => [m.id, m.content]),
  );
  expect([forkStored[2]?.content, forkStored[2]?.copiedFrom], 'the fork’s question: the edited text, written there').toEqual([edited, null]);
  expect(shownView(inFork), 'the page shows the stored fork').toEqual(storedView(forkStored));

  const forkSwitcher = switcherAt(page, 3);
  await expect(forkSwitcher).toContainText('2 / 2');
  await expect(forkSwitcher.getByText('Branch 2 of 2')).toBeAttached();
  await expect(page.locator('.branch-switcher'), 'one place where the branches part').toHaveCount(1);
  await expect(forkSwitcher.getByRole('button', { name: 'Next branch' })).toBeDisabled();

  await forkSwitcher.getByRole('button', { name: 'Previous branch' }).click();
  await page.waitForURL(`${server.url}/reports/${reportId}`);
  const back = await waitForMessages(page, 'the original conversation again', (ms) => saved(4)(ms) && ms[0]?.id === stored[0]?.id);
  expect(shownView(back), 'the original, word for word, on the page').toEqual(shownView(original));
  expect(await api.messages(reportId), 'the original, word for word, as stored').toEqual(stored);
  const mainSwitcher = switcherAt(page, 3);
  await expect(mainSwitcher).toContainText('1 / 2');
  // The focus follows the switch to the same switcher, on the button that can still move.
  await expect(mainSwitcher.getByRole('button', { name: 'Next branch' })).toBeFocused();

  await mainSwitcher.getByRole('button', { name: 'Next branch' }).click();
  expect(await forkOpened(page, reportId), 'Next opens the fork again').toBe(forkId);
  await waitForMessages(page, 'the fork again', (ms) => saved(4)(ms) && ms[2]?.text === edited);
});

test('regenerating an answer opens a branch with a new answer to the same question; the original stays', async ({ quickServer: server, newPage }) => {
  const { login, api, reportId } = await newReport(server, 'Regenerator');
  const page = await newPage();
  await signIn(page, server.url, login, `/reports/${reportId}`);
  await waitUntilLive(page);
  const question = 'What does the report recommend for weekend coverage?';
  await ask(page, question);
  await waitForMessages(page, 'the turn saved', saved(2));
  const stored = await api.messages(reportId);

  await page.locator('li.message[data-seq="2"]').getByRole('button', { name: 'Regenerate this answer' }).click();
  const forkId = await forkOpened(page, reportId);
  const inFork = await waitForMessages(page, 'the fork to show a new answer saved', (ms) => saved(2)(ms) && ms[1]?.id !== stored[1]?.id);
  const forkStored = await api.messages(reportId, forkId);
  expect(forkStored.map((m) => [m.seq, m.role, m.status, m.copiedFrom]), 'the fork as stored: a question and an answer of its own').toEqual([
    [1, 'user', 'complete', null],
    [2, 'assistant', 'complete', null],
  ]);
  expect(forkStored[0]?.content, 'the same question, asked again').toBe(question);
  expect(forkStored.map((m) => m.id).some((id) => stored.some((o) => o.id === id)), 'no message shared with the original').toBe(false);
  expect(shownView(inFork)).toEqual(storedView(forkStored));

  const fork = (await api.conversations(reportId)).find((c) => c.id === forkId);
  expect(fork?.forkedFrom?.seq, 'forked before the question').toBe(0);
  // A fork at 0 parts from the original at its first message.
  await expect(switcherAt(page, 1)).toContainText('2 / 2');
  await expect(page.locator('#chat-title')).toHaveText(question);
  expect(await api.messages(reportId), 'the original, as it was').toEqual(stored);
});

test('a new conversation is renamed, made private (a member no longer sees it, and their open tab says it is gone) and deleted after a confirmation', async ({
  quickServer: server,
  newPage,
}) => {
  const owner = await newReport(server, 'Conversation Owner');
  const member = await server.createUser('Member Mia');
  await owner.api.share(owner.reportId, member.userId, 'editor');
  const page = await newPage();
  await signIn(page, server.url, owner.login, `/reports/${owner.reportId}`);
  await waitUntilLive(page);

  let panel = await conversationsPanel(page);
  await expect(panel.getByRole('link')).toHaveCount(1);
  await expect(panel.getByRole('link').first()).toContainText('Main');
  await panel.getByRole('button', { name: 'New conversation' }).click();
  const conversationId = await forkOpened(page, owner.reportId);
  await expect(page.locator('#chat-title')).toHaveText('New conversation');
  await expect(composer(page), 'the composer takes the focus in the new conversation').toBeFocused();

  panel = await conversationsPanel(page);
  await panel.getByRole('button', { name: 'Rename' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rename the conversation' });
  const title = dialog.getByLabel('Title');
  await expect(title).toBeFocused();
  await title.fill('Budget questions');
  await title.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(page.locator('#chat-title')).toHaveText('Budget questions');
  await expect(page.getByRole('button', { name: 'Conversations', exact: true }), 'the focus goes back to the menu').toBeFocused();

  // The member opens it by its address, and sees it listed.
  const memberPage = await newPage();
  await signIn(memberPage, server.url, member.login, `/reports/${owner.reportId}/conversations/${conversationId}`);
  await waitUntilLive(memberPage);
  await expect(memberPage.locator('#chat-title')).toHaveText('Budget questions');
  await expect((await conversationsPanel(memberPage)).getByRole('link', { name: /Budget questions/ })).toBeVisible();
  await memberPage.keyboard.press('Escape');
  await expect(memberPage.getByRole('region', { name: 'Conversations' })).toBeHidden();

  panel = await conversationsPanel(page);
  await panel.getByRole('button', { name: 'Make private' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Only you can see this conversation now.' })).toBeVisible();
  await expect(page.locator('.chat-heading .pill-private')).toHaveText('Private');

  const gone = memberPage.getByRole('alert').filter({ hasText: 'This conversation is not available' });
  await expect(gone, 'the member’s open tab says the conversation is gone').toBeVisible({ timeout: 20_000 });
  expect((await member.api.conversations(owner.reportId)).map((c) => c.id), 'the member’s list').not.toContain(conversationId);
  await gone.getByRole('link', { name: 'Open the main conversation' }).click();
  await memberPage.waitForURL(`${server.url}/reports/${owner.reportId}`);
  await waitUntilLive(memberPage);
  await expect((await conversationsPanel(memberPage)).getByRole('link')).toHaveCount(1);
  // The main conversation of another report, in this report's address: to this page it does not exist.
  const otherReport = await member.api.createReport('Another report', sampleReport().content);
  const otherMain = (await member.api.conversations(otherReport.id)).find((c) => c.isMain);
  await memberPage.goto(`${server.url}/reports/${owner.reportId}/conversations/${otherMain?.id}`);
  await expect(memberPage.getByRole('alert').filter({ hasText: 'This conversation is not available' })).toBeVisible();

  panel = await conversationsPanel(page);
  await panel.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete this conversation?' });
  await expect(confirm.getByRole('button', { name: 'Cancel' }), 'the safe choice has the focus').toBeFocused();
  await confirm.getByRole('button', { name: 'Delete conversation' }).click();
  await page.waitForURL(`${server.url}/reports/${owner.reportId}`);
  await expect(page.getByRole('status').filter({ hasText: 'The conversation “Budget questions” was deleted.' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Conversations', exact: true })).toBeFocused();
  expect((await owner.api.conversations(owner.reportId)).map((c) => c.isMain), 'the owner’s list: the main conversation only').toEqual([true]);
});

test('a reload during a streaming answer in a conversation other than the main one picks the answer up', async ({ slowServer: server, newPage }) => {
  const { login, api, reportId } = await newReport(server, 'Branch Reloader');
  const conversation = await api.createConversation(reportId, { title: 'Weekend planning' });
  const page = await newPage();
  await signIn(page, server.url, login, `/reports/${reportId}/conversations/${conversation.id}`);
  await waitUntilLive(page);
  await expect(page.locator('#chat-title')).toHaveText('Weekend planning');

  await ask(page, 'What does the report say about escalations and weekend coverage?');
  await waitForMessages(page, 'the answer streaming with some text', (ms) => {
    const a = lastAnswer(ms);
    return a?.state === 'answering' && a.text.length > 40;
  });
  await page.reload();
  await waitUntilLive(page);
  const justAfter = await api.messages(reportId, conversation.id);
  expect(justAfter[1]?.status, 'the stored answer just after the reload: the reload came mid-answer').toBe('streaming');
  const lengths = new Set<number>();
  const final = await waitForMessages(
    page,
    'the answer to complete on the reloaded page',
    (ms) => {
      const a = lastAnswer(ms);
      if (a?.state === 'answering') lengths.add(a.text.length);
      return saved(2)(ms);
    },
    40_000,
  );
  expect(lengths.size, 'answer lengths seen streaming on the reloaded page').toBeGreaterThan(1);
  const stored = await api.messages(reportId, conversation.id);
  expect(shownView(final), 'the reloaded page shows the stored conversation').toEqual(storedView(stored));
  expect(await api.messages(reportId), 'the main conversation is untouched').toEqual([]);
});

test('a conversation’s address opened in a second tab shows the same live messages; a tab on the main conversation hears none of them', async ({
  quickServer: server,
  newPage,
}) => {
  const { login, api, reportId } = await newReport(server, 'Two Tab Person');
  const conversation = await api.createConversation(reportId, { title: 'Shared link' });
  const path = `/reports/${reportId}/conversations/${conversation.id}`;
  const first = await newPage();
  await signIn(first, server.url, login, path);
  await waitUntilLive(first);
  const second = await newPage(undefined, { sameBrowserAs: first });
  await second.goto(`${server.url}${path}`);
  await waitUntilLive(second);
  const onMain = await newPage(undefined, { sameBrowserAs: first });
  await onMain.goto(`${server.url}/reports/${reportId}`);
  await waitUntilLive(onMain);

  const question = 'What is the weekend shift proposal?';
  await ask(first, question);
  const lengths = new Set<number>();
  await waitForMessages(second, 'the second tab to show the answer streaming', (ms) => {
    if (ms[0]?.text === question && ms[1]?.state === 'answering') lengths.add(ms[1].text.length);
    return lengths.size >= 3;
  });
  const inSecond = await waitForMessages(second, 'the second tab to show the answer saved', saved(2));
  const inFirst = await waitForMessages(first, 'the first tab to show the answer saved', saved(2));
  const stored = await api.messages(reportId, conversation.id);
  expect(shownView(inSecond), 'the second tab shows the stored conversation').toEqual(storedView(stored));
  expect(shownView(inFirst), 'the first tab shows the stored conversation').toEqual(storedView(stored));
  expect(await onMain.locator('li.message').count(), 'messages on the main conversation’s tab').toBe(0);
});

test('Edit is offered on your own questions only; another member can regenerate the answer but not edit the question', async ({
  quickServer: server,
  newPage,
}) => {
  const owner = await newReport(server, 'Asking Owner');
  const member = await server.createUser('Editing Member');
  await owner.api.share(owner.reportId, member.userId, 'editor');
  const ownerPage = await newPage();
  await signIn(ownerPage, server.url, owner.login, `/reports/${owner.reportId}`);
  await waitUntilLive(ownerPage);
  await ask(ownerPage, 'What drove the growth in ticket volume?');
  await waitForMessages(ownerPage, 'the owner’s turn to be saved', saved(2), 30_000);
  const question = (page: Page) => page.locator('li.message[data-seq="1"]');
  await expect(question(ownerPage).getByRole('button', { name: 'Edit this question' }), 'the author may edit').toBeVisible();

  const memberPage = await newPage();
  await signIn(memberPage, server.url, member.login, `/reports/${owner.reportId}`);
  await waitUntilLive(memberPage);
  await waitForMessages(memberPage, 'the member to see the owner’s turn', saved(2), 30_000);
  await expect(question(memberPage).getByRole('button', { name: 'Edit this question' }), 'someone else’s question offers no Edit').toHaveCount(0);
  await expect(memberPage.locator('li.message[data-seq="2"]').getByRole('button', { name: /Regenerate/ })).toBeVisible();
});

test('on a phone: editing a question and regenerating an answer open branches in the chat drawer; the original stays as it was', async ({
  quickServer: server,
  newPage,
}) => {
  const { login, api, reportId } = await newReport(server, 'Phone Brancher');
  const page = await newPage({ width: 390, height: 844 });
  await signIn(page, server.url, login, `/reports/${reportId}`);
  await page.getByRole('button', { name: 'Ask about this report' }).click();
  await waitUntilLive(page);
  await ask(page, 'What drove the growth in ticket volume?');
  await waitForMessages(page, 'the turn saved', saved(2));
  const stored = await api.messages(reportId);

  const edited = 'What is the weekend shift proposal?';
  await page.locator('li.message[data-seq="1"]').getByRole('button', { name: 'Edit this question' }).click();
  await page.getByLabel('Edit your question').fill(edited);
  await page.getByRole('button', { name: 'Send the edited question' }).click();
  const editedFork = await forkOpened(page, reportId);
  await waitForMessages(page, 'the edited question answered in its branch', (ms) => saved(2)(ms) && ms[0]?.text === edited);
  await expect(switcherAt(page, 1)).toContainText('2 / 2');
  expect((await api.messages(reportId, editedFork)).map((m) => [m.seq, m.role, m.content === edited]).slice(0, 1)).toEqual([[1, 'user', true]]);

  await page.locator('li.message[data-seq="2"]').getByRole('button', { name: 'Regenerate this answer' }).click();
  await page.waitForURL((url) => /\/conversations\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(editedFork));
  await waitForMessages(page, 'a new answer to the edited question', (ms) => saved(2)(ms) && ms[0]?.text === edited);
  await expect(switcherAt(page, 1)).toContainText('3 / 3');
  expect(await api.messages(reportId), 'the original, word for word, as stored').toEqual(stored);
});
