import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { addMemberBody, memberBody, memberDetailSchema, memberListSchema, memberSchema } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { addMemberByEmail, listMembers, removeMember, setMember } from '../../chat/members.js';
import { jsonBody, routesApp } from '../request.js';
import { errors, idParam, json, jsonRequest, reportIdParam, reportParams, SECURITY, SERVER_ERRORS } from '../route-parts.js';

const memberParams = z.object({ reportId: reportIdParam, userId: idParam("The member's user id.") });

const setMemberRoute = createRoute({
  method: 'put',
  path: '/{reportId}/members/{userId}',
  operationId: 'setMember',
  tags: ['Members'],
  summary: 'Share a report',
  description: 'Gives a user a role on the report, or changes it. Owner only. A demotion takes effect on their next request.',
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: { params: memberParams, body: jsonRequest(memberBody, 'The role: `viewer` or `editor`.') },
  responses: {
    200: { description: 'The membership.', content: json(memberSchema) },
    ...errors(
      ['invalid_request', 'A malformed body or id, or `userId` is the owner.'],
      'payload_too_large',
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      ['not_found', 'No such report (visible to you), or no such user.'],
      ...SERVER_ERRORS,
    ),
  },
});

const removeMemberRoute = createRoute({
  method: 'delete',
  path: '/{reportId}/members/{userId}',
  operationId: 'removeMember',
  tags: ['Members'],
  summary: 'Stop sharing a report',
  description: "Removes a user's role on the report. Owner only. Their open event streams close at once. Idempotent.",
  security: SECURITY.user,
  request: { params: memberParams },
  responses: {
    204: { description: 'Removed (or was not a member).' },
    ...errors(['invalid_request', 'An id is not a UUID.'], 'unauthorized', ['forbidden', 'You are not the owner.'], 'csrf', 'not_found', ...SERVER_ERRORS),
  },
});

const listMembersRoute = createRoute({
  method: 'get',
  path: '/{reportId}/members',
  operationId: 'listMembers',
  tags: ['Members'],
  summary: 'Who has access',
  description: 'The owner, your role, and the members with their names and emails: every member for the owner, only yourself for anyone else.',
  security: SECURITY.user,
  request: { params: reportParams },
  responses: {
    200: { description: 'The members.', content: json(memberListSchema) },
    ...errors(['invalid_request', '`reportId` is not a UUID.'], 'unauthorized', 'not_found', ...SERVER_ERRORS),
  },
});

const addMemberRoute = createRoute({
  method: 'post',
  path: '/{reportId}/members',
  operationId: 'addMember',
  tags: ['Members'],
  summary: 'Share a report by email',
  description: 'Gives the user with this email (any case) a role on the report. Owner only. Someone who is already a member is 409: change their role with `PUT …/members/{userId}`.',
  security: SECURITY.user,
  middleware: [jsonBody] as const,
  request: { params: reportParams, body: jsonRequest(addMemberBody, 'The email and the role.') },
  responses: {
    201: { description: 'The new member.', content: json(memberDetailSchema) },
    ...errors(
      ['invalid_request', "A malformed body; the email is the owner's or a disabled account's."],
      'payload_too_large',
      'unsupported_media_type',
      'unauthorized',
      ['forbidden', 'You are not the owner.'],
      'csrf',
      ['not_found', 'No such report (visible to you), or no user has this email.'],
      'already_member',
      ...SERVER_ERRORS,
    ),
  },
});

export function memberRoutes(ctx: ChatContext) {
  const app = routesApp();
  app.openapi(listMembersRoute, async (c) => c.json(await listMembers(ctx, c.get('caller'), c.req.valid('param').reportId), 200));
  app.openapi(addMemberRoute, async (c) => {
    const { email, role } = c.req.valid('json');
    return c.json(await addMemberByEmail(ctx, c.get('caller'), { reportId: c.req.valid('param').reportId, email, role }), 201);
  });
  app.openapi(setMemberRoute, async (c) => {
    const { reportId, userId } = c.req.valid('param');
    const { role } = c.req.valid('json');
    return c.json(await setMember(ctx, c.get('caller'), { reportId, userId, role }), 200);
  });
  app.openapi(removeMemberRoute, async (c) => {
    await removeMember(ctx, c.get('caller'), c.req.valid('param'));
    return c.body(null, 204);
  });
  return app;
}
