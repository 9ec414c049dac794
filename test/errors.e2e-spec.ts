import { digitalPdf, encryptedPdf, scannedPdf, textImagePng, truncatedPdf } from './fixtures';
import { freePort, runHealthcheck, Stack, startProcess, startStack, until, upload, waitForJob } from './harness';
import { slowToRenderPdf } from './hostile-fixtures';

describe('bad input gets a specific error and blocks nothing', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { MAX_UPLOAD_BYTES: String(1024 * 1024), MAX_PAGES: '3' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const errorShape = (statusCode: number, code: string) => ({ statusCode, code, error: expect.any(String), message: expect.any(String) });

  it.each([
    ['no file part', null, {}, 400, 'file_missing'],
    ['an HTML page named .pdf', Buffer.from('<!doctype html><p>not a pdf</p>'), {}, 415, 'unsupported_media_type'],
    ['an empty file', Buffer.alloc(0), {}, 422, 'pdf_empty'],
    ['a malformed page selection', 'digital', { pages: '3-1' }, 400, 'invalid_pages'],
    ['a language without a model', 'digital', { languages: 'klingon' }, 400, 'unsupported_language'],
    ['an unknown ocr mode', 'digital', { ocr: 'sometimes' }, 400, 'invalid_option'],
  ])('refuses %s at upload', async (_what, file, fields, status, code) => {
    const bytes = file === 'digital' ? await digitalPdf() : (file as Buffer | null);
    const { res, body } = await upload(stack.baseUrl, bytes, fields as Record<string, string>);
    expect(res.status).toBe(status);
    expect(body).toEqual(errorShape(status, code));
  });

  it.each(['ocr', 'pages', 'languages', 'retention', 'callbackUrl', 'outputFormat'])(
    'refuses "%s" given twice with 400 invalid_option, as a form field and as a query parameter',
    async (name) => {
      const value = {
        ocr: 'never',
        pages: '1',
        languages: 'eng',
        retention: '60',
        callbackUrl: 'https://example.com/',
        outputFormat: 'txt',
      }[name]!;
      const form = new FormData();
      form.append('file', new Blob([await digitalPdf()], { type: 'application/pdf' }), 'a.pdf');
      form.append(name, value);
      form.append(name, value);
      const raw = `${stack.baseUrl}/v1/jobs?${name}=${encodeURIComponent(value)}&${name}=${encodeURIComponent(value)}`;
      for (const res of [
        await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', body: form }),
        await fetch(raw, { method: 'POST', headers: { 'Content-Type': 'application/pdf' }, body: await digitalPdf() }),
      ]) {
        expect(res.status).toBe(400);
        const body = (await res.json()) as { message: string };
        expect(body).toEqual(errorShape(400, 'invalid_option'));
        expect(body.message).toBe(`"${name}" was given more than once; give it once.`);
      }
    },
  );

  it('refuses a request without a body', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(errorShape(400, 'file_missing'));
  });

  it('refuses a raw body of another type with 415 unsupported_media_type, naming the types it takes', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'image/svg+xml' },
      body: textImagePng(['x']),
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { message: string };
    expect(body).toEqual(errorShape(415, 'unsupported_media_type'));
    for (const type of ['multipart/form-data', 'application/pdf', 'image/jpeg', 'image/tiff', 'application/json'])
      expect(body.message).toContain(type);
  });

  it('refuses a JSON body declared over 16 KiB with 413 json_too_large, even past MAX_UPLOAD_BYTES', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/a.pdf', pages: ' '.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(errorShape(413, 'json_too_large'));
  });

  it('refuses an empty Idempotency-Key header with 400 invalid_option, as a malformed one', async () => {
    for (const key of ['', 'x'.repeat(256)]) {
      const { res, body } = await upload(stack.baseUrl, await digitalPdf(), {}, 'doc.pdf', { 'Idempotency-Key': key });
      expect(res.status).toBe(400);
      expect(body).toEqual(errorShape(400, 'invalid_option'));
      expect(body.message).toContain('Idempotency-Key');
      const json = await fetch(`${stack.baseUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ url: 'https://example.com/a.pdf' }),
      });
      expect(json.status).toBe(400);
      expect(await json.json()).toEqual(errorShape(400, 'invalid_option'));
    }
  });

  it('finds the PDF signature after leading junk, as PDF readers do', async () => {
    const { res, body } = await upload(stack.baseUrl, Buffer.concat([Buffer.from('junk before the header\n'), await digitalPdf()]));
    expect(res.status).toBe(202);
    expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
  });

  it('refuses a file over MAX_UPLOAD_BYTES with 413, declared or streamed', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2 * 1024 * 1024, 32)]);
    const { res, body } = await upload(stack.baseUrl, big);
    expect(res.status).toBe(413);
    expect(body).toEqual(errorShape(413, 'file_too_large'));

    // Without a Content-Length the limit is enforced while the body streams in.
    const form = new FormData();
    form.append('file', new Blob([big]), 'big.pdf');
    const encoded = new Response(form);
    const chunked = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': encoded.headers.get('content-type')! },
      body: encoded.body,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual(errorShape(413, 'file_too_large'));
  });

  it.each([
    ['a truncated PDF', truncatedPdf, {}, 'pdf_invalid'],
    ['an encrypted PDF', async () => encryptedPdf(), {}, 'pdf_encrypted'],
    ['more pages than MAX_PAGES', () => digitalPdf(4), {}, 'too_many_pages'],
    ['pages beyond the end', () => digitalPdf(2), { pages: '2-5' }, 'invalid_pages'],
  ])('fails %s as a job with a stable code', async (_what, make, fields, code) => {
    const { res, body } = await upload(stack.baseUrl, await make(), fields as Record<string, string>);
    expect(res.status).toBe(202);
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({ code, message: expect.any(String) });
    expect(job.result).toBeNull();
  });

  it('keeps serving after the failures', async () => {
    const job = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await scannedPdf())).body.id);
    expect(job.status).toBe('completed');
  });
});

describe('a page over PAGE_TIMEOUT_MS', () => {
  it('fails its job with page_timeout, and the worker goes on with the next job', async () => {
    // Slow and fast by construction, not by this machine's speed: the shaded page takes minutes
    // to render anywhere (see slowToRenderPdf), a text-layer page some 50 ms, against the
    // shortest limit allowed.
    const stack = await startStack({ env: { PAGE_TIMEOUT_MS: '1000' } });
    try {
      const slow = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, slowToRenderPdf())).body.id);
      expect(slow.status).toBe('failed');
      expect(slow.error?.code).toBe('page_timeout');
      const next = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id);
      expect(next.status).toBe('completed');
      expect(stack.workers[0].child.exitCode).toBeNull();
    } finally {
      await stack.stop();
    }
  });
});

describe('Redis unavailable', () => {
  it('answers 503 queue_unavailable quickly instead of hanging', async () => {
    const port = await freePort();
    const api = startProcess('api', {
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      STORAGE_DIR: '/tmp/ocr-e2e-noredis',
    });
    try {
      await until('the API to listen', async () => api.output.includes('listening'));
      const base = `http://127.0.0.1:${port}`;
      const started = Date.now();
      const { res, body } = await upload(base, await digitalPdf());
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(body).toMatchObject({ code: 'queue_unavailable' });
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await fetch(`${base}/health`)).status).toBe(503);
      expect((await fetch(`${base}/v1/jobs/00000000-0000-0000-0000-000000000000`)).status).toBe(503);
      expect(runHealthcheck('api', { PORT: String(port) })).toMatchObject({ status: 1, output: expect.stringContaining('503') });
    } finally {
      await api.stop();
    }
  });

  it('leaves the worker without a heartbeat, so its container reads as unhealthy', async () => {
    const env = {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      STORAGE_DIR: '/tmp/ocr-e2e-noredis',
      HEARTBEAT_FILE: `/tmp/ocr-e2e-noredis-heartbeat-${process.pid}`,
      OCR_CONCURRENCY: '1',
    };
    const worker = startProcess('worker', env);
    try {
      await until('the heartbeat to pause', async () => worker.output.includes('Heartbeat paused'), 30_000);
      expect(runHealthcheck('worker', env)).toMatchObject({ status: 1, output: expect.stringContaining('no heartbeat') });
    } finally {
      await worker.stop('SIGKILL');
    }
  });
});
