import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface LanguageModel {
  code: string;
  file: string;
  origin: 'system' | 'npm';
}

const npmDataRoot = () => dirname(dirname(require.resolve('@tesseract.js-data/eng/package.json')));

/**
 * Every language whose model is installed: Debian's tessdata_fast files in `modelDir`
 * first (faster), then the `@tesseract.js-data/*` npm packages (best_int). Nothing is
 * ever downloaded.
 */
export function findLanguageModels(modelDir: string): Map<string, LanguageModel> {
  const models = new Map<string, LanguageModel>();
  if (existsSync(modelDir)) {
    for (const name of readdirSync(modelDir)) {
      const match = /^([a-z_]+)\.traineddata$/.exec(name);
      if (match && match[1] !== 'osd') models.set(match[1], { code: match[1], file: join(modelDir, name), origin: 'system' });
    }
  }
  const npmRoot = npmDataRoot();
  for (const code of readdirSync(npmRoot)) {
    const file = join(npmRoot, code, '4.0.0_best_int', `${code}.traineddata.gz`);
    if (!models.has(code) && code !== 'osd' && existsSync(file)) models.set(code, { code, file, origin: 'npm' });
  }
  return models;
}

/**
 * Tesseract's orientation and script model, used to OCR pages scanned sideways or upside
 * down: Debian's `tesseract-ocr-osd` first, else the legacy data of `@tesseract.js-data/osd`.
 */
export function findOsdModel(modelDir: string): string | null {
  const system = join(modelDir, 'osd.traineddata');
  if (existsSync(system)) return system;
  const npm = join(npmDataRoot(), 'osd', '4.0.0', 'osd.traineddata.gz');
  return existsSync(npm) ? npm : null;
}

/**
 * tesseract.js reads `<langPath>/<code>.traineddata` for every language of a worker and
 * detects gzip by its magic bytes, so one folder of links can serve models of both origins.
 */
export function prepareLangPath(models: Map<string, LanguageModel>, osdModel: string | null): string {
  const dir = join(tmpdir(), `ocr-tessdata-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const model of models.values()) symlinkSync(model.file, join(dir, `${model.code}.traineddata`));
  if (osdModel) symlinkSync(osdModel, join(dir, 'osd.traineddata'));
  return dir;
}
