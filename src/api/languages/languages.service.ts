import { HttpStatus, Injectable } from '@nestjs/common';
import type { WorkerCapabilities } from '../../contract/workers';
import { AppConfig } from '../../config/config';
import { ApiError, queueUnavailable } from '../errors/api-error';
import { withTimeout } from '../../queue/with-timeout';
import { WorkerRegistry } from '../../queue/worker-registry.service';

export interface LanguageView {
  code: string;
  /** `fast` (Debian's tessdata_fast) or `best_int` (@tesseract.js-data); the fastest a worker has. */
  model: 'fast' | 'best_int';
  /** Live workers that read it. */
  workers: number;
}

export interface LanguagesView {
  /** Used when a job names no languages (OCR_LANGUAGES). */
  default: string;
  workers: number;
  languages: LanguageView[];
  /** Whether every live worker detects page orientation. */
  osd: boolean;
}

const READ_TIMEOUT_MS = 3000;
// Uploads come in bursts; one read of the registry serves them all for a moment.
const CACHE_MS = 2000;

/** What the live workers can read, from the entries they keep fresh in Redis. */
@Injectable()
export class LanguagesService {
  private cached: { at: number; workers: Promise<WorkerCapabilities[]> } | null = null;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly config: AppConfig,
  ) {}

  async list(): Promise<LanguagesView> {
    const workers = await this.workers();
    const byCode = new Map<string, LanguageView>();
    for (const worker of workers) {
      for (const code of worker.languages) {
        const view = byCode.get(code) ?? { code, model: worker.models[code], workers: 0 };
        view.workers += 1;
        if (worker.models[code] === 'fast') view.model = 'fast';
        byCode.set(code, view);
      }
    }
    return {
      default: this.config.ocrLanguages,
      workers: workers.length,
      languages: [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code)),
      osd: workers.length > 0 && workers.every((w) => w.osd),
    };
  }

  /**
   * Refuses languages (["eng", "fra"]) that no live worker reads all of. With no worker alive
   * nothing is known, so the job is accepted and waits for one.
   */
  async check(wanted: readonly string[]): Promise<void> {
    const workers = await this.workers();
    if (!workers.length) return;
    if (workers.some((w) => wanted.every((code) => w.languages.includes(code)))) return;
    const available = [...new Set(workers.flatMap((w) => w.languages))].sort();
    const missing = wanted.filter((code) => !available.includes(code));
    const problem = missing.length
      ? `No worker has an OCR model for ${missing.join(', ')}.`
      : `No single worker has models for all of ${wanted.join(', ')}.`;
    throw new ApiError(HttpStatus.BAD_REQUEST, 'unsupported_language', `${problem} Available: ${available.join(', ')}.`);
  }

  private async workers(): Promise<WorkerCapabilities[]> {
    if (!this.cached || Date.now() - this.cached.at > CACHE_MS) {
      const workers = withTimeout(() => this.registry.live(), READ_TIMEOUT_MS);
      this.cached = { at: Date.now(), workers };
      // A failed read is not kept: the next request asks Redis again.
      workers.catch(() => (this.cached = null));
    }
    try {
      return await this.cached.workers;
    } catch {
      throw queueUnavailable();
    }
  }
}
