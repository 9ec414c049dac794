/**
 * The queue dashboard in a real browser: Debian's chromium, driven by playwright-core.
 * In CI the browser must be there (.ci/run installs it); elsewhere the spec skips without it.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { scryptHash } from '../src/config/secret';
import { digitalPdf } from './fixtures';
import { browserPresent, launchChromium } from './browser';
import { Stack, startStack, until, upload, waitForJob } from './harness';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const USER = 'ops';
const PASSWORD = 'correct horse battery staple';

const present = browserPresent('Dashboard browser checks');

(present ? describe : describe.skip)('the queue dashboard, in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let jobId: string;

  beforeAll(async () => {
    // The password as an operator would configure it in production: a scrypt hash.
    stack = await startStack({ env: { ADMIN_USER: USER, ADMIN_PASSWORD: await scryptHash(PASSWORD) } });
    browser = await launchChromium();
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    jobId = body.id;
    expect((await waitForJob(stack.baseUrl, jobId)).status).toBe('completed');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('refuses the dashboard without credentials, or with wrong ones', async () => {
    const res = await fetch(`${stack.baseUrl}/admin/queues`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await res.json()).toMatchObject({ statusCode: 401, code: 'unauthorized' });

    for (const httpCredentials of [undefined, { username: USER, password: 'guess' }, { username: 'admin', password: PASSWORD }]) {
      const context = await browser.newContext({ httpCredentials });
      try {
        const page = await context.newPage();
        // Headless Chromium has nobody to ask for a login: it abandons the challenge.
        const outcome = await page.goto(`${stack.baseUrl}/admin/queues`).then(
          (r) => r?.status(),
          (e: Error) => e.message,
        );
        expect(String(outcome)).toMatch(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
        expect(await page.getByRole('link', { name: 'documents', exact: true }).count()).toBe(0);
      } finally {
        await context.close();
      }
    }
  });

  it('shows every queue and the finished job after logging in', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = await context.newPage();
      expect((await page.goto(`${stack.baseUrl}/admin/queues`))?.status()).toBe(200);
      // The sidebar's links: the overview lists the same queues again once their counts load.
      const sidebar = page.locator('#bull-board-sidebar');
      for (const queue of ['documents', 'pages']) await sidebar.getByRole('link', { name: queue, exact: true }).waitFor();

      await page.goto(`${stack.baseUrl}/admin/queues/queue/documents?status=completed`);
      await page.getByText(jobId, { exact: true }).waitFor();
      // The actions an operator needs on finished jobs.
      await page.getByRole('button', { name: /retry all/i }).waitFor();
      await page.getByRole('button', { name: /clean all/i }).waitFor();

      mkdirSync(ARTIFACTS, { recursive: true });
      const screenshot = join(ARTIFACTS, 'admin-dashboard.png');
      await page.screenshot({ path: screenshot });
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    } finally {
      await context.close();
    }
  });

  it("cleans finished jobs through the dashboard's API, behind the same login", async () => {
    const clean = `${stack.baseUrl}/admin/queues/api/queues/documents/clean/completed`;
    expect((await fetch(clean, { method: 'PUT' })).status).toBe(401);
    const authorization = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    // bull-board spares jobs that finished in the last few seconds.
    await until('the dashboard to clean the job', async () => {
      expect((await fetch(clean, { method: 'PUT', headers: { authorization } })).status).toBe(200);
      return (await fetch(`${stack.baseUrl}/v1/jobs/${jobId}`)).status === 404;
    });
  });
});
