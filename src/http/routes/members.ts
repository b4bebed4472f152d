import { Hono } from 'hono';
import type { ChatContext } from '../../chat/context.js';
import { removeMember, setMember } from '../../chat/members.js';
import type { AppEnv } from '../env.js';
import { readJson, uuidParam } from '../request.js';
import { memberBody } from '../schemas.js';

export function memberRoutes(ctx: ChatContext) {
  const app = new Hono<AppEnv>();
  app.put('/:reportId/members/:userId', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const userId = uuidParam(c, 'userId');
    const { role } = await readJson(c, memberBody);
    return c.json(await setMember(ctx, c.get('caller'), { reportId, userId, role }));
  });
  app.delete('/:reportId/members/:userId', async (c) => {
    await removeMember(ctx, c.get('caller'), { reportId: uuidParam(c, 'reportId'), userId: uuidParam(c, 'userId') });
    return c.body(null, 204);
  });
  return app;
}
