import { redisOptions } from './redis';

describe('redisOptions', () => {
  it('reads host, port, credentials, database and TLS from the URL', () => {
    expect(redisOptions('rediss://user:p%40ss@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: {},
    });
  });

  it('defaults the port and database', () => {
    expect(redisOptions('redis://redis')).toMatchObject({ host: 'redis', port: 6379, db: 0, tls: undefined, password: undefined });
  });
});
