import type { Caller, ChatContext, Credential } from '../chat/context.js';

/** Hono's typed context: what middleware puts on a request. */
export interface AppEnv {
  Variables: {
    caller: Caller;
    /** What authenticated the caller: kept apart from `caller`, which /api/me returns as it is. */
    credential: Credential;
    requestId: string;
  };
}

export interface HttpOptions {
  ctx: ChatContext;
  /** SHA-256 of the admin token: it may only call POST /api/users. */
  adminTokenHash: Buffer;
}
