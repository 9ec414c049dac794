import { sha256Hex } from './secret';
import { inspect } from 'node:util';
import { ConfigError, loadConfig, localAddress } from './config';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      maxUploadBytes: 50 * 1024 * 1024,
      maxPages: 500,
      ocrLanguages: 'eng',
      resultTtlSeconds: 86400,
    });
    expect(config.ocrConcurrency).toBeGreaterThanOrEqual(1);
  });

  it('parses numbers and treats empty values as unset', () => {
    expect(loadConfig({ PORT: '8080', MAX_PAGES: '', OCR_LANGUAGES: 'eng+fra' })).toMatchObject({
      port: 8080,
      maxPages: 500,
      ocrLanguages: 'eng+fra',
    });
  });

  it('names every bad variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', OCR_LANGUAGES: 'English' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT[\s\S]*REDIS_URL[\s\S]*OCR_LANGUAGES/);
  });

  it('keeps API keys only as digests, plain or given as sha256:', () => {
    const config = loadConfig({ API_KEYS: ` first-key-0123456789 , sha256:${sha256Hex('second-key-0123456789')} ` });
    expect([...config.apiKeys]).toEqual([sha256Hex('first-key-0123456789'), sha256Hex('second-key-0123456789')]);
    // inspect() shows what a Set holds, where JSON.stringify would print {} whatever it held.
    expect(inspect(config, { depth: null })).not.toContain('first-key');
    expect(loadConfig({}).apiKeys.size).toBe(0);
  });

  it('names a bad API key by its position, never by its value', () => {
    const attempt = () => loadConfig({ API_KEYS: 'long-enough-key-0001,tiny' });
    expect(attempt).toThrow(/API_KEYS: entry 2 must be at least 16 characters/);
    expect(attempt).not.toThrow(/tiny/);
  });

  it('turns the dashboard on only with a user and a password', () => {
    expect(loadConfig({}).admin).toBeNull();
    expect(loadConfig({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-password' }).admin).toMatchObject({
      user: 'ops',
      password: { kind: 'sha256' },
    });
    expect(loadConfig({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'commas, too, are fine' }).admin?.password).toEqual({
      kind: 'sha256',
      digest: sha256Hex('commas, too, are fine'),
    });
    expect(() => loadConfig({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD: the value must be at least 12/);
    expect(() => loadConfig({ ADMIN_USER: 'ops' })).toThrow(/ADMIN_PASSWORD: set both/);
    expect(() => loadConfig({ ADMIN_PASSWORD: 'a-long-password' })).toThrow(/ADMIN_USER: set both/);
  });

  it('logs JSON in production and readable lines elsewhere, unless told', () => {
    expect(loadConfig({}).logFormat).toBe('pretty');
    expect(loadConfig({ NODE_ENV: 'production' }).logFormat).toBe('json');
    expect(loadConfig({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
  });

  it('reads rate limits and the proxy setting', () => {
    expect(loadConfig({})).toMatchObject({ rateLimit: 600, rateLimitWindowSeconds: 60, trustProxy: false });
    expect(loadConfig({ RATE_LIMIT: '0', TRUST_PROXY: '1' })).toMatchObject({ rateLimit: 0, trustProxy: 1 });
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  });

  it('listens on loopback unless told, and takes only addresses', () => {
    expect(loadConfig({})).toMatchObject({ host: '127.0.0.1', managementHost: '127.0.0.1', workerMetricsHost: '127.0.0.1' });
    expect(loadConfig({ API_HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', managementHost: '0.0.0.0' });
    expect(loadConfig({ API_HOST: '::', MANAGEMENT_HOST: '127.0.0.1' })).toMatchObject({ host: '::', managementHost: '127.0.0.1' });
    expect(() => loadConfig({ API_HOST: 'my-laptop' })).toThrow(/API_HOST: expected an IP address/);
    expect(localAddress('0.0.0.0')).toBe('127.0.0.1');
    expect(localAddress('::')).toBe('[::1]');
    expect(localAddress('10.1.2.3')).toBe('10.1.2.3');
  });

  it('bounds slow requests, headers within the whole', () => {
    expect(loadConfig({}).requestTimeouts).toEqual({ headersMs: 20_000, bodyIdleMs: 20_000, requestMs: 120_000 });
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '2000' })).toThrow(
      /HEADERS_TIMEOUT_MS: must not be more than REQUEST_TIMEOUT_MS/,
    );
  });
});
