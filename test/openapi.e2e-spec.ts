/**
 * The OpenAPI document cannot drift from the service: the committed one must be what the
 * API serves, it must lint clean, and a client generated from it must drive a whole job.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import type { components, paths } from '../openapi/schema';
import { digitalPdf, DIGITAL_LINES } from './fixtures';
import { Stack, startStack, until } from './harness';
import { parseEvents, startReceiver } from './receivers';
import { verifySignature } from '../src/webhooks/signature';

const ROOT = join(__dirname, '..');
const KEY = 'client-key-0123456789';
const SECRET = 'client-webhook-secret-0123';

describe('the OpenAPI document', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { API_KEYS: KEY, WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOW_HTTP: 'true' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is served at /docs-json exactly as committed in openapi/, with its client types up to date', async () => {
    const served = await (await fetch(`${stack.baseUrl}/docs-json`)).json();
    const committed = JSON.parse(readFileSync(join(ROOT, 'openapi', 'openapi.json'), 'utf8'));
    // On a difference: npm run openapi, and review the change to the contract.
    expect(served).toEqual(committed);
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts', 'openapi.js'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('lints clean with Redocly', () => {
    const lint = spawnSync(join(ROOT, 'node_modules', '.bin', 'redocly'), ['lint', 'openapi/openapi.json', '--format=json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 120_000,
    });
    const report = JSON.parse(lint.stdout) as { totals: object; problems: { ruleId: string; message: string }[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
    expect(lint.status).toBe(0);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await fetch(`${stack.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('drives upload, live events, webhook, polling and results through a client generated from it', async () => {
    const client = createClient<paths>({ baseUrl: stack.baseUrl, headers: { authorization: `Bearer ${KEY}` } });
    const file = new Blob([await digitalPdf()], { type: 'application/pdf' });
    const receiver = await startReceiver();

    const created = await client.POST('/v1/jobs', {
      body: { file, ocr: 'never', callbackUrl: receiver.url, retention: 600 },
      bodySerializer: (body) => {
        if (body instanceof Blob) return body;
        // The JSON form (`url`) serializes as it is; this call sends the multipart one.
        if (!('file' in body)) return JSON.stringify(body);
        const form = new FormData();
        form.append('file', body.file, 'report.pdf');
        if (body.ocr) form.append('ocr', body.ocr);
        if (body.callbackUrl) form.append('callbackUrl', body.callbackUrl);
        if (body.retention) form.append('retention', String(body.retention));
        return form;
      },
    });
    expect(created.response.status).toBe(202);
    const id = created.data!.id;
    expect(created.response.headers.get('location')).toBe(`/v1/jobs/${id}`);
    expect(created.data).toMatchObject({ status: 'queued', retention: 600, expiresAt: null });

    const stream = await client.GET('/v1/jobs/{id}/events', { params: { path: { id } }, parseAs: 'stream' });
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await parseEvents(stream.data!);
    expect(events.map((e) => [e.event, e.data.status ?? e.data.page])).toEqual([
      ['status', 'queued'],
      ['status', 'processing'],
      ['page', 1],
      ['status', 'completed'],
    ]);

    const job: components['schemas']['Job'] = await until('the job to complete and its webhook to be delivered', async () => {
      const { data } = await client.GET('/v1/jobs/{id}', { params: { path: { id }, query: { wait: 5 } } });
      return data?.status === 'completed' && data.webhook?.deliveredAt ? data : undefined;
    });
    expect(job.result?.pages.map((p) => p.source)).toEqual(['text']);
    expect(job.result?.partial).toBe(false);
    expect(job.webhook).toMatchObject({ url: receiver.url, attempts: 1, lastStatus: 200 });
    expect(Date.parse(job.expiresAt!) - Date.parse(job.finishedAt!)).toBe(600_000);
    await receiver.close();
    const [delivery] = receiver.deliveries;
    expect(verifySignature(SECRET, String(delivery.headers['x-ocr-signature']), delivery.body)).toBe(true);
    const posted = JSON.parse(delivery.body) as components['schemas']['Job'];
    expect(posted).toMatchObject({ id, status: 'completed', result: { text: job.result!.text } });

    const full = await client.GET('/v1/jobs/{id}/result', { params: { path: { id } } });
    // The operation answers JSON, text or a PDF; without format it is JSON.
    if (typeof full.data !== 'object' || !('pages' in full.data)) throw new Error(`Expected the JSON result, got ${typeof full.data}`);
    expect(full.data.pages[0].lines.map((l) => l.text)).toEqual(DIGITAL_LINES);
    expect(full.data.pages[0].lines[0].words[0]).toMatchObject({ text: 'Quarterly', confidence: null, bbox: { x0: expect.any(Number) } });

    const text = await client.GET('/v1/jobs/{id}/result', { params: { path: { id }, query: { format: 'txt' } }, parseAs: 'text' });
    expect(text.data).toBe(DIGITAL_LINES.join('\n'));

    const pdf = await client.GET('/v1/jobs/{id}/result', { params: { path: { id }, query: { format: 'pdf' } }, parseAs: 'blob' });
    expect(pdf.response.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await (pdf.data as Blob).arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    expect((await client.DELETE('/v1/jobs/{id}', { params: { path: { id } } })).response.status).toBe(204);
    const gone = await client.GET('/v1/jobs/{id}/result', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error?.code).toBe('job_not_found');

    const anonymous = createClient<paths>({ baseUrl: stack.baseUrl });
    const refused = await anonymous.GET('/v1/jobs/{id}', { params: { path: { id } } });
    expect(refused.response.status).toBe(401);
    expect(refused.error).toMatchObject({ statusCode: 401, code: 'unauthorized' });
  });
});
