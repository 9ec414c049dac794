import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { redisOptions } from './redis';

describe('redisOptions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const options = (env: NodeJS.ProcessEnv) => redisOptions(loadConfig(env).redis);

  it('reads host, port, credentials, database and TLS from the URL', () => {
    expect(options({ REDIS_URL: 'rediss://user:p%40ss@cache.internal:6380/2' })).toEqual({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
  });

  it('defaults the port and database', () => {
    expect(options({ REDIS_URL: 'redis://redis' })).toMatchObject({
      host: 'redis',
      port: 6379,
      db: 0,
      tls: undefined,
      password: undefined,
    });
  });

  it('takes the password from REDIS_PASSWORD_FILE, without its final newline', () => {
    const file = join(dir, 'password');
    writeFileSync(file, 's3cret from a file\n');
    expect(options({ REDIS_URL: 'redis://:in-url@redis', REDIS_PASSWORD_FILE: file })).toMatchObject({ password: 's3cret from a file' });
    expect(() => loadConfig({ REDIS_PASSWORD_FILE: join(dir, 'missing') })).toThrow(
      /REDIS_PASSWORD_FILE: cannot read .*missing \(ENOENT\)/,
    );
  });

  it('asks the Sentinels for the master, keeping credentials, database and TLS', () => {
    const file = join(dir, 'sentinel-password');
    writeFileSync(file, 'sentinel-secret');
    const sentinel = options({
      REDIS_URL: 'rediss://:pw@ignored:1/3',
      REDIS_SENTINELS: 'sentinel-1:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'ocr',
      REDIS_SENTINEL_PASSWORD_FILE: file,
    });
    expect(sentinel).toEqual({
      sentinels: [
        { host: 'sentinel-1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'ocr',
      sentinelPassword: 'sentinel-secret',
      enableTLSForSentinelMode: true,
      username: undefined,
      password: 'pw',
      db: 3,
      tls: {},
    });
    expect(sentinel).not.toHaveProperty('host');
  });

  it('refuses a malformed Sentinel list', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 'sentinel-1' })).toThrow(/REDIS_SENTINELS: expected host:port pairs/);
  });
});
