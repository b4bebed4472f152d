import { Hono, type MiddlewareHandler } from 'hono';
import { createUserWithToken, issueToken, revokeToken } from '../../chat/accounts.js';
import type { ChatContext } from '../../chat/context.js';
import type { AppEnv } from '../env.js';
import { requireAdmin } from '../middleware/auth.js';
import { readJson, uuidParam } from '../request.js';
import { createTokenBody, createUserBody } from '../schemas.js';
import { hashPassword } from '../../chat/passwords.js';

export function accountRoutes(ctx: ChatContext, adminTokenHash: Buffer, requireUser: MiddlewareHandler<AppEnv>) {
  const app = new Hono<AppEnv>();
  app.post('/users', requireAdmin(adminTokenHash), async (c) => {
    const body = await readJson(c, createUserBody);
    const passwordHash = body.password ? await hashPassword(body.password) : undefined;
    return c.json(await createUserWithToken(ctx.sql, { email: body.email, name: body.name, passwordHash }), 201);
  });
  app.get('/me', requireUser, (c) => c.json({ user: c.get('caller') }));
  app.post('/tokens', requireUser, async (c) => {
    const body = await readJson(c, createTokenBody);
    return c.json(await issueToken(ctx.sql, c.get('caller'), body.name ?? null), 201);
  });
  app.delete('/tokens/:tokenId', requireUser, async (c) => {
    await revokeToken(ctx, c.get('caller'), uuidParam(c, 'tokenId'));
    return c.body(null, 204);
  });
  return app;
}
