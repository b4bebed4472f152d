import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Sql } from '../store/db.js';
import type { AccessWatch } from './access-watch.js';
import type { EventBus } from './bus.js';
import type { CredentialCache } from './credential-cache.js';
import type { TurnEngine } from './turn-engine.js';

/** What every domain operation needs: built once per process by src/server.ts (or by a test). */
export interface ChatContext {
  config: Config;
  sql: Sql;
  bus: EventBus;
  engine: TurnEngine;
  instanceId: string;
  log: Logger;
  metrics: Metrics;
  /** Re-checks the access of this instance's open events streams, all of them in one statement. */
  access: AccessWatch;
  /** Who a token or session cookie belongs to, remembered for a few seconds (src/chat/credential-cache.ts). */
  credentials: CredentialCache;
}

export interface Caller {
  id: string;
  /** Null for a user known only by a JWT without an email. */
  email: string | null;
  name: string | null;
}

/**
 * What authenticated a request. An events stream lasts only as long as the credential that opened it: a token until
 * it is revoked, a session until it is signed out or expires, a JWT until its `exp`.
 */
export type Credential =
  | { kind: 'token'; id: string }
  | { kind: 'session'; id: string; expiresAt: Date }
  | { kind: 'jwt'; expiresAt: Date };

export interface Authenticated {
  caller: Caller;
  credential: Credential;
}
