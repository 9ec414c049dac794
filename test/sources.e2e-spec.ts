/**
 * Input by reference and output to a presigned URL: `POST /v1/jobs` with JSON `{ url }`
 * (https fetched by the API, or an s3:// key in the service's bucket), and `outputUrl`,
 * which receives the result before the webhook goes. A real S3 server (s3rver) with real
 * presigned URLs, a real HTTP server for the documents.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Queue } from 'bullmq';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Backend } from '../src/storage/s3.backend';
import { loadConfig } from '../src/config/config';
import { scannedPdf, SCANNED_LINES, truncatedPdf } from './fixtures';
import { connectionOf, type JobBody, Stack, startS3, startStack, until, upload, waitForJob } from './harness';
import { startReceiver } from './receivers';

const SECRET = 'sources-spec-webhook-secret';
const LIMIT = 2 * 1024 * 1024;

interface OutputView {
  format: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  deliveredAt: string | null;
}

/** A document server: /doc.pdf, a redirect to it, a 404, a non-PDF, an endless body, and one that never answers. */
async function startDocuments(pdf: Buffer) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url!);
    if (req.url === '/files/doc.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="invoice 7.pdf"' });
      res.end(pdf);
    } else if (req.url === '/go') {
      res.writeHead(302, { location: '/files/doc.pdf' }).end();
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a pdf</html>');
    } else if (req.url === '/huge.pdf') {
      // No Content-Length: only counting stops it.
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.write('%PDF-1.7\n');
      const chunk = Buffer.alloc(64 * 1024, 32);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    } else if (req.url === '/slow.pdf') {
      // Never answers.
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('jobs by reference, results to a presigned URL', () => {
  let stack: Stack;
  let s3: Awaited<ReturnType<typeof startS3>>;
  let docs: Awaited<ReturnType<typeof startDocuments>>;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let client: S3Client;
  let bucketRoot: S3Backend;
  // s3rver shows an object while its PUT is still being written (S3 itself does not): wait for its bytes.
  const written = (key: string) =>
    until(`${key} in the bucket`, async () => {
      const object = await bucketRoot.get(key);
      return object?.length ? object : undefined;
    });
  let pdf: Buffer;
  const scratch = mkdtempSync(join(tmpdir(), 'ocr-e2e-sources-'));

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { res, body: (await res.json()) as JobBody & { code?: string; message?: string; output?: OutputView } };
  };
  const presignedPut = (key: string) => getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key: key }), { expiresIn: 600 });

  beforeAll(async () => {
    pdf = await scannedPdf(1);
    s3 = await startS3();
    docs = await startDocuments(pdf);
    hooks = await startReceiver();
    stack = await startStack({
      env: {
        ...s3.env,
        STORAGE_URL: `s3://${s3.bucket}/svc`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ATTEMPTS: '2',
        WEBHOOK_BACKOFF_MS: '100',
        MAX_UPLOAD_BYTES: String(LIMIT),
        SOURCE_TIMEOUT_MS: '2000',
      },
    });
    const config = loadConfig(stack.env);
    const credentials = { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY };
    client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials });
    // The bucket as its owner sees it, from the root: where clients drop inputs and find outputs.
    bucketRoot = new S3Backend({ ...config.s3!, prefix: '' }, { credentials });
    await bucketRoot.put('inputs/scans/letter.pdf', pdf);
    await bucketRoot.put('inputs/notes.txt', 'plain text, no PDF');
  });

  afterAll(async () => {
    await stack?.stop();
    await hooks?.close();
    await docs?.close();
    client?.destroy();
    bucketRoot?.destroy();
    await s3?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('fetches an https (here http) URL, following a redirect, and names the outputs after the served file', async () => {
    const { res, body } = await post({ url: `${docs.base}/go`, languages: 'eng', retention: 600 });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.retention).toBe(600);
    expect(job.result!.text.split(/\s+/)).toEqual(SCANNED_LINES.join(' ').split(/\s+/));
    expect(job.output).toBeNull();
    const txt = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=txt`);
    expect(txt.headers.get('content-disposition')).toContain('invoice 7.txt');
  });

  it('reads an object of its bucket under S3_INPUT_PREFIX, copied inside the bucket', async () => {
    const { res, body } = await post({ url: `s3://${s3.bucket}/inputs/scans/letter.pdf` });
    expect(res.status).toBe(202);
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.result!.text).toContain('quick brown fox');
    // The client's object stays where it was; the job has its own copy.
    expect(await bucketRoot.exists('inputs/scans/letter.pdf')).toBe(true);
    expect(await bucketRoot.exists(`svc/uploads/${body.id}.pdf`)).toBe(true);
  });

  it('PUTs the searchable PDF to a presigned URL before the webhook says completed', async () => {
    const outputUrl = await presignedPut('outputs/letter-searchable.pdf');
    const { res, body } = await post({ url: `s3://${s3.bucket}/inputs/scans/letter.pdf`, outputUrl, callbackUrl: hooks.url });
    expect(res.status).toBe(202);
    expect(body.output).toMatchObject({ format: 'pdf', status: 'waiting', attempts: 0 });
    // The presigned URL is a credential: never shown back.
    expect(JSON.stringify(body)).not.toContain('X-Amz-Signature');
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    const delivered = await until('the output to be delivered', async () => {
      const view = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as { output: OutputView };
      return view.output.status === 'delivered' ? view.output : undefined;
    });
    expect(delivered).toMatchObject({ format: 'pdf', attempts: 1, lastStatus: 200 });

    const sent = await bucketRoot.get('outputs/letter-searchable.pdf');
    expect(sent).not.toBeNull();
    const file = join(scratch, 'searchable.pdf');
    writeFileSync(file, sent!);
    // The same bytes as GET /result?format=pdf, and a text layer poppler reads.
    const served = Buffer.from(await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=pdf`)).arrayBuffer());
    expect(sent!.equals(served)).toBe(true);
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toContain('quick brown fox');

    const hook = await until('the webhook', async () => hooks.deliveries.find((d) => d.headers['x-ocr-job-id'] === body.id));
    const announced = JSON.parse(hook.body) as { status: string; output: OutputView };
    expect(announced.status).toBe('completed');
    expect(announced.output).toMatchObject({ status: 'delivered', lastStatus: 200 });
    expect(hook.body).not.toContain('X-Amz-Signature');
  });

  it('has the job read as completed, its output delivered, by a receiver that asks on the webhook', async () => {
    // A receiver that, like many do, fetches the job as soon as the webhook arrives.
    const seen: { status: string; output: OutputView }[] = [];
    const asking = createServer((req, res) => {
      const id = req.headers['x-ocr-job-id'] as string;
      req.resume();
      void fetch(`${stack.baseUrl}/v1/jobs/${id}`)
        .then((r) => r.json() as Promise<{ status: string; output: OutputView }>)
        .then((job) => seen.push(job))
        .finally(() => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => asking.listen(0, '127.0.0.1', resolve));
    try {
      const hook = `http://127.0.0.1:${(asking.address() as AddressInfo).port}/hook`;
      const outputUrl = await presignedPut('outputs/asked.pdf');
      const jobs = await Promise.all([
        post({ url: `${docs.base}/files/doc.pdf`, callbackUrl: hook }),
        post({ url: `${docs.base}/files/doc.pdf`, callbackUrl: hook, outputUrl }),
      ]);
      await until('both webhooks', async () => seen.length === 2 || undefined);
      expect(seen.map((job) => job.status)).toEqual(['completed', 'completed']);
      expect(seen.find((job) => job.output)?.output.status).toBe('delivered');
      expect(jobs.every(({ res }) => res.status === 202)).toBe(true);
    } finally {
      await new Promise((resolve) => asking.close(resolve));
    }
  });

  it.each(['completed', 'failed'] as const)(
    'holds a %s webhook until the document is recorded so, and drops it for a document that is gone',
    async (event) => {
      // Workers queue a finished document's webhook just before BullMQ records how it finished.
      // Here the document never finishes: a job that waits a minute, then is removed.
      const connection = connectionOf(stack.env.REDIS_URL);
      const documents = new Queue('documents', { connection, prefix: stack.env.QUEUE_PREFIX });
      const webhooks = new Queue('webhooks', { connection, prefix: stack.env.QUEUE_PREFIX });
      const receiver = await startReceiver();
      try {
        const id = randomUUID();
        await documents.add('document', { uploadKey: `uploads/${id}.pdf` } as never, { jobId: id, delay: 60_000 });
        const view = JSON.stringify({ id, status: event });
        await webhooks.add(
          'webhook',
          {
            documentId: id,
            eventId: `${id}.${event}`,
            event,
            url: receiver.url,
            body: view,
            retention: 60,
          },
          { jobId: `${id}.${event}` },
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(receiver.deliveries).toHaveLength(0);
        // It goes round delayed → waiting → active every 200 ms, never finishing nor using an attempt.
        expect(['delayed', 'waiting', 'active']).toContain(await webhooks.getJobState(`${id}.${event}`));
        expect((await webhooks.getJob(`${id}.${event}`))?.attemptsMade).toBe(0);

        await documents.remove(id);
        await until('the webhook to be dropped', async () => (await webhooks.getJobState(`${id}.${event}`)) === 'completed' || undefined);
        expect(receiver.deliveries).toHaveLength(0);
      } finally {
        await receiver.close();
        await Promise.all([documents.close(), webhooks.close()]);
      }
    },
  );

  it('sends the format asked for, and reports a delivery that keeps failing without failing the job', async () => {
    const outputUrl = await presignedPut('outputs/letter.json');
    const { body } = await post({ url: `${docs.base}/files/doc.pdf`, outputUrl, outputFormat: 'json' });
    await waitForJob(stack.baseUrl, body.id);
    const json = JSON.parse((await written('outputs/letter.json')).toString('utf8')) as { pageCount: number; text: string };
    expect(json.pageCount).toBe(1);
    expect(json.text).toContain('quick brown fox');

    // A receiver that refuses every PUT: two attempts (WEBHOOK_ATTEMPTS), then given up.
    const refusing = await startReceiver(() => 403);
    try {
      const failing = await post({ url: `${docs.base}/files/doc.pdf`, outputUrl: `${refusing.url}/out.pdf`, callbackUrl: hooks.url });
      const job = await waitForJob(stack.baseUrl, failing.body.id);
      expect(job.status).toBe('completed');
      const output = await until('the delivery to be given up', async () => {
        const view = (await (await fetch(`${stack.baseUrl}/v1/jobs/${failing.body.id}`)).json()) as { output: OutputView };
        return view.output.status === 'failed' ? view.output : undefined;
      });
      expect(output).toMatchObject({ attempts: 2, lastStatus: 403, deliveredAt: null });
      expect(refusing.deliveries).toHaveLength(2);
      expect(refusing.deliveries[0].headers['content-type']).toBe('application/pdf');
      expect(Number(refusing.deliveries[0].headers['content-length'])).toBeGreaterThan(1000);
      // The webhook still goes, and says so.
      const hook = await until('the webhook', async () => hooks.deliveries.find((d) => d.headers['x-ocr-job-id'] === failing.body.id));
      expect((JSON.parse(hook.body) as { output: OutputView }).output.status).toBe('failed');
    } finally {
      await refusing.close();
    }
  });

  it("sends a failed job's webhook with its error, and no output", async () => {
    const refusing = await startReceiver(() => 500);
    try {
      const { body } = await upload(stack.baseUrl, await truncatedPdf(), { callbackUrl: hooks.url, outputUrl: `${refusing.url}/out.pdf` });
      const job = await waitForJob(stack.baseUrl, body.id);
      expect(job.status).toBe('failed');
      expect(job.output).toMatchObject({ status: 'skipped', attempts: 0 });
      const hook = await until('the webhook', async () => hooks.deliveries.find((d) => d.headers['x-ocr-job-id'] === body.id));
      expect(hook.headers['x-ocr-event']).toBe('failed');
      const announced = JSON.parse(hook.body) as { status: string; error: { code: string }; output: OutputView };
      expect(announced).toMatchObject({ status: 'failed', error: { code: 'pdf_invalid' }, output: { status: 'skipped' } });
      expect(refusing.deliveries).toHaveLength(0);
    } finally {
      await refusing.close();
    }
  });

  it('takes outputUrl with a multipart upload too', async () => {
    const outputUrl = await presignedPut('outputs/uploaded.txt');
    const { res, body } = await upload(stack.baseUrl, pdf, { outputUrl, outputFormat: 'txt' });
    expect(res.status).toBe(202);
    await waitForJob(stack.baseUrl, body.id);
    const text = await written('outputs/uploaded.txt');
    expect(text.toString('utf8')).toContain('lazy dog');
  });

  it('replays an Idempotency-Key for the same URL', async () => {
    const key = `sources-${Date.now()}`;
    const first = await post({ url: `${docs.base}/files/doc.pdf` }, { 'idempotency-key': key });
    const again = await post({ url: `${docs.base}/files/doc.pdf` }, { 'idempotency-key': key });
    expect(first.res.status).toBe(202);
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it.each([
    ['a body that is not JSON', '{"url": ', 400, 'invalid_json'],
    ['a list', '[]', 400, 'invalid_json'],
    ['an unknown field', { url: 'https://example.com/a.pdf', lang: 'eng' }, 400, 'invalid_json'],
    ['a url of the wrong type', { url: 42 }, 400, 'invalid_json'],
    ['no url', { languages: 'eng' }, 400, 'file_missing'],
    ['a scheme other than https', { url: 'ftp://example.com/a.pdf' }, 400, 'url_not_allowed'],
    ['credentials in the URL', { url: 'https://user:pw@example.com/a.pdf' }, 400, 'url_not_allowed'],
    ['another bucket', { url: 's3://elsewhere/inputs/a.pdf' }, 400, 'url_not_allowed'],
    ['a key outside S3_INPUT_PREFIX', { url: 's3://ocr/svc/uploads/x.pdf' }, 400, 'url_not_allowed'],
    ['a key that climbs out of the prefix', { url: 's3://ocr/inputs/../svc/uploads/x.pdf' }, 400, 'url_not_allowed'],
    ['an object that does not exist', { url: 's3://ocr/inputs/missing.pdf' }, 422, 'url_unavailable'],
    ['an object that is no PDF', { url: 's3://ocr/inputs/notes.txt' }, 415, 'unsupported_media_type'],
    ['outputUrl with another scheme', { url: 's3://ocr/inputs/scans/letter.pdf', outputUrl: 'ftp://x/y' }, 400, 'output_url_not_allowed'],
    ['outputFormat without outputUrl', { url: 's3://ocr/inputs/scans/letter.pdf', outputFormat: 'pdf' }, 400, 'invalid_option'],
    [
      'an unknown outputFormat',
      { url: 's3://ocr/inputs/scans/letter.pdf', outputUrl: 'http://127.0.0.1/x', outputFormat: 'docx' },
      400,
      'invalid_option',
    ],
  ])('refuses %s', async (_name, body, status, code) => {
    const { res, body: error } = await post(body);
    expect(res.status).toBe(status);
    expect(error.code).toBe(code);
    expect(error.message).toBeTruthy();
  });

  it.each([
    ['a URL that answers 404', '/nothing.pdf', 422, 'url_unavailable', /HTTP 404/],
    ['a page that is no PDF', '/page.html', 415, 'unsupported_media_type', /PDF/],
    ['a redirect loop', '/loop', 422, 'url_unavailable', /redirected more than 5 times/],
    ['a file past MAX_UPLOAD_BYTES', '/huge.pdf', 413, 'file_too_large', /MAX_UPLOAD_BYTES/],
    ['a server that never answers', '/slow.pdf', 422, 'url_unavailable', /within 2 s/],
  ])('answers %s with a clear error', async (_name, path, status, code, message) => {
    const { res, body } = await post({ url: `${docs.base}${path}` });
    expect(res.status).toBe(status);
    expect(body.code).toBe(code);
    expect(body.message).toMatch(message);
  });

  it('keeps no file of a refused or failed fetch', async () => {
    const incoming = join(stack.env.STORAGE_DIR, 'incoming');
    await post({ url: `${docs.base}/huge.pdf` });
    await post({ url: `${docs.base}/page.html` });
    expect(execFileSync('ls', ['-A', incoming], { encoding: 'utf8' })).toBe('');
  });
});
