import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepAliveAgent, postForStream } from './post-stream.js';

// A full collection on demand, to read what is still reachable.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let server: Server;
let url: URL;
beforeAll(async () => {
  // Reads the whole request, then starts an answer and never ends it: the response stays open, as mid-answer.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('postForStream', () => {
  it('keeps no copy of the request body while the response streams (a prompt holds the whole report)', async () => {
    const agent = keepAliveAgent(url);
    const open: IncomingMessage[] = [];
    const BODY_MB = 8;
    try {
      for (let i = 0; i < 4; i++) {
        const body = JSON.stringify({ report: `${'x'.repeat(BODY_MB * 1_000_000)}${i}` });
        open.push(await postForStream(url, {}, body, agent));
      }
      gc();
      const whileOpen = process.memoryUsage().heapUsed;
      for (const response of open.splice(0)) response.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      gc();
      // What the open responses kept alive, and nothing else the requests left behind.
      const perResponseMb = (whileOpen - process.memoryUsage().heapUsed) / 4 / 1_000_000;
      // Each body is 8 MB: a response that kept its body alive would show all of it here.
      expect(perResponseMb).toBeLessThan(BODY_MB / 4);
    } finally {
      for (const response of open) response.destroy();
      agent.destroy();
    }
  });
});
