import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The web UI: sources in src/web, built to dist/web, which the server serves (src/http/web.ts) under a CSP of
 * `script-src 'self'`: the build must emit no inline script, and nothing may come from another origin.
 */
export default defineConfig({
  root: here('./src/web'),
  publicDir: here('./src/web/public'),
  plugins: [react()],
  build: {
    outDir: here('./dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inlined assets would become data: URLs; keep every asset a file under /assets.
    assetsInlineLimit: 0,
    // Maps are written beside the bundles (and named in them) for whoever runs the server with SERVE_SOURCEMAPS;
    // without it the server answers 404 for every .map (src/http/web.ts), so the sources stay on the server.
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      // The API, its event streams included, stays on the real server: `npm start` in another terminal.
      '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false },
    },
  },
});
