import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Sql } from '../store/db.js';
import type { AccessWatch } from './access-watch.js';
import type { EventBus } from './bus.js';
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
}

export interface Caller {
  id: string;
  email: string;
  name: string | null;
}
