import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { germanScanPdf, GERMAN_LINES, scannedPdf } from './fixtures';
import { Stack, startStack, until, upload, waitForJob } from './harness';

// Debian's models; .ci/run installs tesseract-ocr-eng and tesseract-ocr-deu.
const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

interface Languages {
  default: string;
  workers: number;
  languages: { code: string; model: string; workers: number }[];
  osd: boolean;
}

describe('languages: the API accepts what the live workers can read', () => {
  let stack: Stack;
  const models = mkdtempSync(join(tmpdir(), 'ocr-e2e-models-'));
  const languages = async () => (await (await fetch(`${stack.baseUrl}/v1/languages`)).json()) as Languages;

  beforeAll(async () => {
    // A worker "image" with the German pack added: eng and deu, as OCR_LANGUAGE_PACKS="eng deu" installs them.
    for (const code of ['eng', 'deu', 'osd']) {
      const file = join(DEBIAN_TESSDATA, `${code}.traineddata`);
      if (!existsSync(file)) throw new Error(`${file} is missing: apt-get install tesseract-ocr-${code}`);
      symlinkSync(file, join(models, `${code}.traineddata`));
    }
    // No worker yet: the API knows no languages and accepts any well-formed list.
    stack = await startStack({ workers: 0, env: { WORKER_TTL_SECONDS: '3' } });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(models, { recursive: true, force: true });
  });

  it('queues any well-formed language while no worker is alive, and says so', async () => {
    expect(await languages()).toEqual({ default: 'eng', workers: 0, languages: [], osd: false });
    const { res, body } = await upload(stack.baseUrl, await scannedPdf(), { languages: 'fra' });
    expect(res.status).toBe(202);

    // A worker without French turns it down with the same code the API would have used.
    await stack.startWorker({ OCR_MODEL: models });
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'unsupported_language' } });
    expect(job.error!.message).toContain('fra');
  });

  it('lists the languages of the live workers and refuses the others', async () => {
    const listed = await until('the worker to announce itself', async () => {
      const body = await languages();
      return body.workers === 1 && body;
    });
    expect(listed.languages).toEqual([
      { code: 'deu', model: 'fast', workers: 1 },
      { code: 'eng', model: 'fast', workers: 1 },
    ]);
    expect(listed.osd).toBe(true);

    const refused = await upload(stack.baseUrl, await scannedPdf(), { languages: 'eng+fra' });
    expect(refused.res.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'unsupported_language', message: expect.stringMatching(/fra[\s\S]*Available: deu, eng/) });
  });

  it('reads a language added to the worker end to end', async () => {
    const { res, body } = await upload(stack.baseUrl, await germanScanPdf(), { languages: 'deu' });
    expect(res.status).toBe(202);
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    const text = job.result!.pages[0].text;
    for (const word of ['Straße', 'führt', 'über', 'größere', 'Brücken', 'schönen', 'Mühle']) expect(text).toContain(word);
    expect(text.split(/\s+/)).toHaveLength(GERMAN_LINES.join(' ').split(/\s+/).length);
    expect(job.result!.pages[0]).toMatchObject({ language: 'deu' });
  });

  it("forgets a worker's languages when it stops, gracefully or not", async () => {
    // An entry that would outlive this test: only the worker's own removal can clear it in time.
    const second = await stack.startWorker({ OCR_MODEL: models, WORKER_TTL_SECONDS: '600' });
    await until('two workers', async () => (await languages()).workers === 2);
    await second.stop('SIGTERM');
    await until('the stopped worker to leave', async () => (await languages()).workers === 1, 10_000);
    // SIGKILL: the entry expires after WORKER_TTL_SECONDS.
    await stack.workers[0].stop('SIGKILL');
    await until('the killed worker to expire', async () => (await languages()).workers === 0, 10_000);
    expect((await upload(stack.baseUrl, await scannedPdf(), { languages: 'fra' })).res.status).toBe(202);
  });
});
