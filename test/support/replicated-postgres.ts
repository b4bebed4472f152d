import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { freePort } from '../../src/store/embedded-postgres.js';

/**
 * A primary and a streaming standby from the PostgreSQL 15 binaries on the machine, on loopback ports picked free,
 * in a folder of the caller's: the topology of a production failover, started by the test itself.
 *
 * With `synchronous`, each node names the other in `synchronous_standby_names` (and `synchronous_commit = on`):
 * a commit is acknowledged only once the standby has flushed it, so whichever node is promoted holds every
 * acknowledged commit. A promoted node keeps naming the old primary, so its commits wait until that one is rebuilt
 * as its standby: no acknowledged commit ever lives on one node alone. Without it, replication is asynchronous.
 *
 * Nodes keep their port for life, so one multi-host URL (`url`) reaches whichever is primary; the failover steps
 * (`killPrimary`, `promote`, `rebuildStandby`) are separate so a test can act between them.
 */
export interface ReplicatedOptions {
  synchronous: boolean;
  binDir?: string;
  /** Extra server settings for both nodes. */
  settings?: Record<string, string>;
}

const BIN_DIR = '/usr/lib/postgresql/15/bin';
const USER = 'postgres';

interface PgNode {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  proc: ChildProcess | undefined;
}

export class ReplicatedPostgres {
  private primaryIndex = 0;
  private readonly log: WriteStream;
  private stopped = false;

  private constructor(
    private readonly root: string,
    private readonly nodes: [PgNode, PgNode],
    private readonly options: ReplicatedOptions,
    private readonly ids: { uid: number; gid: number } | undefined,
  ) {
    this.log = createWriteStream(join(root, 'postgres.log'), { flags: 'a' });
  }

