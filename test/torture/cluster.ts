import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded-postgres.js';
import type { FakeBehavior } from '../fakes/fake-behavior.js';

export type Random = () => number;

/** A small seeded generator (mulberry32): the run's choices repeat with the seed; its timings do not. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const randInt = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/**
 * The PostgreSQL of the run: embedded (so the harness can restart it), behind a relay on a fixed port (a restart
 * picks a new port), plus a superuser connection for fault injection and the final reads.
 */
export class Database {
  private embedded: EmbeddedDatabase | undefined;
  private admin: postgres.Sql | undefined;
  private constructor(
    private readonly dataDir: string,
    private readonly proxy: ChildProcess,
    readonly proxyPort: number,
  ) {}

  static async start(dataDir: string, repoRoot: string): Promise<Database> {
    const proxy = fork(join(repoRoot, 'test/torture/db-proxy.ts'), [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const proxyPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the database relay did not start')), 30_000);
      proxy.once('message', (m: { listening?: number }) => {
        clearTimeout(timer);
        resolve(m.listening ?? 0);
      });
      proxy.once('exit', () => reject(new Error('the database relay exited')));
    });
    const db = new Database(dataDir, proxy, proxyPort);
    await db.startServer();
    return db;
  }

  get description(): string {
    return `relay on port ${this.proxyPort}`;
  }

  /** What the instances use: the relay's fixed port. */
  get url(): string {
    const u = new URL(this.embedded!.url);
    u.port = String(this.proxyPort);
    return u.toString();
  }

  get sql(): postgres.Sql {
    if (!this.admin) throw new Error('the database is not running');
    return this.admin;
  }

  private async startServer(): Promise<void> {
    this.embedded = await startEmbeddedPostgres(this.dataDir);
    this.admin = postgres(this.embedded.url, { max: 2, onnotice: () => {}, connection: { application_name: 'torture-admin' } });
    await this.setUpstream(this.embedded.port);
  }

  private async setUpstream(port: number | null): Promise<void> {
    const acknowledged = new Promise<void>((resolve) => {
      const onMessage = (m: { upstream?: number | null }) => {
        if ('upstream' in m && m.upstream === port) {
          this.proxy.off('message', onMessage);
          resolve();
        }
      };
      this.proxy.on('message', onMessage);
    });
    this.proxy.send({ upstream: port });
    await Promise.race([acknowledged, sleep(5_000)]);
  }

  /** A restart: the server stops (a fast shutdown: every connection drops), stays down a moment, starts again. */
  async restart(downMs: number): Promise<void> {
    await this.setUpstream(null);
    await this.admin?.end({ timeout: 1 }).catch(() => {});
    this.admin = undefined;
    await this.stopServer();
    await sleep(downMs);
    await this.startServer();
  }

  /** Bounded: embedded-postgres's stop() never resolves when its server already exited (a Ctrl+C reached it). */
  private async stopServer(): Promise<void> {
    await Promise.race([this.embedded?.stop().catch(() => {}), sleep(10_000)]);
  }

  async stop(): Promise<void> {
    await this.admin?.end({ timeout: 2 }).catch(() => {});
    this.admin = undefined;
    await this.stopServer();
    this.embedded = undefined;
    if (this.proxy.exitCode === null) {
      const exited = new Promise((r) => this.proxy.once('exit', r));
      this.proxy.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
    }
  }
}

export type InstanceState = 'down' | 'starting' | 'up' | 'paused' | 'stopping';

/** One `report-chat serve` process. */
export class Instance {
  state: InstanceState = 'down';
  private proc: ChildProcess | undefined;
  private readonly log: WriteStream;
  /** Exits nobody asked for (a crash), with their code or signal. */
  readonly crashes: string[] = [];
  starts = 0;
  private closing = false;
  /** The last start's process said its port was taken. */
  private portTaken = false;

