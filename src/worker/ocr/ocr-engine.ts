import { createWorker, OEM, PSM, Worker } from 'tesseract.js';
import { THRESHOLDING_METHOD, Thresholding } from './binarisation';
import type { TessBlock } from './ocr-result';
import type { OrientationGuess } from './orientation';

/**
 * One tesseract.js engine: created once, re-initialised when a page asks for other
 * languages, and replaced after `recycleAfter` pages because the wasm heap only grows.
 * With `osd`, the engine is the core build with the legacy engine, which Tesseract's
 * orientation detection needs; detection is a separate call, run only on pages that
 * read poorly (see pdf.task.ts).
 */
export class OcrEngine {
  private worker: Worker | null = null;
  private osdWorker: Promise<Worker> | null = null;
  private languages = '';
  private pages = 0;
  private preparing: Promise<unknown> = Promise.resolve();
  /** Engines replaced after `recycleAfter` pages, for the worker's metrics. */
  recycled = 0;

  constructor(
    private readonly langPath: string,
    private readonly recycleAfter: number,
    readonly osd: boolean,
    private readonly psm: PSM = PSM.AUTO,
    private readonly parameters: Record<string, string> = {},
  ) {}

  async recognize(image: Buffer, languages: string, dpi: number, thresholding: Thresholding): Promise<TessBlock[]> {
    const worker = await this.ready(languages);
    this.pages += 1;
    await worker.setParameters({
      // The PGM carries no resolution; without this Tesseract guesses it from glyph sizes.
      user_defined_dpi: String(Math.round(dpi)),
      thresholding_method: THRESHOLDING_METHOD[thresholding],
    });
    // Only the blocks are used; tesseract.js would otherwise also build the plain text.
    const { data } = await worker.recognize(image, {}, { text: false, blocks: true });
    return (data.blocks ?? []) as unknown as TessBlock[];
  }

  /** Null when the engine has no OSD or Tesseract found too little text to decide. */
  async detectOrientation(image: Buffer, dpi: number): Promise<OrientationGuess | null> {
    if (!this.osd) return null;
    // Detection classifies blobs with the legacy engine of osd.traineddata, so it needs an
    // engine initialised with that model; it is started on the first page that needs it.
    this.osdWorker ??= createWorker('osd', OEM.TESSERACT_ONLY, {
      langPath: this.langPath,
      gzip: false,
      cacheMethod: 'none',
      legacyCore: true,
      legacyLang: true,
      errorHandler: () => undefined,
    });
    const osd = await this.osdWorker;
    await osd.setParameters({ user_defined_dpi: String(Math.round(dpi)), debug_file: '/dev/null' });
    const { data } = await osd.detect(image);
    if (data.orientation_degrees === null || data.orientation_confidence === null) return null;
    // tesseract.js reports Tesseract's "Rotate" value: the clockwise turn that rights the page.
    return { degrees: data.orientation_degrees as OrientationGuess['degrees'], confidence: data.orientation_confidence };
  }

  async warmUp(languages: string) {
    await this.ready(languages);
  }

  async terminate() {
    const [worker, osd] = [this.worker, this.osdWorker];
    this.worker = null;
    this.osdWorker = null;
    await Promise.all([worker?.terminate(), osd?.then((w) => w.terminate())]);
  }

  /**
   * One preparation at a time: the warm-up and the first page used to race, and the loser's
   * settings went to the other engine, leaving one with tesseract.js' default PSM 6.
   */
  private ready(languages: string): Promise<Worker> {
    const ready = this.preparing.then(() => this.prepare(languages));
    this.preparing = ready.catch(() => undefined);
    return ready;
  }

  private async prepare(languages: string): Promise<Worker> {
    if (this.worker && this.pages >= this.recycleAfter) {
      await this.terminate();
      this.recycled += 1;
    }
    if (!this.worker) {
      const worker = await createWorker(languages, OEM.LSTM_ONLY, {
        langPath: this.langPath,
        gzip: false,
        cacheMethod: 'none',
        // Without a handler tesseract.js rethrows inside its message listener and kills the thread.
        errorHandler: () => undefined,
      });
      await worker.setParameters({
        tessedit_pageseg_mode: this.psm,
        preserve_interword_spaces: '0',
        // Tesseract's diagnostics ("Estimating resolution", OSD notes) would break JSON log lines.
        debug_file: '/dev/null',
        ...this.parameters,
      });
      this.worker = worker;
      this.languages = languages;
      this.pages = 0;
    } else if (languages !== this.languages) {
      await this.worker.reinitialize(languages, OEM.LSTM_ONLY);
      this.languages = languages;
    }
    return this.worker;
  }
}
