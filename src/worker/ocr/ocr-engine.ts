import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createWorker, OEM, PSM, Worker } from 'tesseract.js';

/**
 * One tesseract.js engine: created once, re-initialised when a page asks for other
 * languages, and replaced after `recycleAfter` pages because the wasm heap only grows.
 * With `detectOrientation`, Tesseract first finds which way up the page is (OSD, which
 * needs the core build with the legacy engine) and reads sideways or upside-down scans;
 * its boxes stay in the coordinates of the image it was given.
 */
export class OcrEngine {
  private worker: Worker | null = null;
  private languages = '';
  private pages = 0;
  /** Engines replaced after `recycleAfter` pages, for the worker's metrics. */
  recycled = 0;

  constructor(
    private readonly langPath: string,
    private readonly recycleAfter: number,
    private readonly detectOrientation: boolean,
  ) {}

  async recognize(image: Buffer, languages: string, dpi: number) {
    const worker = await this.ready(languages);
    this.pages += 1;
    // The PGM carries no resolution; without this Tesseract guesses it from glyph sizes.
    await worker.setParameters({ user_defined_dpi: String(Math.round(dpi)) });
    const { data } = await worker.recognize(image, {}, { text: true, blocks: true });
    return data;
  }

  async warmUp(languages: string) {
    await this.ready(languages);
  }

  async terminate() {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private async ready(languages: string): Promise<Worker> {
    if (this.worker && this.pages >= this.recycleAfter) {
      await this.terminate();
      this.recycled += 1;
    }
    if (!this.worker) {
      this.worker = await createWorker(languages, OEM.LSTM_ONLY, {
        langPath: this.langPath,
        gzip: false,
        cacheMethod: 'none',
        legacyCore: this.detectOrientation,
        // Without a handler tesseract.js rethrows inside its message listener and kills the thread.
        errorHandler: () => undefined,
      });
      if (this.detectOrientation) {
        // Tesseract loads osd.traineddata by itself for PSM.AUTO_OSD; it only has to be there.
        const osd = await readFile(join(this.langPath, 'osd.traineddata'));
        await this.worker.FS('writeFile', ['osd.traineddata', osd[0] === 0x1f && osd[1] === 0x8b ? gunzipSync(osd) : osd]);
      }
      await this.worker.setParameters({
        tessedit_pageseg_mode: this.detectOrientation ? PSM.AUTO_OSD : PSM.AUTO,
        preserve_interword_spaces: '0',
        // Tesseract's diagnostics ("Estimating resolution", OSD notes) would break JSON log lines.
        debug_file: '/dev/null',
      });
      this.languages = languages;
      this.pages = 0;
    } else if (languages !== this.languages) {
      await this.worker.reinitialize(languages, OEM.LSTM_ONLY);
      this.languages = languages;
    }
    return this.worker;
  }
}
