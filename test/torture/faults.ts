import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultKind, FaultOp } from './checker.js';
import { pick, randInt, type Database, type Instance } from './cluster.js';
import { ReplicatedDatabase } from './replicated.js';
import type { World } from './tabs.js';

export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'terminate-backend', 'pg-restart', 'graceful-restart'];
/** Only on a replicated database (`--failover`), so not among the kinds of `all`. */
export const FAILOVER: FaultKind = 'failover';

/** The run's database: one server behind a relay, or a primary and a standby (`--failover`). */
export type TortureDatabase = Database | ReplicatedDatabase;

export interface FaultPlan {
  kinds: readonly FaultKind[];
  /** ms since the run began */
  firstAt: number;
  minGapMs: number;
  maxGapMs: number;
  /** No fault starts after this (ms since the run began). */
  lastStartAt: number;
  leaseMs: number;
}

export interface FaultResults {
  /** Graceful restarts whose process did not exit 0. */
  badExits: string[];
  errors: string[];
}

/**
 * Injects faults one at a time until `lastStartAt`: first one of every kind (in a random order), then any kind,
 * connection kills most often. Never takes the last running instance away.
 */
export async function runFaults(world: World, db: TortureDatabase, plan: FaultPlan, results: FaultResults): Promise<void> {
  const { rec, random } = world;
  if (plan.kinds.length === 0) return;
  const first = [...plan.kinds].sort(() => random() - 0.5);
  const weighted = plan.kinds.flatMap((k) => (k === 'terminate-backend' ? [k, k, k] : k === 'pg-restart' ? [k] : [k, k]));
  await sleepUntil(world, plan.firstAt);
  for (let i = 0; rec.now() < plan.lastStartAt && !world.stopping; i++) {
    const kind = i < first.length ? first[i]! : pick(random, weighted);
    const op: FaultOp = { type: 'fault', op: rec.opId(), kind, target: '', start: rec.now(), end: 0 };
    try {
      await inject(world, db, kind, op, plan, results);
    } catch (err) {
      results.errors.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
      op.detail = `failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    op.end = rec.now();
    if (op.target) rec.add(op);
    await sleepUntil(world, rec.now() + randInt(random, plan.minGapMs, plan.maxGapMs));
  }
}

async function sleepUntil(world: World, at: number): Promise<void> {
  while (world.rec.now() < at && !world.stopping) await sleep(Math.min(250, at - world.rec.now()));
}

/** An instance that can be taken away while another keeps serving. */
function victim(world: World): Instance | undefined {
  const up = world.instances.filter((i) => i.state === 'up');
  return up.length >= 2 ? pick(world.random, up) : undefined;
}

async function inject(world: World, db: TortureDatabase, kind: FaultKind, op: FaultOp, plan: FaultPlan, results: FaultResults): Promise<void> {
  const { random } = world;
  switch (kind) {
    case 'kill': {
      const inst = victim(world);
      if (!inst) return;
      op.target = inst.name;
      await inst.kill();
      const downMs = randInt(random, 500, 3_000);
      op.detail = `SIGKILL; restarted after ${downMs} ms`;
      await sleep(downMs);
      await inst.start();
      return;
    }
    case 'pause': {
      const inst = victim(world);
      if (!inst) return;
      op.target = inst.name;
      // Half of them longer than the lease: its answers are swept while it sleeps, and it must notice on waking.
      const pausedMs = random() < 0.5 ? randInt(random, 500, plan.leaseMs - 500) : randInt(random, plan.leaseMs + 500, plan.leaseMs * 2 + 1_000);
      op.detail = `SIGSTOP for ${pausedMs} ms, then SIGCONT`;
      inst.pause();
      await sleep(pausedMs);
      inst.resume();
      return;
    }
    case 'terminate-backend': {
      const rows = await db.sql<{ pid: number; applicationName: string }[]>`
        SELECT pid, application_name AS "applicationName" FROM pg_stat_activity
        WHERE application_name LIKE 'report-chat%' AND pid <> pg_backend_pid()`;
      if (rows.length === 0) return;
      const chosen = [...rows].sort(() => random() - 0.5).slice(0, randInt(random, 1, Math.min(4, rows.length)));
      for (const row of chosen) await db.sql`SELECT pg_terminate_backend(${row.pid})`;
      op.target = `${chosen.length} of ${rows.length} connections`;
      op.detail = chosen.map((r) => r.applicationName).join(', ');
      return;
    }
    case 'pg-restart': {
      const downMs = randInt(random, 300, 2_000);
      op.target = 'postgresql';
      op.detail = `down for ${downMs} ms`;
      await db.restart(downMs);
      return;
    }
    case 'graceful-restart': {
      const inst = victim(world);
      if (!inst) return;
      op.target = inst.name;
      const exit = await inst.terminate();
      op.detail = `SIGTERM: exit ${String(exit)}`;
      if (exit !== 0) results.badExits.push(`${inst.name}: SIGTERM during the run ended it with ${String(exit)}`);
      await sleep(randInt(random, 200, 1_500));
      await inst.start();
      return;
    }
    case 'failover': {
      if (!(db instanceof ReplicatedDatabase)) throw new Error('failover needs --failover (a primary and a standby)');
      op.target = 'primary';
      op.detail = await db.failover(random);
      return;
    }
  }
}
