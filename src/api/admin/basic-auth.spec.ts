import type { Request, Response } from 'express';
import { ApiError } from '../errors/api-error';
import { parseSecret, type StoredSecret } from '../../config/secret';
import { basicAuth } from './basic-auth';

const PASSWORD = 'correct horse battery';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('basicAuth', () => {
  let hashed = 0;
  // Counts every look at the stored password, which only a hash check makes.
  const password = new Proxy(parseSecret(PASSWORD, { allowScrypt: true, minPlainLength: 12 }), {
    get: (target, property) => {
      if (property === 'kind') hashed += 1;
      return target[property as keyof StoredSecret];
    },
  });
  const middleware = () => basicAuth({ user: 'ops', password }, { maxFailures: 3 });

  /** The status the middleware answers with, or 0 when it lets the request through. */
  const call = async (auth: (req: Request, res: Response, next: () => void) => Promise<void>, authorization?: string, ip = '10.0.0.1') => {
    const headers: Record<string, string> = {};
    const req = { headers: authorization === undefined ? {} : { authorization }, ip, socket: {} } as unknown as Request;
    const res = { setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value) } as unknown as Response;
    try {
      let passed = false;
      await auth(req, res, () => (passed = true));
      return { status: passed ? 0 : -1, headers };
    } catch (error) {
      return { status: (error as ApiError).getStatus(), headers };
    }
  };

  beforeEach(() => (hashed = 0));

  it('lets the right credentials through and refuses wrong ones', async () => {
    const auth = middleware();
    expect((await call(auth, basic('ops', PASSWORD))).status).toBe(0);
    expect((await call(auth, basic('ops', 'guess'))).status).toBe(401);
    expect((await call(auth, basic('admin', PASSWORD))).status).toBe(401);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Bearer abc'],
    ['no colon', `Basic ${Buffer.from('ops').toString('base64')}`],
    ['an empty user', basic('', PASSWORD)],
    ['junk', 'Basic %%%'],
  ])('refuses %s with 401 before hashing anything', async (_what, header) => {
    const { status, headers } = await call(middleware(), header);
    expect(status).toBe(401);
    expect(headers['www-authenticate']).toMatch(/^Basic/);
    expect(hashed).toBe(0);
  });

  it('refuses an address after repeated failures, without hashing, even with the right password', async () => {
    const auth = middleware();
    for (let i = 0; i < 3; i++) expect((await call(auth, basic('ops', `guess-${i}`))).status).toBe(401);
    hashed = 0;
    const limited = await call(auth, basic('ops', PASSWORD));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(hashed).toBe(0);
    // Another address is not affected.
    expect((await call(auth, basic('ops', PASSWORD), '10.0.0.2')).status).toBe(0);
  });
});
