#!/usr/bin/env node
// The `report-chat` command: the TypeScript sources through tsx in a checkout (always current), the compiled
// CLI in a built package without sources.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(new URL('../dist/lib/cli.js', import.meta.url).href);
}
