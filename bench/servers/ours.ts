import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { nowMs } from '../lib/stats.js';
import { createProfiler } from './profiler.js';
import { collectGarbage, eventKey, usage, type FromChild, type Published, type ToChild } from './protocol.js';

/**
 * The real app in a process of its own, started the way `npm start` starts it (src/server.ts startServer), with
 * its configuration from BENCH_SERVER_ENV. The bench talks to it over HTTP, and over IPC for its CPU, memory,
 * clock and bus publish times.
 */
const send = (message: FromChild) => process.send?.(message);

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
  const config = loadConfig(env);
  // The production default: one JSON line per request on stderr (the bench sends it to a file).
  const log = createLogger({ level: env.LOG_LEVEL ?? 'info', pretty: false });
  const server: RunningServer = await startServer({ config, log, graceMs: 2_000 });
  const published: Published[] = [];
  const watches: (() => void)[] = [];
  const profiler = createProfiler();
  const reply = (work: Promise<void>, done: FromChild) =>
    work.then(
      () => send(done),
      (err: unknown) => send({ type: 'failed', error: String(err) }),
    );

  // A bench that dies (or hits its deadline) takes this process with it.
  process.once('disconnect', () => process.exit(1));
  process.on('message', (raw: ToChild) => {
    switch (raw.type) {
      case 'usage':
        if (raw.gc) collectGarbage();
        send({ type: 'usage', usage: usage() });
        break;
      case 'clock':
        send({ type: 'clock', at: nowMs() });
        break;
      case 'watch':
        {
          // The bus calls listeners in subscription order: the first one notes publication, the last one the end
          // of the synchronous delivery to every stream of this instance.
          const prefix = raw.position === 'last' ? 'last:' : '';
          watches.push(
            server.ctx.bus.subscribe(raw.conversationId, (event) => {
              const at = nowMs();
              if (event.type === 'message') published.push({ key: prefix + eventKey({ kind: 'message', id: event.message.id, status: event.message.status }), at });
              else if (event.type === 'delta') published.push({ key: prefix + eventKey({ kind: 'delta', id: event.messageId, offset: event.offset }), at });
            }),
          );
        }
        send({ type: 'watching' });
        break;
      case 'published':
        send({ type: 'published', events: published.splice(0) });
        break;
      case 'profile-start':
        void reply(profiler.start(), { type: 'profiling' });
        break;
      case 'profile-stop':
        void reply(profiler.stop(raw.file), { type: 'profiling' });
        break;
      case 'heap-profile-start':
        void reply(profiler.startHeap(), { type: 'profiling' });
        break;
      case 'heap-profile-stop':
        void reply(profiler.stopHeap(raw.file), { type: 'profiling' });
        break;
      case 'close':
        for (const unwatch of watches) unwatch();
        server
          .close()
          .then(() => {
            send({ type: 'closed' });
            // A normal exit, so that --cpu-prof writes its profile.
            setTimeout(() => process.exit(0), 50);
          })
          .catch((err: unknown) => {
            send({ type: 'failed', error: String(err) });
            process.exit(1);
          });
        break;
    }
  });
  send({ type: 'ready', url: server.url, pid: process.pid });
}

main().catch((err: unknown) => {
  send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
