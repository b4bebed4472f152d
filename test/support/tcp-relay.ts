import { connect, createServer, type Server, type Socket } from 'node:net';

export type RelayMode =
  /** Relay everything. */
  | 'pass'
  /** Refuse new connections (accept and close at once), as a database that is down. */
  | 'refuse'
  /**
   * Relay until a statement containing `commitMarker` commits on a client's connection: pass that commit on to the
   * server, cut the client off before any answer comes back, drop every other connection, and refuse from then on.
   * The server commits; the client cannot know it.
   */
  | 'cut-after-commit';

export interface TcpRelay {
  port: number;
  mode: RelayMode;
  /**
   * What `cut-after-commit` waits for: the text of a statement. An autocommitted statement commits at the Sync that
   * follows it; inside a transaction (`inTransaction`) the cut comes at the transaction's own `commit`.
   */
  commitMarker: string;
  /** The statement of `commitMarker` runs inside a transaction (sql.begin): cut at that connection's `commit`. */
  inTransaction: boolean;
  /** How many times a commit was relayed and its client cut off in `cut-after-commit` mode. */
  readonly cuts: number;
  close(): Promise<void>;
}

// Protocol codes of the untyped messages a client may send before its StartupMessage.
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP relay on 127.0.0.1 in front of a PostgreSQL server, for faults no real network produces on demand. It reads
 * the frontend protocol message by message, so a statement or a Sync split across socket reads, or another
 * connection's transaction (a background sweep, a session's touch) committing meanwhile, never moves the cut.
 */
export async function startTcpRelay(upstreamPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let cuts = 0;
  const relay: TcpRelay = {
    port: 0,
    mode: 'pass',
    commitMarker: 'commit',
    inTransaction: false,
    get cuts() {
      return cuts;
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

    let pending: Buffer = Buffer.alloc(0);
    let startup = true;
    // 'marker': the marked statement was seen; 'commit': its transaction's commit was seen. The cut comes at the Sync.
    let armed: 'no' | 'marker' | 'commit' = 'no';

    const cutHere = () => {
      cuts++;
      relay.mode = 'refuse';
      // Every other connection goes too, as when the database host drops off the network.
      for (const s of sockets) if (s !== client && s !== upstream) s.destroy();
      client.destroy();
      // The server reads what it was sent before it sees the end of the connection, the commit included.
      upstream.end();
      setTimeout(() => upstream.destroy(), 10_000).unref();
    };

    // A prepared statement's text goes by once, in its Parse; every run after that names it in a Bind.
    const prepared = new Map<string, string>();
    /** The text of the statement a message runs: a simple Query's, or a Bind's prepared statement's. */
    const statementRun = (type: number, body: Buffer): string => {
      if (type === 0x51) return body.toString('utf8', 0, body.length - 1);
      if (type === 0x50) {
        const nameEnd = body.indexOf(0);
        prepared.set(body.toString('utf8', 0, nameEnd), body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1)));
      } else if (type === 0x42) {
        const portalEnd = body.indexOf(0);
        return prepared.get(body.toString('utf8', portalEnd + 1, body.indexOf(0, portalEnd + 1))) ?? '';
      }
      return '';
    };

    /** Looks at one whole message; true when the relay cut the connection after it. */
    const inspect = (type: number, body: Buffer): boolean => {
      const text = statementRun(type, body);
      if (relay.mode !== 'cut-after-commit') {
        armed = 'no';
        return false;
      }
      if (text) {
        if (armed === 'no' && text.includes(relay.commitMarker)) armed = relay.inTransaction ? 'marker' : 'commit';
        else if (armed === 'marker' && /^\s*commit\b/i.test(text)) armed = 'commit';
        else if (armed === 'marker' && /^\s*rollback\b/i.test(text)) armed = 'no';
      }
      // A simple Query commits as it runs; an extended one at its Sync ('S').
      if (armed === 'commit' && (type === 0x53 || type === 0x51)) {
        cutHere();
        return true;
      }
      return false;
    };

    client.on('data', (chunk: Buffer) => {
      if (upstream.writableEnded) return;
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (;;) {
        if (startup) {
          if (pending.length - at < 8) break;
          const length = pending.readInt32BE(at);
          if (pending.length - at < length) break;
          const code = pending.readInt32BE(at + 4);
          at += length;
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
          continue;
        }
        if (pending.length - at < 5) break;
        const length = pending.readInt32BE(at + 1);
        if (pending.length - at < 1 + length) break;
        const type = pending[at]!;
        const body = pending.subarray(at + 5, at + 1 + length);
        at += 1 + length;
        if (inspect(type, body)) return;
      }
      pending = pending.subarray(at);
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