  /** `root`'s parent must be reachable by the postgres user (when we are root); `root` is made if missing. */
  static async start(root: string, options: ReplicatedOptions): Promise<ReplicatedPostgres> {
    if (!existsSync(root)) {
      mkdirSync(root);
      // Ours, so opened to traversal: the servers, run as `postgres`, reach their folders below it.
      chmodSync(root, 0o755);
    }
    const ids = process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : undefined;
    const nodes: [PgNode, PgNode] = [
      { name: 'node_a', port: await freePort(), dir: join(root, 'node_a'), proc: undefined },
      { name: 'node_b', port: await freePort(), dir: join(root, 'node_b'), proc: undefined },
    ];
    const cluster = new ReplicatedPostgres(root, nodes, options, ids);
    try {
      const [first, second] = nodes;
      cluster.ownedDir(first.dir);
      await cluster.run('initdb', ['-D', first.dir, '-U', USER, '--auth=trust', '--encoding=UTF8', '--locale=C']);
      await cluster.startNode(first);
      await cluster.rebuildNode(second, first);
      await cluster.waitForStandby();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  get primary(): { name: string; port: number } {
    return this.nodes[this.primaryIndex]!;
  }

  get standby(): { name: string; port: number } {
    return this.nodes[1 - this.primaryIndex]!;
  }

  /** Both nodes, the app's way: whichever accepts writes. */
  get url(): string {
    return `postgres://${USER}@${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/postgres?target_session_attrs=read-write`;
  }

  nodeUrl(node: { port: number }): string {
    return `postgres://${USER}@127.0.0.1:${node.port}/postgres`;
  }

  /** The machine dies: SIGKILL to the primary's postmaster and all its processes at once. */
  async killPrimary(): Promise<void> {
    const node = this.nodes[this.primaryIndex]!;
    await killGroup(node);
  }

  /** The standby becomes the primary (pg_promote, waiting until it accepts writes). */
  async promote(): Promise<void> {
    const node = this.nodes[1 - this.primaryIndex]!;
    const sql = postgres(this.nodeUrl(node), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      await sql`SELECT pg_promote(true, 30)`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    this.primaryIndex = 1 - this.primaryIndex;
  }

  /**
   * The old primary comes back as the new primary's standby, from a fresh base backup (what a replacement machine
   * does; pg_rewind would need wal_log_hints). Resolves once it streams (and, when synchronous, is the sync standby).
   */
  async rebuildStandby(): Promise<void> {
    const old = this.nodes[1 - this.primaryIndex]!;
    await killGroup(old);
    await this.rebuildNode(old, this.nodes[this.primaryIndex]!);
    await this.waitForStandby();
  }

  /** Until the standby streams from the primary (in sync state when synchronous). */
  async waitForStandby(timeoutMs = 60_000): Promise<void> {
    const sql = postgres(this.nodeUrl(this.primary), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await sql<{ state: string; syncState: string }[]>`
          SELECT state, sync_state AS "syncState" FROM pg_stat_replication WHERE application_name = ${this.standby.name}`;
        const row = rows[0];
        if (row?.state === 'streaming' && (!this.options.synchronous || row.syncState === 'sync')) return;
        if (Date.now() > deadline) throw new Error(`the standby ${this.standby.name} did not stream within ${timeoutMs} ms`);
        await sleep(100);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.nodes.map((n) => killGroup(n)));
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private async rebuildNode(node: PgNode, from: PgNode): Promise<void> {
    rmSync(node.dir, { recursive: true, force: true });
    this.ownedDir(node.dir);
    await this.run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(from.port), '-U', USER, '-D', node.dir, '-R', '-X', 'stream', '-c', 'fast']);
    chmodSync(node.dir, 0o700);
    await this.startNode(node);
  }

  private async startNode(node: PgNode): Promise<void> {
    if (this.stopped) throw new Error('the cluster is stopped');
    const other = this.nodes.find((n) => n !== node)!;
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      max_connections: '200',
      // The walreceiver's application_name, which synchronous_standby_names matches.
      cluster_name: node.name,
      synchronous_commit: 'on',
      synchronous_standby_names: this.options.synchronous ? other.name : '',
      max_wal_senders: '5',
      wal_keep_size: '256MB',
      ...this.options.settings,
    };
    const args = ['-D', node.dir, '-p', String(node.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const proc = spawn(join(this.options.binDir ?? BIN_DIR, 'postgres'), args, {
      ...this.ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    node.proc = proc;
    // Whatever happens to us, the servers go too.
    const killOnExit = () => void killGroupNow(proc);
    process.on('exit', killOnExit);
    proc.once('exit', () => process.removeListener('exit', killOnExit));
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`${node.name} did not start within 60 s`)), 60_000);
      proc.stderr!.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.log.write(text.replace(/^/gm, `${node.name} `));
        output += text;
        if (/database system is ready to accept (read-only )?connections/.test(output)) {
          clearTimeout(timer);
          resolve();
          output = '';
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${node.name} exited during start (${signal ?? `code ${code}`}); see ${join(this.root, 'postgres.log')}`));
      });
    });
  }

  private ownedDir(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.ids) chownSync(dir, this.ids.uid, this.ids.gid);
  }

  private run(binary: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.options.binDir ?? BIN_DIR, binary), args, {
        ...this.ids,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
      });
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} failed (code ${code}): ${output.trim().slice(-500)}`))));
    });
  }
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
}

/**
 * The machine dies: SIGKILL to the postmaster and every child of it at once. Not to its process group: each
 * backend puts itself in a group of its own (setsid), and a backend outliving its postmaster keeps serving its
 * connection for a while.
 */
function killGroupNow(proc: ChildProcess): boolean {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return false;
  const pids = [proc.pid, ...childrenOf(proc.pid)];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return true;
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 4th field, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function killGroup(node: PgNode): Promise<void> {
  const proc = node.proc;
  node.proc = undefined;
  if (!proc || !killGroupNow(proc)) return;
  await new Promise((resolve) => proc.once('exit', resolve));
  // Backends die with the group, but the postmaster's exit can come first: wait until the port is free again.
  for (let i = 0; i < 50 && (await portTaken(node.port)); i++) await sleep(100);
}

async function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
