import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from './env.js';
import { serveWeb } from './web.js';

// A built web UI as vite.config.ts writes it: bundles under assets/ with their source maps beside them.
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'report-chat-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc.js"></script>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1);\n//# sourceMappingURL=index-abc.js.map\n');
  writeFileSync(join(root, 'assets', 'index-abc.js.map'), '{"version":3,"sources":["../../src/web/main.tsx"],"sourcesContent":["secret"]}');
  writeFileSync(join(root, 'assets', 'index-abc.css.map'), '{"version":3}');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function web(serveSourcemaps?: boolean) {
  const app = new Hono<AppEnv>();
  serveWeb(app, root, serveSourcemaps === undefined ? undefined : { serveSourcemaps });
  return (path: string) => Promise.resolve(app.request(`http://127.0.0.1${path}`));
}

describe('serveWeb', () => {
  it('serves no source map unless asked to (SERVE_SOURCEMAPS)', async () => {
    for (const get of [web(), web(false)]) {
      expect((await get('/assets/index-abc.js')).status).toBe(200);
      for (const path of ['/assets/index-abc.js.map', '/assets/index-abc.css.map', '/assets/index-abc.js%2Emap', '/assets/INDEX-abc.js.MAP']) {
        const res = await get(path);
        expect(res.status, path).toBe(404);
        expect(await res.text()).not.toContain('sourcesContent');
      }
    }
  });

  it('serves them with SERVE_SOURCEMAPS', async () => {
    const res = await web(true)('/assets/index-abc.js.map');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('sourcesContent');
  });
});
