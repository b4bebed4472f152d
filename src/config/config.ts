import { z } from 'zod';

/**
 * Every environment variable of API.md's table, parsed once at start. The order of resolution is:
 * the variable itself, then (for the model key) the provider's conventional variable, then the default here.
 */
const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `at least ${min}`).max(max, `at most ${max}`));

const url = z.url({ message: 'a URL' });

const envSchema = z.object({
  PORT: intIn(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  // How many proxies stand in front (true = 1); off by default: X-Forwarded-For is then never read.
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|yes|no|\d{1,2})$/, 'true, false, or the number of proxies in front (0 to 10)')
    .transform((v) => (v === 'true' || v === 'yes' ? 1 : v === 'false' || v === 'no' ? 0 : Number(v)))
    .pipe(z.number().int().max(10, 'at most 10 proxies'))
    .optional(),
  PUBLIC_URL: url
    .refine((v) => /^https?:\/\//i.test(v), 'an http:// or https:// URL')
    .optional(),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SERVE_SOURCEMAPS: boolish.default(false),
  DATA_DIR: z.string().min(1).default('./.report-chat'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_DIRECT_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
    .optional(),
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SEED_DEMO: boolish.optional(),
  LLM_PROVIDER: z.enum(['local', 'anthropic', 'openai-compatible']).default('local'),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_BASE_URL: url.optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  LOCAL_MODEL_CHUNK_DELAY_MS: intIn(0, 10_000).default(15),
  MAX_MESSAGE_CHARS: intIn(1, 1_000_000).default(4000),
  MAX_MESSAGES_PER_CONVERSATION: intIn(2, 100_000_000).default(10_000),
  MAX_CONVERSATIONS_PER_REPORT: intIn(1, 1_000_000).default(200),
  RATE_LIMIT_PER_HOUR: intIn(0, 1_000_000).default(30),
  RATE_LIMIT_PER_DAY: intIn(0, 10_000_000).default(150),
  CONTEXT_MAX_TOKENS: intIn(1_000, 10_000_000).default(100_000),
  TURN_LEASE_MS: intIn(1_000, 3_600_000).default(15_000),
  AUTH_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  AUTH_JWKS_URL: url.optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  AUTH_JWT_MAX_AGE_S: intIn(1, 31_622_400).default(86_400),
});

export type LlmProviderName = 'local' | 'anthropic' | 'openai-compatible';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Proxies in front whose X-Forwarded-For entries are believed; 0: none, the socket's peer is the client. */
  readonly trustProxy: number;
  /** The origin people reach the server at (`https://chat.example.com`); when set, Host must match it. */
  readonly publicOrigin: string | undefined;
  readonly metricsToken: string | undefined;
  readonly serveSourcemaps: boolean;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /**
   * For what needs a session (LISTEN, the migrations' advisory lock): DATABASE_DIRECT_URL, else DATABASE_URL. When
   * it differs from databaseUrl, databaseUrl is taken to be a transaction-mode pooler (docs/deployment.md).
   */
  readonly databaseDirectUrl: string | undefined;
  readonly adminToken: string | undefined;
  readonly seedDemo: boolean;
  readonly llm: {
    readonly provider: LlmProviderName;
    readonly model: string | undefined;
    readonly baseUrl: string | undefined;
    readonly apiKey: string | undefined;
    readonly localChunkDelayMs: number;
  };
  readonly maxMessageChars: number;
  readonly maxMessagesPerConversation: number;
  /** Conversations one user may create in one report (the main one not counted). */
  readonly maxConversationsPerReport: number;
  readonly rateLimitPerHour: number;
  readonly rateLimitPerDay: number;
  readonly contextMaxTokens: number;
  readonly turnLeaseMs: number;
  readonly authJwtSecret: string | undefined;
  readonly authJwksUrl: string | undefined;
  /** When set, a JWT's `iss` must equal it. */
  readonly authJwtIssuer: string | undefined;
  /** When set, a JWT's `aud` must be or contain it. */
  readonly authJwtAudience: string | undefined;
  /** The longest a JWT may live: `exp` minus `iat` (or minus now, whichever is earlier). */
  readonly authJwtMaxAgeS: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment into a frozen Config; throws ConfigError naming each bad variable and what it expects. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "unset", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: expected ${i.message} (got ${JSON.stringify(present[String(i.path[0])])})`),
    );
  }
  const e = parsed.data;
  if (e.DATABASE_DIRECT_URL !== undefined && e.DATABASE_URL === undefined) {
    throw new ConfigError(['DATABASE_DIRECT_URL: expected DATABASE_URL to be set too (the pooled URL the queries use)']);
  }
  const providerKey =
    e.LLM_PROVIDER === 'anthropic' ? e.ANTHROPIC_API_KEY : e.LLM_PROVIDER === 'openai-compatible' ? e.OPENAI_API_KEY : undefined;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    trustProxy: e.TRUST_PROXY ?? 0,
    publicOrigin: e.PUBLIC_URL === undefined ? undefined : new URL(e.PUBLIC_URL).origin,
    metricsToken: e.METRICS_TOKEN,
    serveSourcemaps: e.SERVE_SOURCEMAPS,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_DIRECT_URL ?? e.DATABASE_URL,
    adminToken: e.ADMIN_TOKEN,
    seedDemo: e.SEED_DEMO ?? e.DATABASE_URL === undefined,
    llm: Object.freeze({
      provider: e.LLM_PROVIDER,
      model: e.LLM_MODEL,
      baseUrl: e.LLM_BASE_URL,
      apiKey: e.LLM_API_KEY ?? providerKey,
      localChunkDelayMs: e.LOCAL_MODEL_CHUNK_DELAY_MS,
    }),
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    maxMessagesPerConversation: e.MAX_MESSAGES_PER_CONVERSATION,
    maxConversationsPerReport: e.MAX_CONVERSATIONS_PER_REPORT,
    rateLimitPerHour: e.RATE_LIMIT_PER_HOUR,
    rateLimitPerDay: e.RATE_LIMIT_PER_DAY,
    contextMaxTokens: e.CONTEXT_MAX_TOKENS,
    turnLeaseMs: e.TURN_LEASE_MS,
    authJwtSecret: e.AUTH_JWT_SECRET,
    authJwksUrl: e.AUTH_JWKS_URL,
    authJwtIssuer: e.AUTH_JWT_ISSUER,
    authJwtAudience: e.AUTH_JWT_AUDIENCE,
    authJwtMaxAgeS: e.AUTH_JWT_MAX_AGE_S,
  });
}
