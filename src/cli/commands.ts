/** The three actions of the command line: one file, a batch, a watched folder. */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OcrClient, OcrError, sleep, type ResultFormat } from './client';
import { exitCodeFor, ExitCode } from './exit-codes';
import { ocrFile, sourceOfBytes, sourceOfFile, type Output, type Source } from './ocr-file';
import { jobOptionsOf, type BatchOptions, type CommonOptions, type SingleOptions, type WatchOptions } from './program';
import { reporterFor, type Reporter } from './progress';

export interface Context {
  signal: AbortSignal;
  /** Errors, always shown (even with --quiet). */
  error: (line: string) => void;
}

/** How long a batch or a watch rides out a service that stopped answering, before a file fails. */
const RECONNECT_SECONDS = 60;

const clientFor = (options: CommonOptions, signal: AbortSignal, reporter: Reporter, reconnectSeconds = 0) =>
  new OcrClient({ server: options.server, apiKey: options.apiKey, signal, notice: (m) => reporter.notice(m), reconnectSeconds });

const asOcrError = (error: unknown): OcrError =>
  error instanceof OcrError ? error : new OcrError('internal_error', error instanceof Error ? error.message : String(error));

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function single(input: string, output: string, options: SingleOptions, context: Context): Promise<number> {
  const outputs: Output[] = [];
  if (options.outputType !== 'none') outputs.push({ format: options.format, dest: output });
  if (options.sidecar) outputs.push({ format: 'txt', dest: options.sidecar });
  if (outputs.filter((o) => o.dest === '-').length > 1) {
    context.error('ocr: bad_args: <output> and --sidecar cannot both be stdout (-)');
    return ExitCode.badArgs;
  }
  for (const { dest } of outputs)
    if (dest !== '-' && !existsSync(dirname(resolve(dest)))) {
      context.error(`ocr: output_unwritable: the folder of ${dest} does not exist`);
      return exitCodeFor('output_unwritable');
    }
  const reporter = reporterFor({ quiet: !!options.quiet, files: null });
  const name = input === '-' ? 'stdin.pdf' : basename(input);
  try {
    const source: Source = input === '-' ? sourceOfBytes(await readStdin(), name) : await sourceOfFile(input, name);
    const report = reporter.file(name);
    await ocrFile(clientFor(options, context.signal, reporter), source, jobOptionsOf(options), outputs, report);
    report.done(outputs.map((o) => `${o.format} written to ${o.dest === '-' ? 'stdout' : o.dest}`).join(', ') || 'read');
    return ExitCode.ok;
  } catch (error) {
    if (context.signal.aborted) return ExitCode.ctrlC;
    const failure = asOcrError(error);
    context.error(`ocr: ${failure.code}: ${failure.message}`);
    return exitCodeFor(failure.code);
  } finally {
    reporter.stop();
  }
}

const EXTENSIONS: Record<ResultFormat, string> = { pdf: '.pdf', txt: '.txt', json: '.json', hocr: '.hocr', alto: '.alto.xml' };
/** What a folder's files are taken for: PDFs, and the images a scanner writes. */
const INPUT_TYPES = new Set(['.pdf', '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.gif']);

export const outputsFor = (outDir: string, stem: string, formats: ResultFormat[]): Output[] =>
  formats.map((format) => ({ format, dest: join(outDir, stem + EXTENSIONS[format]) }));

interface Input {
  path: string;
  name: string;
  stem: string;
}

/** The files named, and the files directly in the folders named, each once; outputs named after them. */
export async function collectInputs(paths: string[]): Promise<{ inputs: Input[]; missing: string[] }> {
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) missing.push(path);
    else if (info.isDirectory()) {
      for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name)))
        if (entry.isFile() && !entry.name.startsWith('.') && INPUT_TYPES.has(extname(entry.name).toLowerCase()))
          found.set(resolve(path, entry.name), join(path, entry.name));
    } else found.set(resolve(path), path);
  }
  const inputs = [...found.values()].map((path) => ({ path, name: basename(path), stem: basename(path, extname(path)) }));
  // scan.pdf and scan.png would both write scan.txt: such files keep their extension in the stem.
  const stems = new Map<string, number>();
  for (const input of inputs) stems.set(input.stem, (stems.get(input.stem) ?? 0) + 1);
  for (const input of inputs) if (stems.get(input.stem)! > 1) input.stem = input.name;
  return { inputs, missing };
}

async function pool<T>(items: T[], concurrency: number, signal: AbortSignal, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !signal.aborted) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

