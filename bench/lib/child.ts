import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FromChild, ToChild, Usage } from '../servers/protocol.js';
import { nowMs } from './stats.js';

export interface ServerProcess {
  url: string;
  pid: number;
  usage(gc?: boolean): Promise<Usage>;
  /** The child's clock minus ours (ms), from the IPC round trip with the smallest delay. */
  clockOffset(): Promise<number>;
  /** One request at a time; the reply must come within `timeoutMs` (default 30 s). */
  request<T extends FromChild['type']>(message: ToChild, reply: T, timeoutMs?: number): Promise<Extract<FromChild, { type: T }>>;
  close(): Promise<void>;
}

const SERVERS_DIR = fileURLToPath(new URL('../servers/', import.meta.url));

function tail(file: string, bytes = 3_000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `bench/servers/<script>.ts` in a Node process of its own (through tsx, as `npm start` runs the app), its
 * output appended to `logFile`. Resolves when it listens (the stream client, which serves nothing, when it is ready).
 */
export async function startServerProcess(
  script: 'ours' | 'baseline' | 'paced-model' | 'stream-client',
  env: Record<string, string>,
  options: { logFile: string; nodeArgs?: string[] },
): Promise<ServerProcess> {
  const out = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--expose-gc', '--import', 'tsx', `${SERVERS_DIR}${script}.ts`], {
      env: { ...process.env, BENCH_SERVER_ENV: JSON.stringify(env) },
      stdio: ['ignore', out, out, 'ipc'],
    });
  } finally {
    closeSync(out);
  }
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const next = <T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: FromChild) => {
        if (message.type === 'failed') finish(() => reject(new Error(`${script} server failed: ${message.error}`)));
        else if (message.type === type) finish(() => resolve(message as Extract<FromChild, { type: T }>));
      };
      const onExit = (code: number | null) => finish(() => reject(new Error(`${script} server exited (code ${code}); see ${options.logFile}`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`${script} server: no "${type}" within ${timeoutMs} ms`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        settle();
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });

  let ready: Extract<FromChild, { type: 'ready' }>;
  try {
    ready = await next('ready', 90_000);
  } catch (err) {
    if (!exited) child.kill('SIGKILL');
    // The scratch folder goes with the run: say here what the server said.
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- ${options.logFile} (end) ---\n${tail(options.logFile)}`, { cause: err });
  }
  // One request at a time, so each reply is paired with its request.
  let chain: Promise<unknown> = Promise.resolve();
  const request = <T extends FromChild['type']>(message: ToChild, reply: T, timeoutMs = 30_000): Promise<Extract<FromChild, { type: T }>> => {
    const result = chain.then(() => {
      const answer = next(reply, timeoutMs);
      child.send(message);
      return answer;
    });
    chain = result.catch(() => {});
    return result;
  };

  return {
    url: ready.url,
    pid: ready.pid,
    request,
    usage: async (gc = false) => (await request({ type: 'usage', gc }, 'usage')).usage,
    async clockOffset() {
      let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
      for (let i = 0; i < 15; i++) {
        const t0 = nowMs();
        const { at } = await request({ type: 'clock' }, 'clock');
        const t1 = nowMs();
        if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: at - (t0 + t1) / 2 };
      }
      return best.offset;
    },
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
