import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the defaults of API.md', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: './.report-chat',
      databaseUrl: undefined,
      seedDemo: true,
      llm: { provider: 'local', localChunkDelayMs: 15 },
      maxMessageChars: 4000,
      maxMessagesPerConversation: 10_000,
      maxConversationsPerReport: 200,
      rateLimitPerHour: 30,
      rateLimitPerDay: 150,
      contextMaxTokens: 100_000,
      turnLeaseMs: 15_000,
      authJwtIssuer: undefined,
      authJwtAudience: undefined,
      authJwtMaxAgeS: 86_400,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes DATABASE_DIRECT_URL for sessions, DATABASE_URL when it is unset, and refuses it alone', () => {
    const pooled = 'postgres://u:p@pooler.internal:6543/db';
    const direct = 'postgres://u:p@db.internal:5432/db';
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct })).toMatchObject({ databaseUrl: pooled, databaseDirectUrl: direct });
    expect(loadConfig({ DATABASE_URL: direct }).databaseDirectUrl).toBe(direct);
    expect(loadConfig({}).databaseDirectUrl).toBeUndefined();
    expect(() => loadConfig({ DATABASE_DIRECT_URL: direct })).toThrow(/DATABASE_DIRECT_URL: expected DATABASE_URL to be set too/);
    expect(() => loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: 'db.internal' })).toThrow(/DATABASE_DIRECT_URL: expected a postgres:\/\//);
  });

  it('does not seed demo data on an external database unless asked', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x', SEED_DEMO: 'true' }).seedDemo).toBe(true);
  });

  it("reads the provider's own key variable when LLM_API_KEY is unset", () => {
    expect(loadConfig({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'k1' }).llm.apiKey).toBe('k1');
    expect(loadConfig({ LLM_PROVIDER: 'openai-compatible', OPENAI_API_KEY: 'k2' }).llm.apiKey).toBe('k2');
    expect(loadConfig({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'k1', LLM_API_KEY: 'k3' }).llm.apiKey).toBe('k3');
  });

  it('names every wrong variable and what it expects', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LLM_PROVIDER: 'gpt', TURN_LEASE_MS: '10', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT: expected a whole number/);
    expect(message).toMatch(/LLM_PROVIDER/);
    expect(message).toMatch(/TURN_LEASE_MS: expected at least 1000/);
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\//);
  });

  it('reads the JWT checks: issuer, audience and the longest lifetime', () => {
    expect(loadConfig({ AUTH_JWT_ISSUER: 'https://x.supabase.co/auth/v1', AUTH_JWT_AUDIENCE: 'authenticated', AUTH_JWT_MAX_AGE_S: '3600' })).toMatchObject({
      authJwtIssuer: 'https://x.supabase.co/auth/v1',
      authJwtAudience: 'authenticated',
      authJwtMaxAgeS: 3600,
    });
    expect(() => loadConfig({ AUTH_JWT_MAX_AGE_S: '0' })).toThrow(/AUTH_JWT_MAX_AGE_S: expected at least 1/);
  });

  it('reads the proxy, public URL, metrics and source map settings; all off by default', () => {
    expect(loadConfig({})).toMatchObject({ trustProxy: 0, publicOrigin: undefined, metricsToken: undefined, serveSourcemaps: false });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ PUBLIC_URL: 'https://Chat.Example.com/app/' }).publicOrigin).toBe('https://chat.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' }).publicOrigin).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ SERVE_SOURCEMAPS: 'true' }).serveSourcemaps).toBe(true);
    expect(loadConfig({ METRICS_TOKEN: 'a-metrics-token-of-16+' }).metricsToken).toBe('a-metrics-token-of-16+');
    for (const env of [{ TRUST_PROXY: 'maybe' }, { TRUST_PROXY: '11' }, { PUBLIC_URL: 'ftp://x.example' }, { PUBLIC_URL: 'chat' }, { METRICS_TOKEN: 'short' }]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
    }
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', LLM_PROVIDER: '' })).toMatchObject({ port: 3000, llm: { provider: 'local' } });
  });
});
