/**
 * What the CLI tells a person while it works, on stderr so stdout stays the output: bars on a
 * terminal (cli-progress), one line per event otherwise (a log, a CI job, a pipe).
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Progress } from './client';

export interface FileReport {
  update(progress: Progress): void;
  done(message: string): void;
  fail(code: string, message: string): void;
}

export interface Reporter {
  file(name: string): FileReport;
  /** A file left alone (its outputs exist). */
  skipped(name: string, message: string): void;
  notice(message: string): void;
  stop(): void;
}

/** Pages done and seen over time, for pages/min and the ETA of the whole run. */
export class Totals {
  private readonly started = Date.now();
  private readonly files = new Map<string, { done: number; total: number | null }>();
  filesDone = 0;

  constructor(readonly filesTotal: number) {}

  set(name: string, progress: Progress) {
    this.files.set(name, { done: progress.pagesDone, total: progress.pagesTotal });
  }

  /** A file ended (written, failed or skipped): what it did is all it will do. */
  settle(name: string) {
    const done = this.files.get(name)?.done ?? 0;
    this.files.set(name, { done, total: done });
    this.filesDone++;
  }

  get pagesDone() {
    return [...this.files.values()].reduce((sum, f) => sum + f.done, 0);
  }

  /** Files not yet opened count as one page each, files not yet sent too. */
  get pagesTotal() {
    const seen = [...this.files.values()].reduce((sum, f) => sum + Math.max(f.total ?? 1, f.done), 0);
    return seen + Math.max(0, this.filesTotal - this.files.size);
  }

  /** Pages per minute since the start, or null before the first page. */
  rate(now = Date.now()): number | null {
    const minutes = (now - this.started) / 60_000;
    return this.pagesDone > 0 && minutes > 0 ? this.pagesDone / minutes : null;
  }

  eta(now = Date.now()): string {
    const rate = this.rate(now);
    if (!rate) return '--:--';
    const seconds = Math.round(((this.pagesTotal - this.pagesDone) / rate) * 60);
    const h = Math.floor(seconds / 3600);
    const mm = String(Math.floor((seconds % 3600) / 60)).padStart(h ? 2 : 1, '0');
    const ss = String(seconds % 60).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  summary(): string {
    const rate = this.rate();
    return `${this.filesDone}/${this.filesTotal} files, ${this.pagesDone}/${this.pagesTotal} pages, ${rate ? Math.round(rate) : '-'} pages/min, ETA ${this.eta()}`;
  }
}

const pages = (p: Progress) => `${p.pagesDone}/${p.pagesTotal ?? '?'} pages`;

export class LineReporter implements Reporter {
  constructor(
    private readonly totals: Totals | null,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  file(name: string): FileReport {
    let last = '';
    return {
      update: (progress) => {
        this.totals?.set(name, progress);
        const line = `${name}: ${progress.status}${progress.status === 'processing' ? `, ${pages(progress)}` : ''}`;
        if (line !== last) this.write((last = line));
      },
      done: (message) => this.finished(name, `${name}: ${message}`),
      fail: (code, message) => this.finished(name, `${name}: failed, ${code}: ${message}`),
    };
  }

  private finished(name: string, line: string) {
    this.totals?.settle(name);
    this.write(this.totals ? `${line} [${this.totals.summary()}]` : line);
  }

  skipped(name: string, message: string) {
    this.finished(name, `${name}: skipped, ${message}`);
  }

  notice(message: string) {
    this.write(message);
  }

  stop() {}
}

export class BarReporter implements Reporter {
  private readonly bars = new MultiBar(
    { clearOnComplete: false, hideCursor: true, forceRedraw: true, autopadding: true, barsize: 20, stream: process.stderr },
    Presets.shades_classic,
  );
  private readonly overall: SingleBar | null;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly totals: Totals | null) {
    this.overall = totals
      ? this.bars.create(totals.pagesTotal, 0, this.overallPayload(), {
          format: '{bar} {percentage}% | {files} files | {value}/{total} pages | {rate} pages/min | ETA {etaText}',
        })
      : null;
    // The rate and ETA move with time, not only with pages.
    this.ticker = setInterval(() => this.refresh(), 1000);
    this.ticker.unref();
  }

  private overallPayload() {
    const rate = this.totals?.rate();
    return {
      files: `${this.totals?.filesDone ?? 0}/${this.totals?.filesTotal ?? 0}`,
      rate: rate ? Math.round(rate) : '-',
      etaText: this.totals?.eta() ?? '',
    };
  }

  private refresh() {
    if (!this.overall || !this.totals) return;
    this.overall.setTotal(this.totals.pagesTotal);
    this.overall.update(this.totals.pagesDone, this.overallPayload());
  }

  file(name: string): FileReport {
    const bar = this.bars.create(1, 0, { name, status: 'sending' }, { format: '{bar} {value}/{total} pages | {status} | {name}' });
    const end = (line: string) => {
      this.bars.remove(bar);
      this.totals?.settle(name);
      this.bars.log(`${line}\n`);
      this.refresh();
    };
    return {
      update: (progress) => {
        this.totals?.set(name, progress);
        bar.setTotal(Math.max(progress.pagesTotal ?? 1, progress.pagesDone, 1));
        bar.update(progress.pagesDone, { name, status: progress.status });
        this.refresh();
      },
      done: (message) => end(`${name}: ${message}`),
      fail: (code, message) => end(`${name}: failed, ${code}: ${message}`),
    };
  }

  skipped(name: string, message: string) {
    this.totals?.settle(name);
    this.bars.log(`${name}: skipped, ${message}\n`);
    this.refresh();
  }

  notice(message: string) {
    this.bars.log(`${message}\n`);
  }

  stop() {
    clearInterval(this.ticker);
    this.refresh();
    this.bars.stop();
  }
}

export class SilentReporter implements Reporter {
  file(): FileReport {
    return { update: () => undefined, done: () => undefined, fail: () => undefined };
  }
  skipped() {}
  notice() {}
  stop() {}
}

/** Bars on a terminal, lines elsewhere; `quiet` only errors (which the caller prints). */
export function reporterFor(options: { quiet: boolean; files: number | null }): Reporter {
  if (options.quiet) return new SilentReporter();
  const totals = options.files === null ? null : new Totals(options.files);
  if (process.stderr.isTTY) return new BarReporter(totals);
  return new LineReporter(totals);
}
