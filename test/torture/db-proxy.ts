import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP relay on a fixed loopback port in front of PostgreSQL, run as its own process by the torture harness.
 * startEmbeddedPostgres picks a new free port at every start; the instances keep one DATABASE_URL, so a database
 * restart looks to them as it would in production: connections drop, new ones are refused for a moment, then work.
 *
 * IPC from the parent: `{ upstream: <port> | null }` (null: refuse new connections and drop the current ones).
 * To the parent: `{ listening: <port> }` once, then `{ upstream: <port> | null }` after each change.
 */
let upstream: number | null = null;
const pairs = new Set<[Socket, Socket]>();

const server = createServer((client) => {
  client.setNoDelay(true);
  if (upstream === null) {
    client.destroy();
    return;
  }
  const server = connect({ host: '127.0.0.1', port: upstream });
  server.setNoDelay(true);
  const pair: [Socket, Socket] = [client, server];
  pairs.add(pair);
  const close = () => {
    pairs.delete(pair);
    client.destroy();
    server.destroy();
  };
  client.on('error', close).on('close', close);
  server.on('error', close).on('close', close);
  client.pipe(server);
  server.pipe(client);
});

server.listen(Number(process.env.PROXY_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ listening: typeof address === 'object' && address ? address.port : 0 });
});

process.on('message', (message: { upstream?: number | null }) => {
  if (!('upstream' in message)) return;
  upstream = message.upstream ?? null;
  if (upstream === null) {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
  }
  process.send?.({ upstream });
});

// The parent going away (even killed) ends the relay.
process.on('disconnect', () => process.exit(0));
