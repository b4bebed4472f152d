import { describe, expect, it } from 'vitest';
import { conversationPath, isPublicRoute, parseRoute } from './routes.js';

const REPORT = '0f8fad5b-d9cb-469f-a165-70867728950e';
const CONVERSATION = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('parseRoute', () => {
  it('opens a report on its main conversation', () => {
    expect(parseRoute(`/reports/${REPORT}`, '')).toEqual({ name: 'report', reportId: REPORT, conversationId: undefined });
    expect(parseRoute(`/reports/${REPORT}/`, '')).toEqual({ name: 'report', reportId: REPORT, conversationId: undefined });
  });

  it('opens the conversation a path names, ids in lower case', () => {
    expect(parseRoute(`/reports/${REPORT.toUpperCase()}/conversations/${CONVERSATION.toUpperCase()}`, '')).toEqual({
      name: 'report',
      reportId: REPORT,
      conversationId: CONVERSATION,
    });
    expect(parseRoute(`/reports/${REPORT}/conversations/${CONVERSATION}/`, '').name).toBe('report');
  });

  it('finds nothing at a malformed conversation path', () => {
    for (const path of [
      `/reports/${REPORT}/conversations`,
      `/reports/${REPORT}/conversations/`,
      `/reports/${REPORT}/conversations/not-a-uuid`,
      `/reports/${REPORT}/conversations/${CONVERSATION}/extra`,
      `/reports/${REPORT}/threads/${CONVERSATION}`,
      `/reports/${'-'.repeat(36)}`,
    ]) {
      expect(parseRoute(path, ''), path).toEqual({ name: 'not-found' });
    }
  });

  it('keeps the other pages as they were', () => {
    expect(parseRoute('/', '')).toEqual({ name: 'reports' });
    expect(parseRoute('/sign-in', `?next=${encodeURIComponent(`/reports/${REPORT}/conversations/${CONVERSATION}`)}`)).toEqual({
      name: 'sign-in',
      next: `/reports/${REPORT}/conversations/${CONVERSATION}`,
    });
    expect(parseRoute('/sign-in', '?next=//evil.example')).toEqual({ name: 'sign-in', next: '/' });
  });
});

describe('the account, admin and invite pages', () => {
  it('are found at their paths; the admin page and an invite open without a session, the account page needs one', () => {
    const [account, admin, invite] = ['/account', '/admin', '/invite'].map((path) => parseRoute(path, ''));
    expect([account, admin, invite]).toEqual([{ name: 'account' }, { name: 'admin' }, { name: 'invite' }]);
    expect([account, admin, invite].map((route) => route && isPublicRoute(route))).toEqual([false, true, true]);
    expect(isPublicRoute(parseRoute('/sign-in', ''))).toBe(true);
    expect(isPublicRoute(parseRoute(`/reports/${REPORT}`, ''))).toBe(false);
    expect(parseRoute('/admin/users', '')).toEqual({ name: 'not-found' });
  });
});

describe('conversationPath', () => {
  it('names the main conversation by the report alone, and round-trips through parseRoute', () => {
    expect(conversationPath(REPORT)).toBe(`/reports/${REPORT}`);
    expect(parseRoute(conversationPath(REPORT, CONVERSATION), '')).toEqual({ name: 'report', reportId: REPORT, conversationId: CONVERSATION });
    expect(parseRoute(conversationPath(REPORT), '')).toEqual({ name: 'report', reportId: REPORT, conversationId: undefined });
  });
});
