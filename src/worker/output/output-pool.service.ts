import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Piscina } from 'piscina';
import { AppConfig } from '../../config/config';
import { COMPILED_POOL_FILES, POOL_FILES, type PoolFiles } from '../pool-files';
import type { PdfOutcome, PdfOutputTask, TextOutputsTask } from './output.task';

/**
 * Threads that write a finished document's outputs (text, hOCR, ALTO, searchable PDF).
 * Started when a document is assembled and stopped when idle: most of the time there is
 * nothing for them to do.
 */
@Injectable()
export class OutputPoolService implements OnApplicationShutdown {
  private readonly pool: Piscina;

  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(POOL_FILES) files: PoolFiles = COMPILED_POOL_FILES,
  ) {
    this.pool = new Piscina({ filename: files.output, minThreads: 0, maxThreads: 2, idleTimeout: 30_000 });
  }

  async writeTextOutputs(task: TextOutputsTask): Promise<void> {
    await this.pool.run(task, { name: 'writeTextOutputs' });
  }

  /**
   * pdf-lib parses the whole upload, which a hostile file can make slow: past the limit the
   * thread is terminated and the document completes without its searchable PDF.
   */
  async writeSearchablePdf(task: PdfOutputTask): Promise<PdfOutcome> {
    const limit = this.config.pageTimeoutMs;
    try {
      return (await this.pool.run(task, { name: 'writeSearchablePdf', signal: AbortSignal.timeout(limit) })) as PdfOutcome;
    } catch (error) {
      if ((error as Error).name === 'AbortError') return { ok: false, message: `Writing the PDF took longer than ${limit} ms.` };
      throw error;
    }
  }

  async onApplicationShutdown() {
    await this.pool.destroy();
  }
}
