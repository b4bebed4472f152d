import { connect, createServer, type Server, type Socket } from 'node:net';

export type RelayMode =
  /** Relay everything. */
  | 'pass'
  /** Refuse new connections (accept and close at once), as a database that is down. */
  | 'refuse'
  /**
   * Relay until a client sends a statement containing `commitMarker` (a COMMIT, or an autocommitted call): pass it on
   * to the server, cut the client off before any answer comes back, drop every other connection, and refuse from then
   * on. The server commits; the client cannot know it.
   */
  | 'cut-after-commit';

export interface TcpRelay {
  port: number;
  mode: RelayMode;
  /** What `cut-after-commit` waits for in the client's bytes: `commit` (the end of sql.begin) unless set. */
  commitMarker: string;
  /** True once a COMMIT was relayed and its client cut off in `cut-after-commit` mode. */
  readonly cut: boolean;
  close(): Promise<void>;
}

// The frontend's Sync message: 'S' and a length of 4.
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** A TCP relay on 127.0.0.1 in front of a PostgreSQL server, for faults no real network produces on demand. */
export async function startTcpRelay(upstreamPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let cut = false;
  const relay: TcpRelay = {
    port: 0,
    mode: 'pass',
    commitMarker: 'commit',
    get cut() {
      return cut;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (relay.mode === 'refuse') {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', () => client.destroy());
    let armed = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      // postgres.js sends the statement `commit` as it ends a transaction (sql.begin). An autocommitted statement
      // commits once the server reaches the Sync after its Execute, which may come in a later chunk than its text
      // (postgres.js describes a statement before it binds it).
      if (relay.mode === 'cut-after-commit' && chunk.includes(relay.commitMarker)) armed = true;
      if (armed && relay.mode === 'cut-after-commit' && chunk.includes(SYNC)) {
        cut = true;
        relay.mode = 'refuse';
        // Every other connection goes too, as when the database host drops off the network.
        for (const s of sockets) if (s !== client && s !== upstream) s.destroy();
        client.destroy();
        // The server side stays open a moment so that PostgreSQL reads and runs the statement before it sees the
        // connection end.
        setTimeout(() => upstream.destroy(), 500).unref();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  relay.port = typeof address === 'object' && address ? address.port : 0;
  return relay;
}
