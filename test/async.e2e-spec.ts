/**
 * The async contract end to end, with real Redis, real workers and a real loopback webhook
 * receiver: webhooks, live progress, idempotency, cancel with partial results, expiry,
 * raw uploads, back-pressure and fair scheduling.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifySignature } from '../src/webhooks/signature';
import { digitalPdf, DIGITAL_LINES, scannedPdf } from './fixtures';
import { JobBody, sample, Stack, startStack, until, upload, waitForJob } from './harness';
import { readEvents, startReceiver } from './receivers';

const SECRET = 'webhook-secret-0123456789';
const KEY_A = 'async-key-a-0123456789';
const KEY_B = 'async-key-b-0123456789';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const getJob = async (stack: Stack, id: string, key = KEY_A, query = '') => {
  const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}${query}`, { headers: auth(key) });
  return { res, body: (await res.json()) as JobBody };
};

describe('the async contract, with a worker', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: {
        API_KEYS: `${KEY_A},${KEY_B}`,
        WEBHOOK_SECRET: SECRET,
        // The receiver listens on loopback over plain HTTP.
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_BACKOFF_MS: '300',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('streams each finished page and status as SSE, posts a signed webhook, and retries it after a 500', async () => {
    const receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    try {
      const { res, body } = await upload(stack.baseUrl, await scannedPdf(2), { callbackUrl: receiver.url }, 'doc.pdf', auth(KEY_A));
      expect(res.status).toBe(202);
      const sse = await readEvents(`${stack.baseUrl}/v1/jobs/${body.id}/events`, auth(KEY_A));
      expect(sse.status).toBe(200);
      expect(sse.contentType).toMatch(/^text\/event-stream/);
      const seen = sse.events.map((e) => (e.event === 'page' ? `page ${e.data.page} ${e.data.source}` : `${e.data.status}`));
      expect(seen).toEqual(['queued', 'processing', 'page 1 ocr', 'page 2 ocr', 'completed']);
      expect(sse.events.every((e) => e.id && e.data.jobId === body.id)).toBe(true);

      // Resumed after the first page: only what came after it.
      const resumed = await readEvents(`${stack.baseUrl}/v1/jobs/${body.id}/events`, {
        ...auth(KEY_A),
        'last-event-id': sse.events[2].id!,
      });
      expect(resumed.events.map((e) => e.id)).toEqual(sse.events.slice(3).map((e) => e.id));

      await until('the webhook to be delivered', async () => receiver.deliveries.some((d) => d.status === 200), 30_000);
      expect(receiver.deliveries.map((d) => d.status)).toEqual([500, 200]);
      const [first, retry] = receiver.deliveries;
      expect(retry.headers['x-ocr-event-id']).toBe(first.headers['x-ocr-event-id']);
      expect(retry.headers['x-ocr-delivery-attempt']).toBe('2');
      for (const delivery of receiver.deliveries) {
        expect(verifySignature(SECRET, String(delivery.headers['x-ocr-signature']), delivery.body)).toBe(true);
        expect(verifySignature('another-secret-0123456789', String(delivery.headers['x-ocr-signature']), delivery.body)).toBe(false);
        expect(verifySignature(SECRET, String(delivery.headers['x-ocr-signature']), delivery.body.replace('completed', 'failed'))).toBe(
          false,
        );
      }
      const posted = JSON.parse(retry.body) as JobBody;
      expect(retry.headers['x-ocr-event']).toBe('completed');
      expect(posted).toMatchObject({ id: body.id, status: 'completed', result: { pageCount: 2, partial: false } });

      const job = await until('the delivery to show in the job', async () => {
        const { body: view } = await getJob(stack, body.id);
        return (view.webhook as { deliveredAt: string | null } | null)?.deliveredAt ? view : undefined;
      });
      expect(job.webhook).toMatchObject({ url: receiver.url, attempts: 2, lastStatus: 200, deliveredAt: expect.any(String) });
      // One delivery, made on the second try: a completed job of the webhooks queue, none failed.
      const metrics = await until('the delivery in the metrics', async () => {
        const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
        return sample(text, 'ocr_jobs_completed_total', { queue: 'webhooks' }) === 1 && text;
      });
      expect(sample(metrics, 'ocr_jobs', { queue: 'webhooks', state: 'failed' })).toBe(0);
      expect(sample(metrics, 'ocr_jobs_failed_total', { queue: 'webhooks' })).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  it('answers a long poll as soon as the job changes', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(2), {}, 'doc.pdf', auth(KEY_A));
    const before = (await getJob(stack, body.id)).body;
    const after = (await getJob(stack, body.id, KEY_A, '?wait=30')).body;
    // Started, opened (pagesTotal known) or a page further: something it did not show before.
    expect([after.status, after.progress]).not.toEqual([before.status, before.progress]);
    const done = await waitForJob(stack.baseUrl, body.id, 60_000, auth(KEY_A));
    // A finished job answers at once, without Retry-After.
    const { res, body: final } = await getJob(stack, body.id, KEY_A, '?wait=30');
    expect(final.status).toBe(done.status);
    expect(res.headers.get('retry-after')).toBeNull();
    expect((await getJob(stack, body.id, KEY_A, '?wait=abc')).res.status).toBe(400);
  });

  it('answers a long poll with until=final only once the job has ended, so that /result follows at once', async () => {
    // Four pages: the job changes several times before it ends.
    const { body } = await upload(stack.baseUrl, await scannedPdf(4), {}, 'doc.pdf', auth(KEY_A));
    const { res, body: final } = await getJob(stack, body.id, KEY_A, '?wait=30&until=final');
    expect(res.status).toBe(200);
    expect(final.status).toBe('completed');
    expect(final.result).toMatchObject({ pageCount: 4, partial: false });
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=txt`, { headers: auth(KEY_A) })).status).toBe(200);
    // The default stays the change-wait; an unknown value is refused.
    expect((await getJob(stack, body.id, KEY_A, '?wait=1&until=change')).res.status).toBe(200);
    const bad = await getJob(stack, body.id, KEY_A, '?wait=1&until=done');
    expect(bad.res.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_option' });
  });

  it('makes one job of two concurrent uploads with one Idempotency-Key, and refuses the key for another file or other options', async () => {
    const file = await digitalPdf();
    const headers = { ...auth(KEY_A), 'idempotency-key': `order-${Date.now()}` };
    const [one, two] = await Promise.all([
      upload(stack.baseUrl, file, { ocr: 'never' }, 'a.pdf', headers),
      upload(stack.baseUrl, file, { ocr: 'never' }, 'a.pdf', headers),
    ]);
    expect([one.res.status, two.res.status].sort()).toEqual([200, 202]);
    expect(one.body.id).toBe(two.body.id);
    const replay = [one, two].find((r) => r.res.status === 200)!;
    expect(replay.res.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.res.headers.get('location')).toBe(`/v1/jobs/${one.body.id}`);

    const later = await upload(stack.baseUrl, file, { ocr: 'never' }, 'renamed.pdf', headers);
    expect(later.res.status).toBe(200);
    expect(later.body.id).toBe(one.body.id);

    const other = await upload(stack.baseUrl, await digitalPdf(2), { ocr: 'never' }, 'a.pdf', headers);
    expect(other.res.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency_key_reused' });
    // The same file with other options is another request too.
    const otherOptions = await upload(stack.baseUrl, file, { ocr: 'always' }, 'a.pdf', headers);
    expect(otherOptions.res.status).toBe(422);
    expect(otherOptions.body).toMatchObject({ code: 'idempotency_key_reused', message: expect.stringContaining('other options') });

    // Keys are per API key: the same key from another caller is another job.
    const otherCaller = await upload(stack.baseUrl, file, { ocr: 'never' }, 'a.pdf', {
      ...auth(KEY_B),
      'idempotency-key': headers['idempotency-key'],
    });
    expect(otherCaller.res.status).toBe(202);
    expect(otherCaller.body.id).not.toBe(one.body.id);
  });

  it('schedules pages fairly: a small job sent after a large one by another key finishes long before it; cancel keeps its finished pages', async () => {
    const large = (await upload(stack.baseUrl, await scannedPdf(20), {}, 'large.pdf', auth(KEY_A))).body;
    await until('the large job to start', async () => (await getJob(stack, large.id)).body.progress.pagesDone >= 1, 60_000, 100);
    const small = (await upload(stack.baseUrl, await scannedPdf(2), {}, 'small.pdf', auth(KEY_B))).body;
    const smallDone = await waitForJob(stack.baseUrl, small.id, 60_000, auth(KEY_B));
    expect(smallDone.status).toBe('completed');
    const largeThen = (await getJob(stack, large.id)).body;
    expect(largeThen.status).toBe('processing');
    // Without priorities the small job would have waited for all twenty pages.
    expect(largeThen.progress.pagesDone).toBeLessThanOrEqual(10);
    console.log(
      `fairness: small job (2 pages) done after ${Date.parse(smallDone.finishedAt as string) - Date.parse(smallDone.createdAt as string)} ms, ` +
        `when the large one (20 pages) had ${largeThen.progress.pagesDone} pages done`,
    );

    // While it runs, the finished pages are in the job, marked partial.
    expect(largeThen.result).toMatchObject({ partial: true, pageCount: expect.any(Number) });
    expect(largeThen.result!.pages.length).toBeGreaterThanOrEqual(1);
    expect(largeThen.result!.pages[0]).toMatchObject({ page: 1, source: 'ocr' });

    const cancel = await fetch(`${stack.baseUrl}/v1/jobs/${large.id}/cancel`, { method: 'POST', headers: auth(KEY_A) });
    expect(cancel.status).toBe(200);
    const cancelled = (await cancel.json()) as JobBody;
    expect(cancelled).toMatchObject({ status: 'cancelled', progress: { pagesTotal: 20 }, result: { partial: true } });
    const kept = cancelled.result!.pages.map((p) => p.page);
    expect(kept.length).toBeGreaterThanOrEqual(largeThen.result!.pages.length);
    expect(kept.length).toBeLessThan(20);
    expect(cancelled.result!.pages[0].text).toContain('quick brown fox');
    expect(cancelled.expiresAt).toEqual(expect.any(String));

    // The worker drops the rest: the next job runs, and the cancelled one stays as it was.
    const next = await waitForJob(
      stack.baseUrl,
      (await upload(stack.baseUrl, await digitalPdf(), {}, 'n.pdf', auth(KEY_A))).body.id,
      60_000,
      auth(KEY_A),
    );
    expect(next.status).toBe('completed');
    const after = (await getJob(stack, large.id)).body;
    expect(after.status).toBe('cancelled');
    expect(after.result!.pages.length).toBeLessThanOrEqual(kept.length + 1);

    // The finished pages are served, and /result gives what exists, marked partial.
    const read = (path: string) => fetch(`${stack.baseUrl}/v1/jobs/${large.id}${path}`, { headers: auth(KEY_A) });
    const page1 = await read('/pages/1');
    expect(page1.status).toBe(200);
    expect(((await page1.json()) as { text: string; lines: unknown[] }).text).toContain('quick brown fox');
    expect(await (await read('/pages/1?format=txt')).text()).toContain('quick brown fox');
    const txt = await read('/result?format=txt');
    expect(txt.status).toBe(200);
    expect(txt.headers.get('partial-result')).toBe('true');
    expect(txt.headers.get('content-disposition')).toContain('large.txt');
    const text = await txt.text();
    expect(text.split('\f')).toHaveLength(after.result!.pages.length);
    expect(text).toContain('quick brown fox');
    const json = (await (await read('/result')).json()) as { pageCount: number; partial: boolean; pages: { page: number }[] };
    expect(json).toMatchObject({ pageCount: after.result!.pages.length, partial: true });
    expect(json.pages.map((p) => p.page)).toEqual(after.result!.pages.map((p) => p.page));
    const unread = Array.from({ length: 20 }, (_, i) => i + 1).find((n) => !json.pages.some((p) => p.page === n));
    expect((await read(`/pages/${unread}`)).status).toBe(404);
    const hocr = await read('/result?format=hocr');
    expect(hocr.status).toBe(422);
    expect(await hocr.json()).toMatchObject({ code: 'format_unavailable' });
    const again = await fetch(`${stack.baseUrl}/v1/jobs/${large.id}/cancel`, { method: 'POST', headers: auth(KEY_A) });
    expect(again.status).toBe(200);
    const finished = await fetch(`${stack.baseUrl}/v1/jobs/${next.id}/cancel`, { method: 'POST', headers: auth(KEY_A) });
    expect(finished.status).toBe(409);
    expect(await finished.json()).toMatchObject({ code: 'job_finished' });

    // DELETE purges: the finished pages go too.
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${large.id}`, { method: 'DELETE', headers: auth(KEY_A) })).status).toBe(204);
    expect((await getJob(stack, large.id)).body.result).toBeNull();
    expect(existsSync(join(stack.env.STORAGE_DIR, 'pages', large.id))).toBe(false);
  });

  it('keeps a job for its retention, then answers 404 and its files are gone', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf(), { retention: '3' }, 'doc.pdf', auth(KEY_A));
    const done = await waitForJob(stack.baseUrl, body.id, 60_000, auth(KEY_A));
    expect(done.retention).toBe(3);
    expect(Date.parse(done.expiresAt as string) - Date.parse(done.finishedAt as string)).toBe(3000);
    const files = [`uploads/${body.id}.pdf`, `results/${body.id}.json`].map((f) => join(stack.env.STORAGE_DIR, f));
    expect(files.every((f) => existsSync(f))).toBe(true);
    await until('the job to expire', async () => (await getJob(stack, body.id)).res.status === 404, 20_000, 250);
    expect(files.filter((f) => existsSync(f))).toEqual([]);
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/events`, { headers: auth(KEY_A) })).status).toBe(404);

    const tooLong = await upload(stack.baseUrl, await digitalPdf(), { retention: String(8 * 24 * 3600) }, 'doc.pdf', auth(KEY_A));
    expect(tooLong.res.status).toBe(400);
    expect(tooLong.body).toMatchObject({ code: 'invalid_option' });
  });

  it('takes the PDF as the raw request body, with options as query parameters', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs?ocr=never&pages=2`, {
      method: 'POST',
      headers: { ...auth(KEY_A), 'content-type': 'application/pdf' },
      body: await digitalPdf(2),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as JobBody;
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
    const job = await waitForJob(stack.baseUrl, body.id, 60_000, auth(KEY_A));
    expect(job.result!.pages.map((p) => [p.page, p.source, p.text])).toEqual([[2, 'text', DIGITAL_LINES.join('\n')]]);

    const notPdf = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth(KEY_A), 'content-type': 'application/pdf' },
      body: 'hello',
    });
    expect(notPdf.status).toBe(415);
    const empty = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth(KEY_A), 'content-type': 'application/pdf' },
    });
    expect(empty.status).toBe(422);
  });
});

describe('the async contract, before any worker runs', () => {
  let stack: Stack;
  const KEY_C = 'async-key-c-0123456789';

  beforeAll(async () => {
    stack = await startStack({
      workers: 0,
      env: {
        API_KEYS: `${KEY_A},${KEY_B},${KEY_C}`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_HTTP: 'true',
        MAX_QUEUED_PAGES: '4',
        MAX_PAGES_IN_FLIGHT_PER_KEY: '2',
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses callback URLs that point at private, loopback or link-local addresses', async () => {
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://localhost/hook',
      'http://169.254.169.254/latest',
      'http://[::1]/x',
      'http://10.1.2.3/',
    ]) {
      const { res, body } = await upload(stack.baseUrl, await digitalPdf(), { callbackUrl: url }, 'doc.pdf', auth(KEY_A));
      expect([url, res.status, body.code]).toEqual([url, 400, 'callback_url_not_allowed']);
    }
    const ftp = await upload(stack.baseUrl, await digitalPdf(), { callbackUrl: 'ftp://example.com/' }, 'doc.pdf', auth(KEY_A));
    expect(ftp.body).toMatchObject({ code: 'callback_url_not_allowed' });
  });

  it('shows queuePosition, estimatedDoneAt and a Retry-After from the queue; limits pages in flight per key; refuses uploads when the queue is full; and drops nothing it accepted', async () => {
    const ids: string[] = [];
    for (const key of [KEY_A, KEY_A]) {
      const { res, body } = await upload(stack.baseUrl, await digitalPdf(), { ocr: 'never' }, 'doc.pdf', auth(key));
      expect(res.status).toBe(202);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      ids.push(body.id);
    }
    const quota = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', auth(KEY_A));
    expect(quota.res.status).toBe(429);
    expect(quota.body).toMatchObject({ code: 'quota_exceeded' });
    expect(Number(quota.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    for (const key of [KEY_B, KEY_B])
      ids.push((await upload(stack.baseUrl, await digitalPdf(), { ocr: 'never' }, 'doc.pdf', auth(key))).body.id);
    const full = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', auth(KEY_C));
    expect(full.res.status).toBe(503);
    expect(full.body).toMatchObject({ code: 'queue_full' });
    expect(Number(full.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const { res, body: second } = await getJob(stack, ids[1]);
    expect(second).toMatchObject({ status: 'queued', queuePosition: 2, expiresAt: null, retention: 86400 });
    expect(Date.parse(second.estimatedDoneAt as string)).toBeGreaterThan(Date.now());
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await getJob(stack, ids[3], KEY_B)).body.queuePosition).toBe(4);

    await stack.startWorker();
    const keys = [KEY_A, KEY_A, KEY_B, KEY_B];
    const done = await Promise.all(ids.map((id, i) => waitForJob(stack.baseUrl, id, 60_000, auth(keys[i]))));
    expect(done.map((j) => j.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(done[0]).toMatchObject({ queuePosition: null, estimatedDoneAt: null, expiresAt: expect.any(String) });
    // The key's pages are done, so it may upload again.
    expect((await upload(stack.baseUrl, await digitalPdf(), { ocr: 'never' }, 'doc.pdf', auth(KEY_A))).res.status).toBe(202);
  });
});
