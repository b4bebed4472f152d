import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { sessionTarget } from '../../src/store/db.js';
import { ReplicatedPostgres } from '../support/replicated-postgres.js';
import { randInt, type Random } from './cluster.js';

/**
 * The database of a `--failover` run: a primary and a standby (synchronous unless `--async`), the instances on
 * the multi-host URL with target_session_attrs=read-write, as in production. No relay: the nodes keep their ports,
 * and finding the primary is the app's job. The harness's own connection finds it the same way.
 */
export class ReplicatedDatabase {
  private admin: postgres.Sql;
  failovers = 0;

  private constructor(
    private readonly cluster: ReplicatedPostgres,
    readonly synchronous: boolean,
  ) {
    this.admin = ReplicatedDatabase.adminClient(cluster.url);
  }

  static async start(root: string, synchronous: boolean): Promise<ReplicatedDatabase> {
    return new ReplicatedDatabase(await ReplicatedPostgres.start(root, { synchronous }), synchronous);
  }

  private static adminClient(url: string): postgres.Sql {
    return postgres(url, { ...sessionTarget(url), max: 2, onnotice: () => {}, connection: { application_name: 'torture-admin' } });
  }

  get url(): string {
    return this.cluster.url;
  }

  get sql(): postgres.Sql {
    return this.admin;
  }

  get description(): string {
    const { primary, standby } = this.cluster;
    return `primary ${primary.name} on port ${primary.port}, ${this.synchronous ? 'synchronous' : 'ASYNCHRONOUS'} standby ${standby.name} on port ${standby.port}`;
  }

  restart(): Promise<void> {
    return Promise.reject(new Error('pg-restart is not a fault of a --failover run (failover is)'));
  }

  /**
   * SIGKILL of the primary's machine mid-run; no primary for a moment (what a failover manager's detection takes);
   * the standby promoted; then, a little later, the old primary rebuilt from a base backup as the new standby.
   * Returns what happened, for the history.
   */
  async failover(random: Random): Promise<string> {
    const from = this.cluster.primary.name;
    await this.cluster.killPrimary();
    const downMs = randInt(random, 300, 2_000);
    await sleep(downMs);
    await this.cluster.promote();
    this.failovers++;
    const standaloneMs = randInt(random, 500, 3_000);
    await sleep(standaloneMs);
    const started = Date.now();
    await this.cluster.rebuildStandby();
    return `SIGKILL ${from}; ${this.cluster.primary.name} promoted after ${downMs} ms; ${from} rebuilt as its standby ${standaloneMs} ms later (took ${Date.now() - started} ms)`;
  }

  async stop(): Promise<void> {
    await this.admin.end({ timeout: 2 }).catch(() => {});
    await this.cluster.stop();
  }
}
