import type { Locator, Page } from '@playwright/test';
import { eventually } from './eventually.js';

/** A message as a page shows it (the data-* attributes of MessageItem). */
export interface ShownMessage {
  id: string;
  seq: number | null;
  role: string;
  state: string;
  hash: string;
  text: string;
}

/** How a test signs in: a person's email and password (the session cookie), or an API token (kept in the tab). */
export type SignInAs = { email: string; password: string } | { token: string };

/** Signs in through the sign-in page and lands on `path`. */
export async function signIn(page: Page, baseUrl: string, as: SignInAs, path = '/'): Promise<void> {
  await page.goto(`${baseUrl}/sign-in?next=${encodeURIComponent(path)}`);
  if ('token' in as) {
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill(as.token);
  } else {
    await page.getByLabel('Email').fill(as.email);
    await page.getByLabel('Password').fill(as.password);
  }
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === path.split('?')[0]);
}

/** Opens a report's page signed in, and waits until its conversation is loaded and live. */
export async function openReport(page: Page, baseUrl: string, as: SignInAs, reportId: string): Promise<void> {
  await signIn(page, baseUrl, as, `/reports/${reportId}`);
  await waitUntilLive(page);
}

export async function waitUntilLive(page: Page): Promise<void> {
  await page.locator('.live-live').first().waitFor({ state: 'attached', timeout: 15_000 });
}

export const composer = (page: Page): Locator => page.getByLabel('Your question about the report');
export const sendButton = (page: Page): Locator => page.getByRole('button', { name: 'Send', exact: true });

export async function shownMessages(page: Page): Promise<ShownMessage[]> {
  return page.$$eval('li.message', (items) =>
    items.map((li) => {
      const el = li as HTMLElement;
      return {
        id: el.dataset.messageId ?? '',
        seq: el.dataset.seq ? Number(el.dataset.seq) : null,
        role: el.dataset.role ?? '',
        state: el.dataset.state ?? '',
        hash: el.dataset.contentHash ?? '',
        text: el.querySelector('.message-bubble')?.textContent ?? '',
      };
    }),
  );
}

/** Waits until the page shows messages for which `ok` holds, and returns them; a timeout says what it showed last. */
export async function waitForMessages(
  page: Page,
  what: string,
  ok: (messages: ShownMessage[]) => boolean,
  timeoutMs = 30_000,
): Promise<ShownMessage[]> {
  let last: ShownMessage[] | undefined;
  try {
    return await eventually(
      what,
      async () => {
        last = await shownMessages(page);
        return ok(last) ? last : undefined;
      },
      timeoutMs,
      50,
    );
  } catch (err) {
    const shown = last?.map((m) => `${m.seq ?? '-'} ${m.role} ${m.state} (${m.text.length} chars)`).join(', ');
    throw new Error(`${(err as Error).message}; the page showed [${shown ?? 'nothing yet'}]`);
  }
}

/** The answer of the last turn on the page. */
export const lastAnswer = (messages: ShownMessage[]): ShownMessage | undefined => messages.filter((m) => m.role === 'assistant').at(-1);
