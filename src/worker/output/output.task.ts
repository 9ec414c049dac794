/**
 * Runs in the output thread pool (see output-pool.service.ts): building a long document's
 * hOCR or ALTO, and parsing and rewriting its PDF, are seconds of synchronous work that must
 * not hold up the worker's event loop (BullMQ renews its locks there).
 */
import { rename, readFile, writeFile } from 'node:fs/promises';
import { TEXT_FORMATS, type TextFormat } from '../../contract/formats';
import type { DocumentResult, PageResult } from '../../contract/results';
import { altoDocument } from '../formats/alto';
import { hocrDocument, type OutputMeta } from '../formats/hocr';
import { searchablePdf } from './searchable-pdf';

/** Where each output of a document goes, as absolute paths. */
export interface TextOutputsTask {
  result: string;
  meta: OutputMeta;
  software: { name: string; version: string };
  document: Record<TextFormat, string>;
  /** Per page number. */
  pages: Record<number, Record<TextFormat, string>>;
}

/** One builder per format of the contract's list: a format added there fails to compile until it has one here. */
const BUILDERS: Record<TextFormat, (pages: PageResult[], text: string, task: TextOutputsTask) => string | Iterable<string>> = {
  txt: (_pages, text) => text,
  hocr: (pages, _text, task) => hocrDocument(pages, task.meta),
  alto: (pages, _text, task) => altoDocument(pages, task.meta, task.software),
};

export interface PdfOutputTask {
  result: string;
  upload: string;
  target: string;
}

export type PdfOutcome = { ok: true; bytes: number } | { ok: false; message: string };

/** Write then rename, so that a reader never sees half a file. */
async function put(path: string, data: string | Uint8Array | Iterable<string>) {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}

async function readResult(path: string): Promise<DocumentResult> {
  return JSON.parse(await readFile(path, 'utf8')) as DocumentResult;
}

export async function writeTextOutputs(task: TextOutputsTask): Promise<void> {
  const result = await readResult(task.result);
  for (const page of result.pages) {
    const target = task.pages[page.page];
    if (!target) continue;
    for (const format of TEXT_FORMATS) await put(target[format], BUILDERS[format]([page], page.text, task));
  }
  for (const format of TEXT_FORMATS) await put(task.document[format], BUILDERS[format](result.pages, result.text, task));
}

/** The searchable PDF, or why it could not be made (the other outputs do not depend on it). */
export async function writeSearchablePdf(task: PdfOutputTask): Promise<PdfOutcome> {
  try {
    const result = await readResult(task.result);
    const bytes = await searchablePdf(await readFile(task.upload), result.pages);
    await put(task.target, bytes);
    return { ok: true, bytes: bytes.length };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
