/**
 * The command line (dist/ocr.cjs, the single-file bundle that is the package's `bin`), run as a
 * process against a real stack, as a script that called `ocrmypdf` would run it.
 */
import { Queue } from 'bullmq';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DIGITAL_LINES, digitalPdf, encryptedPdf, scannedPdf, SCANNED_LINES, textImagePng } from './fixtures';
import { connectionOf, Proc, Stack, startProcess, startStack, until } from './harness';

const CLI = join(__dirname, '..', 'dist', 'ocr.cjs');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function ocr(args: string[], options: { server: string; input?: Buffer; env?: Record<string, string> }): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OCR_SERVER: options.server, ...options.env },
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.input);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** One page scanned, and a byte after %%EOF that makes each copy a different file. */
const distinct = (pdf: Buffer, i: number) => Buffer.concat([pdf, Buffer.from(`\n% copy ${i}\n`)]);
const BROKEN = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const SCAN_WORDS = /quick brown fox/i;

describe('the ocr command line', () => {
  let stack: Stack;
  let documents: Queue;
  let dir: string;
  let scan: Buffer;
  let replacementApi: Proc | undefined;
  const jobsMade = async () => Object.values(await documents.getJobCounts()).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    stack = await startStack();
    documents = new Queue('documents', { connection: connectionOf(stack.env.REDIS_URL), prefix: stack.env.QUEUE_PREFIX });
    dir = mkdtempSync(join(tmpdir(), 'ocr-cli-'));
    scan = await scannedPdf();
  });

  afterAll(async () => {
    await documents?.close();
    await replacementApi?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the searchable PDF of `ocr in.pdf out.pdf`, and prints the text of `ocr - - --format txt`', async () => {
    writeFileSync(join(dir, 'in.pdf'), scan);
    const run = ocr([join(dir, 'in.pdf'), join(dir, 'out.pdf'), '--sidecar', join(dir, 'out.txt')], { server: stack.baseUrl });
    expect(await run.exited).toBe(0);
    const text = spawnSync('pdftotext', [join(dir, 'out.pdf'), '-'], { encoding: 'utf8' });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(SCAN_WORDS);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toMatch(SCAN_WORDS);

    // The same bytes from stdin, with the same options: the job already made, text to stdout.
    const before = await jobsMade();
    const piped = ocr(['-', '-', '--format', 'txt', '-q'], { server: stack.baseUrl, input: scan });
    expect(await piped.exited).toBe(0);
    expect(piped.stdout()).toMatch(SCAN_WORDS);
    expect(piped.stderr()).toBe('');
    expect(await jobsMade()).toBe(before);
  });

  it('makes a searchable PDF of a photo, as `ocrmypdf` does through img2pdf', async () => {
    writeFileSync(join(dir, 'photo.jpg'), await sharp(textImagePng(SCANNED_LINES)).jpeg().toBuffer());
    const run = ocr([join(dir, 'photo.jpg'), join(dir, 'photo.pdf')], { server: stack.baseUrl });
    expect(await run.exited).toBe(0);
    const text = spawnSync('pdftotext', [join(dir, 'photo.pdf'), '-'], { encoding: 'utf8' });
    expect(text.stdout).toMatch(SCAN_WORDS);
  });

  it('exits with OCRmyPDF codes: 8 for an encrypted PDF, 2 for a file that is not a PDF or is missing', async () => {
    writeFileSync(join(dir, 'locked.pdf'), encryptedPdf());
    writeFileSync(join(dir, 'notes.txt'), 'not a PDF at all');
    const cases: [string, number, string][] = [
      ['locked.pdf', 8, 'pdf_encrypted'],
      ['notes.txt', 2, 'unsupported_media_type'],
      ['absent.pdf', 2, 'input_unreadable'],
    ];
    for (const [file, code, error] of cases) {
      const run = ocr([join(dir, file), join(dir, `${file}.out.pdf`)], { server: stack.baseUrl });
      expect({ file, code: await run.exited }).toEqual({ file, code });
      expect(run.stderr()).toContain(`ocr: ${error}:`);
      expect(existsSync(join(dir, `${file}.out.pdf`))).toBe(false);
    }
  });

  it('prints usage and exits 2 on a wrong option, and has help for each command', async () => {
    for (const args of [['--bogus', 'a.pdf', 'b.pdf'], ['batch', '--bogus', 'x'], ['watch', 'in'], ['--format', 'docx', 'a', 'b'], []]) {
      const run = ocr(args, { server: stack.baseUrl });
      expect({ args, code: await run.exited }).toEqual({ args, code: 2 });
      expect(run.stderr()).toMatch(/Usage: ocr( batch| watch)? \[options\]/);
    }
    for (const [args, wanted] of [
      [['--help'], ['--sidecar', '--force-ocr', '--skip-text', '--output-type', '--server', 'OCR_API_KEY', 'Exit codes', 'batch', 'watch']],
      [
        ['batch', '--help'],
        ['--out', '--concurrency', '--format', '-l, --language', 'OCR_SERVER'],
      ],
      [
        ['help', 'watch'],
        ['--out', '--interval', 'done/', 'failed/', 'SIGTERM'],
      ],
    ] as [string[], string[]][]) {
      const run = ocr(args, { server: stack.baseUrl });
      expect(await run.exited).toBe(0);
      for (const word of wanted) expect(run.stdout()).toContain(word);
    }
  });

  it('reads a batch: 4 files written, the broken one reported with its code, exit 1; a rerun skips what is done', async () => {
    const input = join(dir, 'batch');
    const out = join(dir, 'batch-out');
    mkdirSync(input);
    for (let i = 1; i <= 4; i++) writeFileSync(join(input, `digital-${i}.pdf`), await digitalPdf(i));
    writeFileSync(join(input, 'broken.pdf'), BROKEN);
    const run = ocr(['batch', input, '--out', out, '--format', 'pdf,txt'], { server: stack.baseUrl });
    expect(await run.exited).toBe(1);
    expect(readdirSync(out).sort()).toEqual([1, 2, 3, 4].flatMap((i) => [`digital-${i}.pdf`, `digital-${i}.txt`]).sort());
    expect(readFileSync(join(out, 'digital-3.txt'), 'utf8')).toContain(DIGITAL_LINES[0]);
    expect(run.stderr()).toContain('4 written, 0 skipped, 1 failed');
    expect(run.stderr()).toMatch(/broken\.pdf: pdf_invalid: /);

    const before = await jobsMade();
    const again = ocr(['batch', input, '--out', out, '--format', 'pdf,txt'], { server: stack.baseUrl });
    expect(await again.exited).toBe(1);
    expect(again.stderr()).toContain('0 written, 4 skipped, 1 failed');
    expect(await jobsMade()).toBe(before);
  });

  it('resumes a batch killed mid-way: the rerun finds its jobs, and the service made one job per file', async () => {
    const input = join(dir, 'killed');
    const out = join(dir, 'killed-out');
    mkdirSync(input);
    for (let i = 1; i <= 5; i++) writeFileSync(join(input, `scan-${i}.pdf`), distinct(scan, i));
    const before = await jobsMade();
    const first = ocr(['batch', input, '--out', out, '--concurrency', '1', '--format', 'txt'], { server: stack.baseUrl });
    await until('the first job', async () => (await jobsMade()) > before, 30_000, 20);
    first.child.kill('SIGKILL');
    await first.exited;
    const written = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.txt')).length : 0;
    expect(written).toBeLessThan(5);

    const rerun = ocr(['batch', input, '--out', out, '--concurrency', '2', '--format', 'txt'], { server: stack.baseUrl });
    expect(await rerun.exited).toBe(0);
    expect(readdirSync(out).sort()).toEqual([1, 2, 3, 4, 5].map((i) => `scan-${i}.txt`));
    for (let i = 1; i <= 5; i++) expect(readFileSync(join(out, `scan-${i}.txt`), 'utf8')).toMatch(SCAN_WORDS);
    expect(await jobsMade()).toBe(before + 5);
  });

  it('rides out an API crash and restart in the middle of a batch', async () => {
    const input = join(dir, 'restart');
    const out = join(dir, 'restart-out');
    mkdirSync(input);
    for (let i = 1; i <= 3; i++) writeFileSync(join(input, `scan-${i}.pdf`), distinct(scan, 100 + i));
    const before = await jobsMade();
    const run = ocr(['batch', input, '--out', out, '--concurrency', '1', '--format', 'txt'], { server: stack.baseUrl });
    await until('the first job', async () => (await jobsMade()) > before, 30_000, 20);
    // Killed, as a crash would: SIGTERM waits for the CLI's open event stream to end.
    await stack.api.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    // The stack stops the API it started; this one afterAll stops.
    replacementApi = startProcess('api', stack.env);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toMatch(/Cannot reach the OCR service at .*; trying again in \d+ s/);
    expect(readdirSync(out).sort()).toEqual([1, 2, 3].map((i) => `scan-${i}.txt`));
    expect(await jobsMade()).toBe(before + 3);
  });

  it('watches a folder: a file dropped in (written in two goes) is read and moved to done/, a broken one to failed/', async () => {
    const input = join(dir, 'watched');
    const out = join(dir, 'watched-out');
    mkdirSync(input);
    const watcher = ocr(['watch', input, '--out', out, '--format', 'txt', '--interval', '0.5'], { server: stack.baseUrl });
    try {
      await until('the watch to start', async () => watcher.stderr().includes('watching'), 10_000);
      const file = distinct(scan, 99);
      writeFileSync(join(input, 'dropped.pdf'), file.subarray(0, 1000));
      await new Promise((r) => setTimeout(r, 200));
      appendFileSync(join(input, 'dropped.pdf'), file.subarray(1000));
      writeFileSync(join(input, 'broken.pdf'), BROKEN);
      await until('the file to be read', async () => existsSync(join(input, 'done', 'dropped.pdf')), 60_000);
      expect(readFileSync(join(out, 'dropped.txt'), 'utf8')).toMatch(SCAN_WORDS);
      expect(readFileSync(join(input, 'done', 'dropped.pdf'))).toEqual(file);
      await until('the broken file to be set aside', async () => existsSync(join(input, 'failed', 'broken.pdf.error.txt')), 30_000);
      expect(readFileSync(join(input, 'failed', 'broken.pdf.error.txt'), 'utf8')).toMatch(/^pdf_invalid: /);
      expect(existsSync(join(out, 'broken.txt'))).toBe(false);
      expect(readdirSync(input).sort()).toEqual(['done', 'failed']);
    } finally {
      watcher.child.kill('SIGTERM');
    }
    expect(await watcher.exited).toBe(0);
  });

  it('exits 130 on Ctrl-C while it waits, and refuses an --out that is a folder it reads', async () => {
    // A service that takes the upload and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const server = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const run = ocr([join(dir, 'in.pdf'), join(dir, 'never.pdf')], { server });
      await new Promise((r) => setTimeout(r, 1000));
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      expect(existsSync(join(dir, 'never.pdf'))).toBe(false);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    const same = ocr(['batch', join(dir, 'batch'), '--out', join(dir, 'batch')], { server: stack.baseUrl });
    expect(await same.exited).toBe(1);
    expect(same.stderr()).toContain('bad_args: --out');
    const watched = ocr(['watch', join(dir, 'watched'), '--out', join(dir, 'watched')], { server: stack.baseUrl });
    expect(await watched.exited).toBe(1);
  });

  describe('behind a proxy that refuses at first', () => {
    let proxy: Server;
    let proxyUrl: string;
    const seen: string[] = [];
    const refused = new Set<string>();

    beforeAll(async () => {
      const target = new URL(stack.baseUrl);
      // The first upload gets 429, the first event stream 503: the CLI waits as asked, then polls.
      const refusals: [RegExp, number, string][] = [
        [/^POST \/v1\/jobs$/, 429, 'rate_limited'],
        [/^GET \/v1\/jobs\/[^/]+\/events$/, 503, 'queue_unavailable'],
      ];
      proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
        const line = `${req.method} ${req.url?.split('?')[0]}`;
        seen.push(line);
        const refusal = refusals.find(([pattern]) => pattern.test(line) && !refused.has(pattern.source));
        if (refusal) {
          refused.add(refusal[0].source);
          req.resume();
          res.writeHead(refusal[1], { 'Content-Type': 'application/json', 'Retry-After': '1' });
          return res.end(JSON.stringify({ statusCode: refusal[1], error: 'Refused', code: refusal[2], message: 'Not now.' }));
        }
        const forward = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(forward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    });

    afterAll(async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    });

    it('waits out a 429 and a 503 as Retry-After asks, and follows the job by polling', async () => {
      writeFileSync(join(dir, 'proxied.pdf'), distinct(scan, 42));
      const started = Date.now();
      const run = ocr([join(dir, 'proxied.pdf'), '-', '--format', 'txt'], { server: proxyUrl });
      expect(await run.exited).toBe(0);
      expect(run.stdout()).toMatch(SCAN_WORDS);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(run.stderr()).toMatch(/429 rate_limited; trying again in 1 s, as Retry-After asks/);
      expect(seen.filter((l) => l === 'POST /v1/jobs')).toHaveLength(2);
      expect(seen.filter((l) => l.endsWith('/events'))).toHaveLength(1);
      expect(seen.filter((l) => /^GET \/v1\/jobs\/[^/]+$/.test(l)).length).toBeGreaterThanOrEqual(1);
    });
  });
});
