import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/store/embedded-postgres.js';

export type ProxyKind = 'nginx' | 'haproxy';
export const PROXY_KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];

export interface RunningProxy {
  kind: ProxyKind;
  /** Where clients go: https (HTTP/2 and HTTP/1.1) for nginx, http for HAProxy. */
  url: string;
  /** The self-signed certificate nginx serves (PEM), for clients that should trust it. */
  certificate?: string;
  stop(): Promise<void>;
}

const DEPLOY = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy');
const BINARIES: Record<ProxyKind, string> = { nginx: '/usr/sbin/nginx', haproxy: '/usr/sbin/haproxy' };

/**
 * Starts nginx or HAProxy with the configuration in deploy/ (its {{…}} placeholders filled in) in front of the
 * instances on `backendPorts`, as a foreground process with its files in a temp folder, on a free loopback port.
 * stop() ends it and removes the folder; so does a failed start.
 */
export async function startProxy(kind: ProxyKind, backendPorts: number[]): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), `report-chat-${kind}-`));
  // Ours: opened so that nginx's workers (nobody, when we are root) reach their temp folders in it.
  chmodSync(dir, 0o755);
  let child: ChildProcess | undefined;
  let exited = false;
  let exit: Promise<void> = Promise.resolve();
  const stop = async () => {
    if (child && !exited) {
      child.kill('SIGTERM');
      await Promise.race([exit, sleep(5_000)]);
      if (!exited) child.kill('SIGKILL');
      await exit;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    let certificate: string | undefined;
    const fill = (template: string, values: Record<string, string>) =>
      template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`deploy/${kind}: no value for {{${name}}}`);
        return value;
      });
    let args: string[];
    if (kind === 'nginx') {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      makeSelfSignedCertificate(cert, key);
      certificate = readFileSync(cert, 'utf8');
      const backends = backendPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n    ');
      const config = fill(readFileSync(join(DEPLOY, 'nginx.conf'), 'utf8'), { RUN_DIR: dir, LISTEN: listen, CERT: cert, KEY: key, BACKENDS: backends });
      writeFileSync(join(dir, 'nginx.conf'), config);
      // In the foreground, so that it stays our child and ends with us.
      args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'];
    } else {
      const backends = backendPorts.map((p, i) => `server i${i} 127.0.0.1:${p} check`).join('\n  ');
      writeFileSync(join(dir, 'haproxy.cfg'), fill(readFileSync(join(DEPLOY, 'haproxy.cfg'), 'utf8'), { LISTEN: listen, BACKENDS: backends }));
      args = ['-db', '-f', join(dir, 'haproxy.cfg')];
    }
    const check = spawnSync(BINARIES[kind], kind === 'nginx' ? [...args, '-t'] : ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`${kind} refused its configuration:\n${check.stderr}${check.stdout}`);
    let stderr = '';
    child = spawn(BINARIES[kind], args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
    exit = new Promise<void>((done) => child!.once('exit', () => ((exited = true), done())));
    await waitForPort(port, 10_000, () => exited).catch((err: Error) => {
      throw new Error(`${kind} did not start: ${err.message}\n${stderr}`);
    });
    return { kind, url: kind === 'nginx' ? `https://${listen}` : `http://${listen}`, certificate, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this run only. */
function makeSelfSignedCertificate(certFile: string, keyFile: string): void {
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.stderr}`);
}

async function waitForPort(port: number, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error('it exited');
    const open = await new Promise<boolean>((done) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), done(true)));
      socket.once('error', () => done(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}