  constructor(
    readonly index: number,
    public port: number,
    private readonly env: Record<string, string>,
    logFile: string,
    private readonly repoRoot: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The first start, before any proxy knows the port: a port taken between choosing it and binding it (by another
   * process's outgoing connection, from the same ephemeral range) is chosen again, and that exit is no crash.
   */
  async startFirst(choosePort: () => Promise<number>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const crashes = this.crashes.length;
      try {
        return await this.start();
      } catch (err) {
        if (attempt >= 3 || !this.portTaken) throw err;
        this.crashes.length = crashes;
        this.port = await choosePort();
      }
    }
  }

  get name(): string {
    return `instance ${this.index}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /**
   * Runs src/cli.ts in node with tsx's loader (`node --import tsx`, what `tsx src/cli.ts serve` runs): one process,
   * so SIGKILL and SIGSTOP reach the server itself, not a tsx wrapper that would leave its child behind.
   */
  async start(): Promise<void> {
    if (this.closing) throw new Error(`${this.name} is retired`);
    this.state = 'starting';
    this.starts++;
    this.log.write(`\n==== start ${this.starts} at ${new Date().toISOString()}\n`);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: this.repoRoot,
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.portTaken = false;
    proc.stdout?.pipe(this.log, { end: false });
    proc.stderr?.pipe(this.log, { end: false });
    proc.stderr?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('is already in use')) this.portTaken = true;
    });
    proc.once('exit', (code, signal) => {
      if (this.proc !== proc) return;
      const expected = this.state === 'stopping';
      this.state = 'down';
      if (expected || this.closing) return;
      // A crash is a finding (it is reported); the run goes on with the instance restarted, as a supervisor would.
      this.crashes.push(`exited with ${signal ?? `code ${code}`} at ${new Date().toISOString()}`);
      setTimeout(() => {
        if (this.state === 'down' && !this.closing) this.start().catch((err: unknown) => this.crashes.push(`could not restart: ${String(err)}`));
      }, 1_000);
    });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (this.proc !== proc || proc.exitCode !== null) throw new Error(`${this.name} exited while starting`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) {
          this.state = 'up';
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.name} did not become ready`);
  }

  private async signalAndWait(signal: NodeJS.Signals, timeoutMs: number): Promise<number | string | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return null;
    this.state = 'stopping';
    const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig)));
    proc.kill(signal);
    const result = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
    if (result === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
    }
    this.state = 'down';
    return result;
  }

  /** SIGKILL: the process dies at once, mid-answer, its leases left to expire. */
  kill(): Promise<number | string | null> {
    return this.signalAndWait('SIGKILL', 10_000);
  }

  /** SIGTERM: graceful shutdown; resolves with the exit code (0 expected). */
  terminate(): Promise<number | string | null> {
    if (this.state === 'paused') this.resume();
    // Longer than the server's own limit (60 s), so a hang shows as its exit code 1, not as our timeout.
    return this.signalAndWait('SIGTERM', 75_000);
  }

  pause(): void {
    if (this.proc && this.state === 'up') {
      this.proc.kill('SIGSTOP');
      this.state = 'paused';
    }
  }

  resume(): void {
    if (this.proc && this.state === 'paused') {
      this.proc.kill('SIGCONT');
      this.state = 'up';
    }
  }

  /** No more restarts after a crash (the run is ending). */
  retire(): void {
    this.closing = true;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.kill();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/**
 * The fake model's behaviour, drawn afresh for each request: test/fakes reads these fields as it plays an answer
 * (`chunks` once, the delays and the failure point at every chunk), so getters give every answer its own length,
 * pace and fate: 5 to 50 chunks (some with characters outside the BMP, so offsets count UTF-16 units), 0 to 40 ms
 * apart, about one answer in nine failing mid-stream and one in a hundred refused with a 500.
 */
export function randomModelBehavior(random: Random): FakeBehavior {
  const words = ['the ', 'cache ', 'was ', 'cold; ', 'retries ', 'piled ', 'up ', 'café ', 'naïve ', 'über ', '🚀 ', '𝛑 ', 'done. '];
  return {
    get chunks() {
      return Array.from({ length: randInt(random, 5, 50) }, (_, i) => (i === 0 ? 'Answer: ' : pick(random, words)));
    },
    get chunkDelayMs() {
      return randInt(random, 0, 40);
    },
    get firstChunkDelayMs() {
      return randInt(random, 0, 150);
    },
    // Read once per chunk and compared with the chunk's index.
    get failAfterChunks() {
      return randInt(random, 0, 230);
    },
    // Read once per request by the fake.
    get httpStatus() {
      return random() < 0.01 ? 500 : undefined;
    },
  };
}
