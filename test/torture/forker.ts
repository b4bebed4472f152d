import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CopyRead, ForkOp } from './checker.js';
import { pick, randInt } from './cluster.js';
import { contentDigest } from './fork-check.js';
import {
  baseUrl,
  conversationTarget,
  mainTarget,
  opStart,
  pickInstance,
  readConversation,
  recordCall,
  Subscriber,
  TERMINAL,
  writeTurn,
  type ReportRef,
  type Target,
  type World,
} from './tabs.js';

const CREATE_TIMEOUT_MS = 20_000;

/**
 * A tab that forks: it reads a conversation of its report (the main one, which its writers keep sending to, or a
 * fork, forks of forks included), forks it at a seq chosen from what it read (mostly one of the last answers, ended
 * or still streaming; sometimes 0, a question, or a seq not yet written), now and then starts an empty conversation
 * instead, reads the new conversation's copies once, sometimes follows its events from version 0, and sends a few
 * turns into it as a writer does.
 */
export async function forkerTab(world: World, tab: string, report: ReportRef): Promise<void> {
  const { random } = world;
  let n = 0;
  while (!world.stopping) {
    const mine = world.targets.filter((t) => t.report === report);
    const source = random() < 0.5 ? mainTarget(report) : pick(random, mine);
    const created = await startConversation(world, tab, report, random() < 0.1 ? undefined : source);
    if (created) {
      world.targets.push(created);
      if (random() < 0.5) world.subscribers.push(new Subscriber(world, `${tab}.s${world.subscribers.length}`, created).start());
      const turns = randInt(random, 1, 4);
      for (let i = 0; i < turns && !world.stopping; i++) await writeTurn(world, tab, created, ++n);
    }
    await sleep(randInt(random, 200, 1_000));
  }
}

/** Creates a conversation, a fork of `source` when given; retries an unknown outcome with the same id and body. */
async function startConversation(world: World, tab: string, report: ReportRef, source: Target | undefined): Promise<Target | undefined> {
  const { random } = world;
  let seq = 0;
  let before: ForkOp['before'];
  if (source) {
    const messages = await readConversation(world, tab, source);
    if (!messages) return undefined;
    const answers = messages.filter((m) => m.role === 'assistant').map((m) => m.seq);
    const recent = answers.slice(-4);
    const roll = random();
    if (recent.length === 0 || roll < 0.1) seq = 0;
    else if (roll < 0.8) seq = pick(random, recent);
    else if (roll < 0.9) seq = pick(random, recent) - 1;
    else seq = (messages.at(-1)?.seq ?? 0) + 2;
    const at = messages.find((m) => m.seq === seq);
    before = {
      at: at ? at.role : 'none',
      prefixEnded: messages.filter((m) => m.seq <= seq).every((m) => TERMINAL.has(m.status)),
      receiving: messages.some((m) => !TERMINAL.has(m.status)),
    };
  }
  const id = randomUUID();
  const body = { id, ...(source ? { forkFrom: { conversationId: source.conversation, seq } } : {}) };
  let created: ForkOp | undefined;
  for (let attempt = 0; attempt < 3 && !created; attempt++) {
    const op = await createCall(world, tab, report, body, source, seq, before);
    if (op.outcome === 'ok') created = op;
    else if (op.outcome === 'failed') return undefined;
    else await sleep(randInt(random, 100, 1_000));
  }
  if (!created) return undefined;
  const target = conversationTarget(report, id);
  for (let attempt = 0; attempt < 3 && !created.firstRead; attempt++) {
    const messages = await readConversation(world, tab, target);
    created.firstRead = messages?.filter((m) => m.seq <= seq).map((m): CopyRead => [m.copiedFrom ?? null, m.seq, m.role, m.status, contentDigest(m.content)]);
  }
  return target;
}

/** POST …/conversations, recorded: ok on 201, or 200 for a replay. */
async function createCall(
  world: World,
  tab: string,
  report: ReportRef,
  body: { id: string; forkFrom?: { conversationId: string; seq: number } },
  source: Target | undefined,
  seq: number,
  before: ForkOp['before'],
): Promise<ForkOp> {
  const inst = pickInstance(world);
  const op = world.rec.add<ForkOp>({
    type: 'fork',
    ...opStart(world, tab, { report, conversation: body.id }, inst),
    source: source?.conversation ?? null,
    seq: source ? seq : 0,
    before,
  });
  return recordCall(
    world,
    op,
    CREATE_TIMEOUT_MS,
    (signal) =>
      fetch(`${baseUrl(world, inst)}/api/reports/${report.id}/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${report.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      }),
    async (res) => {
      await res.body?.cancel();
    },
  );
}