export async function batch(paths: string[], options: BatchOptions, context: Context): Promise<number> {
  // Outputs in a folder being read would stand for its inputs (scan.pdf for scan.pdf), or be read next time.
  if (paths.some((path) => resolve(path) === resolve(options.out))) {
    context.error(`ocr batch: bad_args: --out ${options.out} is a folder being read; give another`);
    return ExitCode.badArgs;
  }
  const { inputs, missing } = await collectInputs(paths);
  const failures: { name: string; code: string; message: string }[] = missing.map((path) => ({
    name: path,
    code: 'input_unreadable',
    message: 'no such file or folder',
  }));
  try {
    await mkdir(options.out, { recursive: true });
  } catch (error) {
    context.error(`ocr: output_unwritable: cannot make ${options.out}: ${(error as Error).message}`);
    return exitCodeFor('output_unwritable');
  }
  const reporter = reporterFor({ quiet: !!options.quiet, files: inputs.length });
  const client = clientFor(options, context.signal, reporter, RECONNECT_SECONDS);
  const jobOptions = jobOptionsOf(options);
  const seen = new Set<string>();
  let written = 0;
  let skipped = 0;
  await pool(inputs, options.concurrency, context.signal, async (input) => {
    const outputs = outputsFor(options.out, input.stem, options.format);
    const todo = outputs.filter((o) => !existsSync(o.dest));
    if (outputs.some((o) => seen.has(o.dest))) {
      failures.push({ name: input.path, code: 'output_conflict', message: `another input writes ${outputs[0].dest}` });
      return;
    }
    outputs.forEach((o) => seen.add(o.dest));
    if (!todo.length) {
      skipped++;
      return reporter.skipped(input.path, 'its outputs exist');
    }
    const report = reporter.file(input.path);
    try {
      await ocrFile(client, await sourceOfFile(input.path, input.name), jobOptions, todo, report);
      written++;
      report.done(`written ${todo.map((o) => o.dest).join(', ')}`);
    } catch (error) {
      if (context.signal.aborted) return;
      const failure = asOcrError(error);
      failures.push({ name: input.path, code: failure.code, message: failure.message });
      report.fail(failure.code, failure.message);
    }
  });
  reporter.stop();
  const counts = `${written} written, ${skipped} skipped, ${failures.length} failed`;
  if (context.signal.aborted) {
    context.error(`ocr batch: interrupted (${counts}); run it again to resume`);
    return ExitCode.ctrlC;
  }
  if (!options.quiet || failures.length) context.error(`ocr batch: ${counts}`);
  for (const failure of failures) context.error(`  ${failure.name}: ${failure.code}: ${failure.message}`);
  return failures.length ? 1 : ExitCode.ok;
}

/** Codes that say the service, not the file, is the trouble: the file waits in the folder. */
const TRANSIENT = new Set(['service_unreachable', 'queue_unavailable', 'internal_error', 'http_502', 'http_504']);

async function moveInto(dir: string, path: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  let dest = join(dir, basename(path));
  if (existsSync(dest)) dest = join(dir, `${basename(path, extname(path))}-${Date.now()}${extname(path)}`);
  await rename(path, dest);
  return dest;
}

export async function watch(dir: string, options: WatchOptions, context: Context): Promise<number> {
  const done = join(dir, 'done');
  const failed = join(dir, 'failed');
  if (resolve(dir) === resolve(options.out)) {
    context.error(`ocr watch: bad_args: --out ${options.out} is the watched folder, whose outputs would be read as inputs; give another`);
    return ExitCode.badArgs;
  }
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
    await Promise.all([done, failed, options.out].map((d) => mkdir(d, { recursive: true })));
  } catch (error) {
    context.error(`ocr watch: input_unreadable: ${dir}: ${(error as Error).message}`);
    return exitCodeFor('input_unreadable');
  }
  const reporter = reporterFor({ quiet: !!options.quiet, files: null });
  const client = clientFor(options, context.signal, reporter, RECONNECT_SECONDS);
  const jobOptions = jobOptionsOf(options);
  const sizes = new Map<string, string>();
  const busy = new Map<string, Promise<void>>();
  const notBefore = new Map<string, number>();
  reporter.notice(`ocr watch: watching ${dir}, writing to ${options.out}`);

  const take = async (name: string) => {
    const path = join(dir, name);
    const stem = basename(name, extname(name));
    const outputs = outputsFor(options.out, stem, options.format).filter((o) => !existsSync(o.dest));
    const report = reporter.file(name);
    try {
      await ocrFile(client, await sourceOfFile(path, name), jobOptions, outputs, report);
      report.done(`written, moved to ${await moveInto(done, path)}`);
    } catch (error) {
      if (context.signal.aborted) return;
      const failure = asOcrError(error);
      if (TRANSIENT.has(failure.code)) {
        report.fail(failure.code, `${failure.message}; it stays and is tried again`);
        notBefore.set(name, Date.now() + 30_000);
        return;
      }
      const moved = await moveInto(failed, path).catch(() => path);
      await writeFile(`${moved}.error.txt`, `${failure.code}: ${failure.message}\n`).catch(() => undefined);
      report.fail(failure.code, `${failure.message}; moved to ${moved}`);
    } finally {
      sizes.delete(name);
    }
  };

  while (!context.signal.aborted) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const names = new Set(entries.filter((e) => e.isFile() && !/^[.~]|\.(part|tmp|crdownload)$/i.test(e.name)).map((e) => e.name));
    for (const name of sizes.keys()) if (!names.has(name)) sizes.delete(name);
    for (const name of names) {
      if (busy.has(name) || (notBefore.get(name) ?? 0) > Date.now()) continue;
      const info = await stat(join(dir, name)).catch(() => null);
      if (!info) continue;
      const size = `${info.size}:${info.mtimeMs}`;
      // Taken once two looks agree: a file still being copied in has grown in between.
      if (info.size > 0 && sizes.get(name) === size && busy.size < options.concurrency) {
        const task = take(name).finally(() => busy.delete(name));
        busy.set(name, task);
      } else sizes.set(name, size);
    }
    await sleep(options.interval * 1000, context.signal).catch(() => undefined);
  }
  // Files being read stay where they are; the next start finds their jobs by their keys.
  await Promise.allSettled(busy.values());
  reporter.stop();
  return ExitCode.ok;
}
