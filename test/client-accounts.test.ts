import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSessionSchema,
  adminUserListSchema,
  adminUserSchema,
  createdTokenSchema,
  createdUserSchema,
  inviteSchema,
  memberDetailSchema,
  memberListSchema,
  meSchema,
  tokenListSchema,
} from '../src/api/schemas.js';
import { ReportChatClient, ReportChatError } from '../src/client/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/test-app.js';

/**
 * The typed client's account, sharing and administration calls against the real app (without a port): each answer
 * parses with the schema the route publishes, and a refusal arrives as a ReportChatError with the API's code.
 */
let db: TestDatabase;
let t: TestApp;
let admin: ReportChatClient;
const as = (token: string) => new ReportChatClient({ baseUrl: 'http://127.0.0.1', token, fetch: (input, init) => Promise.resolve(t.app.request(input as string, init)) });

beforeAll(async () => {
  db = await createTestDatabase();
  t = await createTestApp(db);
  admin = as(ADMIN_TOKEN);
});
afterAll(async () => {
  await t?.close();
  await db?.drop();
});

const person = async (name: string, password?: string) => {
  const created = createdUserSchema.parse(await admin.createUser({ email: `${name}-${randomUUID()}@example.com`, name, ...(password ? { password } : {}) }));
  return { ...created, client: as(created.token) };
};

describe('the typed client: accounts, sharing, administration', () => {
  it('shares a report by email, lists who has access as owner and as member, changes and removes a role', async () => {
    const owner = await person('Owner');
    const member = await person('Member');
    const report = await owner.client.createReport({ title: 'Incident', content: '# Incident\n\nThe pool ran dry.' });

    const added = memberDetailSchema.parse(await owner.client.addMember(report.id, { email: member.user.email!.toUpperCase(), role: 'viewer' }));
    expect(added).toEqual({ userId: member.user.id, email: member.user.email, name: 'Member', role: 'viewer' });
    expect(memberListSchema.parse(await owner.client.listMembers(report.id)).members.map((m) => m.userId)).toEqual([member.user.id]);
    const seen = memberListSchema.parse(await member.client.listMembers(report.id));
    expect(seen).toMatchObject({ owner: { id: owner.user.id, name: 'Owner' }, role: 'viewer', members: [{ userId: member.user.id }] });

    expect(await owner.client.setMember(report.id, member.user.id, 'editor')).toEqual({ userId: member.user.id, role: 'editor' });
    const again = await owner.client.addMember(report.id, { email: member.user.email!, role: 'viewer' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ReportChatError);
    expect(again).toMatchObject({ status: 409, code: 'already_member' });
    const nobody = await owner.client.addMember(report.id, { email: 'nobody@example.com', role: 'viewer' }).catch((e: unknown) => e);
    expect(nobody).toMatchObject({ status: 404, code: 'not_found', message: expect.stringContaining('nobody@example.com') });

    await owner.client.removeMember(report.id, member.user.id);
    expect(await member.client.getReport(report.id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
  });

  it('describes the caller, changes the password, and creates, lists and revokes API tokens', async () => {
    const user = await person('Tokens', 'first password');
    expect(meSchema.parse(await user.client.me())).toMatchObject({ signedInWith: 'token', hasPassword: true });
    const wrong = await user.client.changePassword({ currentPassword: 'not it', newPassword: 'second password' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 403, code: 'forbidden' });
    await expect(user.client.changePassword({ currentPassword: 'first password', newPassword: 'second password' })).resolves.toBeUndefined();

    const made = createdTokenSchema.parse(await user.client.createToken({ name: 'laptop' }));
    const listed = tokenListSchema.parse(await user.client.listTokens()).tokens;
    expect(listed.map((tk) => tk.name).sort()).toEqual(['initial', 'laptop'].sort());
    expect(meSchema.parse(await as(made.token).me()).user.id).toBe(user.user.id);
    await user.client.revokeToken(made.id);
    expect(tokenListSchema.parse(await user.client.listTokens()).tokens.map((tk) => tk.id)).not.toContain(made.id);
    expect(await as(made.token).me().catch((e: unknown) => e)).toMatchObject({ status: 401 });
  });

  it('administers users: sign-in, list, invite and its acceptance, disable and enable', async () => {
    expect(adminSessionSchema.parse(await admin.adminSignIn({ token: ADMIN_TOKEN })).expiresAt).toBeTruthy();
    const invited = createdUserSchema.parse(await admin.createUser({ email: `invited-${randomUUID()}@example.com`, invite: true }));
    expect(invited.invite).toBeDefined();
    const listed = adminUserListSchema.parse(await admin.listUsers()).users.find((u) => u.id === invited.user.id);
    expect(listed).toMatchObject({ hasPassword: false, disabled: false });

    const fresh = inviteSchema.parse(await admin.inviteUser(invited.user.id));
    const stale = await as(invited.token).acceptInvite(invited.invite!.code, 'long enough password').catch((e: unknown) => e);
    expect(stale, 'a new invite replaces the earlier one').toMatchObject({ status: 404, code: 'not_found' });
    await expect(as(invited.token).acceptInvite(fresh.code, 'long enough password')).resolves.toBeUndefined();

    expect(adminUserSchema.parse(await admin.disableUser(invited.user.id))).toMatchObject({ disabled: true, hasPassword: true });
    expect(await as(invited.token).me().catch((e: unknown) => e)).toMatchObject({ status: 401 });
    expect(adminUserSchema.parse(await admin.enableUser(invited.user.id)).disabled).toBe(false);
  });
});
