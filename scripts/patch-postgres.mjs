// Guards postgres.js 3.4.9 against two upstream bugs that end the process when a connection is lost:
// 1. (porsager/postgres#1208, #1154; fix proposed in #1209, not released) a write scheduled just before the server
//    closes the connection (pg_terminate_backend, a restart) runs on a null socket and throws an uncaught TypeError.
//    That kills the process, and a connection pinned by a transaction hangs forever. With the guard the pending
//    queries fail with CONNECTION_CLOSED, which the store retries like any other lost connection.
// 2. (porsager/postgres#1192, #1205, #1223, open) every new connection first runs an array-types query whose promise
//    nobody holds: a connection lost (or the query cancelled) at that moment is an unhandled rejection, which ends
//    the process. The torture test (npm run torture) crashed two instances this way at a database restart. With the
//    guard that rejection is dropped: the connection's own queries already get the error.
// Runs at postinstall; idempotent; fails loudly if the code changed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MARK = '/* report-chat: null-socket guard */';
const ORIGINAL = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const PATCHED = `  function nextWrite(fn) {
    ${MARK}
    if (!socket) {
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

const TYPES_MARK = '/* report-chat: array-types guard */';
const TYPES_ORIGINAL = `        return fetchArrayTypes()
`;
const TYPES_PATCHED = `        ${TYPES_MARK}
        return fetchArrayTypes().catch(() => { /* the connection's queries get the error */ })
`;

const PATCHES = [
  { mark: MARK, original: ORIGINAL, patched: PATCHED, what: 'nextWrite()' },
  { mark: TYPES_MARK, original: TYPES_ORIGINAL, patched: TYPES_PATCHED, what: 'the fetchArrayTypes() call' },
];

const require = createRequire(import.meta.url);
// postgres.js's exports map hides package.json: resolve its entry point and walk up to the package folder.
let root;
try {
  root = dirname(require.resolve('postgres'));
} catch {
  process.exit(0); // not installed (yet): nothing to patch
}
while (!existsSync(join(root, 'package.json')) || JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name !== 'postgres') {
  const up = dirname(root);
  if (up === root) {
    console.error('patch-postgres: could not find the postgres package folder.');
    process.exit(1);
  }
  root = up;
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (version !== '3.4.9') {
  console.error(`patch-postgres: expected postgres 3.4.9, found ${version}: check whether the upstream fix landed, then update this script.`);
  process.exit(1);
}
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  let text = before;
  for (const patch of PATCHES) {
    if (text.includes(patch.mark)) continue;
    if (!text.includes(patch.original)) {
      console.error(`patch-postgres: ${file} does not contain the expected ${patch.what}; not patched.`);
      process.exit(1);
    }
    text = text.replace(patch.original, patch.patched);
  }
  if (text !== before) writeFileSync(path, text);
}
