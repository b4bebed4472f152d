// Guards postgres.js 3.4.9 against two upstream bugs that end the process when a connection is lost:
// 1. (porsager/postgres#1208, #1154; fix proposed in #1209, not released) a write scheduled just before the server
//    closes the connection (pg_terminate_backend, a restart) runs on a null socket and throws an uncaught TypeError.
//    That kills the process, and a connection pinned by a transaction hangs forever. With the guard the pending
//    queries fail with CONNECTION_CLOSED, which the store retries like any other lost connection.
// 2. (porsager/postgres#1192, #1205, #1223, open) every new connection first runs an array-types query whose promise
//    nobody holds: a connection lost (or the query cancelled) at that moment is an unhandled rejection, which ends
//    the process. The torture test (npm run torture) crashed two instances this way at a database restart. With the
//    guard that rejection is dropped: the connection's own queries already get the error.
// 3. (not reported upstream yet) target_session_attrs is checked only while the query that opened the connection is
//    pending. A server error during the handshake (a backend of a primary that is being killed) consumes that query,
//    and the connection then opened on whatever server it reached next, unchecked: after a failover a pool kept a
//    connection on the standby and every write failed with 25006 until the promotion. With the guard the first
//    ReadyForQuery of every connection is checked, whatever happened to its first query.
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

const TARGET_MARK = '/* report-chat: session-target guard */';
const TARGET_DECL_ORIGINAL = `    , retries = 0
`;
const TARGET_DECL_PATCHED = `    , retries = 0
    , sessionChecked = false ${TARGET_MARK}
`;
const TARGET_RESET_ORIGINAL = `    terminated = false
    backendParameters = {}
`;
const TARGET_RESET_PATCHED = `    terminated = false
    backendParameters = {}
    sessionChecked = false ${TARGET_MARK}
`;
const TARGET_CHECK_ORIGINAL = `    if (initial) {
      if (target_session_attrs) {
        if (!backendParameters.in_hot_standby || !backendParameters.default_transaction_read_only)
          return fetchState()
        else if (tryNext(target_session_attrs, backendParameters))
          return terminate()
      }
`;
const TARGET_CHECK_PATCHED = `    ${TARGET_MARK}
    if (target_session_attrs && !sessionChecked) {
      if (!backendParameters.in_hot_standby || !backendParameters.default_transaction_read_only)
        return fetchState()
      else if (tryNext(target_session_attrs, backendParameters))
        return terminate()
      sessionChecked = true
    }

    if (initial) {
`;

const PATCHES = [
  { mark: MARK, original: ORIGINAL, patched: PATCHED, what: 'nextWrite()' },
  { mark: TYPES_MARK, original: TYPES_ORIGINAL, patched: TYPES_PATCHED, what: 'the fetchArrayTypes() call' },
  { mark: `, sessionChecked = false ${TARGET_MARK}`, original: TARGET_DECL_ORIGINAL, patched: TARGET_DECL_PATCHED, what: 'the connection state' },
  { mark: `    sessionChecked = false ${TARGET_MARK}`, original: TARGET_RESET_ORIGINAL, patched: TARGET_RESET_PATCHED, what: 'connect()' },
  { mark: `    ${TARGET_MARK}\n    if (target_session_attrs`, original: TARGET_CHECK_ORIGINAL, patched: TARGET_CHECK_PATCHED, what: 'the target_session_attrs check' },
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
