import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { createUserWithToken, issueToken } from '../chat/accounts.js';
import { createAdminLink, disableUser, enableUser, inviteUser, listUsers } from '../chat/admin.js';
import { exportMarkdown } from '../chat/conversation.js';
import { toApiMessage } from '../chat/message-view.js';
import { hashPassword } from '../chat/passwords.js';
import { loadConfig, type Config } from '../config/config.js';
import { titleOf } from '../seed/seed-demo.js';
import type { Sql } from '../store/db.js';
import { readAll } from '../store/history.js';
import { createReport, findReportConversation, listVisibleReports } from '../store/reports.js';
import { findUserByEmail } from '../store/users.js';
import { withDatabase } from './database.js';

/** Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 4 not found. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 4,
  ) {
    super(message);
  }
}

const print = (json: boolean, value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);

/** Where people reach the server: PUBLIC_URL, else the address it listens on (loopback for "every address"). */
function serverOrigin(config: Config): string {
  if (config.publicOrigin) return config.publicOrigin;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function userId(sql: Sql, email: string): Promise<string> {
  const user = await findUserByEmail(sql, email);
  if (!user) throw new CliError(`no user with email ${email}`, 4);
  return user.id;
}

async function ownerId(sql: Sql, email: string): Promise<string> {
  const user = await findUserByEmail(sql, email);
  if (!user) throw new CliError(`no user with email ${email}; create one with: report-chat users create --email ${email}`, 4);
  return user.id;
}

export function buildProgram(serve: () => Promise<void>, config: () => Config = () => loadConfig()): Command {
  const program = new Command('report-chat')
    .description('Chat about reports with an AI model; a conversation never loses or duplicates a message.')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      '\nConfiguration comes from environment variables (see README): DATABASE_URL, DATA_DIR, PORT, LLM_PROVIDER, ...\n' +
        'Without DATABASE_URL, commands use the embedded PostgreSQL in DATA_DIR (or the running server that holds it).\n' +
        'Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 4 not found.',
    );

  program
    .command('serve', { isDefault: true })
    .description('start the API and the web UI (embedded PostgreSQL unless DATABASE_URL is set)')
    .action(serve);

  program
    .command('migrate')
    .description('apply the database migrations (under an advisory lock; safe while other instances run)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(config(), async () => {});
      print(Boolean(opts.json), { migrated: true }, 'migrations applied');
    });

  const users = program.command('users').description('manage users');
  users
    .command('create')
    .description('create a user and print their first API token (shown once)')
    .requiredOption('--email <email>', 'the email address')
    .option('--name <name>', 'the display name')
    .option('--password-stdin', 'read a password for web sign-in from standard input')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; name?: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
      if (password !== undefined && password.length < 8) throw new CliError('the password must have at least 8 characters', 2);
      const passwordHash = password ? await hashPassword(password) : undefined;
      const created = await withDatabase(config(), (sql) =>
        createUserWithToken(sql, { email: opts.email, name: opts.name, passwordHash }).catch((err: unknown) => {
          throw err instanceof Error && /already exists/.test(err.message) ? new CliError(`a user with email ${opts.email} already exists`, 1) : err;
        }),
      );
      print(Boolean(opts.json), created, `created user ${created.user.id} (${created.user.email})\nAPI token (shown once): ${created.token}`);
    });

  users
    .command('list')
    .description('list users, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const all = await withDatabase(config(), (sql) => listUsers(sql));
      const lines = all.map((u) => `${u.id}  ${u.email ?? '(no email)'}  ${u.name ?? ''}${u.disabled ? '  [disabled]' : ''}${u.hasPassword ? '' : '  [no password]'}`);
      print(Boolean(opts.json), { users: all }, lines.join('\n') || 'no users');
    });
  for (const action of ['disable', 'enable'] as const) {
    users
      .command(action)
      .description(
        action === 'disable'
          ? 'disable a user: their sessions and tokens are deleted and their open streams end (within 5 s); what they wrote stays'
          : 'let a disabled user sign in again',
      )
      .requiredOption('--email <email>', "the user's email")
      .option('--json', 'print JSON')
      .action(async (opts: { email: string; json?: boolean }) => {
        const user = await withDatabase(config(), async (sql) => {
          const id = await userId(sql, opts.email);
          return action === 'disable' ? disableUser(sql, id) : enableUser(sql, id);
        });
        print(Boolean(opts.json), user, `${action}d ${user.email ?? user.id}`);
      });
  }
  users
    .command('invite')
    .description('print a one-use link (valid 7 days) with which the user chooses a password')
    .requiredOption('--email <email>', "the user's email")
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; json?: boolean }) => {
      const invite = await withDatabase(config(), async (sql) => inviteUser(sql, await userId(sql, opts.email)));
      const url = `${serverOrigin(config())}/invite#${invite.code}`;
      print(Boolean(opts.json), { ...invite, url }, `invite link for ${opts.email} (valid until ${invite.expiresAt}):\n${url}`);
    });

  program
    .command('admin-link')
    .description('print a one-time link (valid 10 minutes) that signs the administrator in to the admin page')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const link = await withDatabase(config(), (sql) => createAdminLink(sql));
      const url = `${serverOrigin(config())}/admin#${link.code}`;
      print(Boolean(opts.json), { url, expiresAt: link.expiresAt.toISOString() }, `admin page (one use, valid until ${link.expiresAt.toISOString()}):\n${url}`);
    });

  const tokens = program.command('tokens').description('manage API tokens');
  tokens
    .command('create')
    .description("create an API token for a user (shown once)")
    .requiredOption('--email <email>', "the user's email")
    .option('--name <name>', 'a name to recognise the token by')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; name?: string; json?: boolean }) => {
      const token = await withDatabase(config(), async (sql) => {
        const user = await findUserByEmail(sql, opts.email);
        if (!user) throw new CliError(`no user with email ${opts.email}`, 4);
        return issueToken(sql, { id: user.id, email: user.email ?? '', name: user.name }, opts.name ?? null);
      });
      print(Boolean(opts.json), token, `API token ${token.id} (shown once): ${token.token}`);
    });

  const reports = program.command('reports').description('manage reports');
  reports
    .command('import')
    .description('import a Markdown file as a report (title from its first heading unless --title)')
    .argument('<file>', 'a Markdown file')
    .requiredOption('--owner <email>', "the owner's email")
    .option('--title <title>', 'the title')
    .addOption(new Option('--status <status>', 'the report status').choices(['generating', 'complete', 'failed']).default('complete'))
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { owner: string; title?: string; status: 'generating' | 'complete' | 'failed'; json?: boolean }) => {
      let content: string;
      try {
        content = readFileSync(file, 'utf8');
      } catch {
        throw new CliError(`cannot read ${file}`, 4);
      }
      if (!content.trim()) throw new CliError(`${file} is empty`, 2);
      if (content.includes('\u0000')) throw new CliError(`${file} is not a text file`, 2);
      if (Buffer.byteLength(content) > 2 * 1024 * 1024) throw new CliError(`${file} is larger than 2 MiB`, 2);
      const title = opts.title ?? titleOf(content, basename(file).replace(/\.md$/i, ''));
      const report = await withDatabase(config(), async (sql) =>
        createReport(sql, { ownerId: await ownerId(sql, opts.owner), title, content, status: opts.status }),
      );
      print(Boolean(opts.json), { id: report.id, title: report.title, status: report.status }, `imported "${report.title}" as report ${report.id}`);
    });
  reports
    .command('list')
    .description("list a user's reports, newest first")
    .requiredOption('--owner <email>', "the user's email")
    .option('--json', 'print JSON')
    .action(async (opts: { owner: string; json?: boolean }) => {
      const rows = await withDatabase(config(), async (sql) => listVisibleReports(sql, await ownerId(sql, opts.owner)));
      const list = rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() }));
      print(Boolean(opts.json), { reports: list }, list.length ? list.map((r) => `${r.id}  ${r.role.padEnd(6)}  ${String(r.messageCount).padStart(5)} msgs  ${r.title}`).join('\n') : 'no reports');
    });

  program
    .command('export')
    .description('export a conversation')
    .argument('<reportId>', 'the report id')
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).default('markdown'))
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(async (reportId: string, opts: { format: 'markdown' | 'json'; output?: string }) => {
      if (!/^[0-9a-f-]{36}$/i.test(reportId)) throw new CliError('the report id must be a UUID', 2);
      const text = await withDatabase(config(), async (sql) => {
        const row = await findReportConversation(sql, reportId);
        if (!row) throw new CliError(`no report ${reportId}`, 4);
        const all = await readAll(sql, row.conversationId);
        const messages = all.messages.map((m) => toApiMessage(m, reportId));
        return opts.format === 'json'
          ? `${JSON.stringify({ report: { id: reportId, title: row.title }, version: all.version, exportedAt: new Date().toISOString(), messages }, null, 2)}\n`
          : exportMarkdown(row.title, messages);
      });
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
    });

  return program;
}
