import { HttpStatus } from '@nestjs/common';
import { getSchemaPath } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { FORMAT_INFO, type ResultFormat } from '../../contract/formats';
import { DEFAULT_IMAGE_WIDTH, MAX_IMAGE_WIDTH, servedImageWidth } from '../../contract/queues';
import { StorageService } from '../../storage/storage.service';
import { ApiError } from '../errors/api-error';
import { FullResultDto, PageResultDto } from './job.dto';
import type { MadeOutput, StoredOutput } from './job-reader.service';

/** The OpenAPI content of each format a resource offers. */
export function resultContent(formats: readonly ResultFormat[]) {
  const schemas: Record<ResultFormat, object> = {
    json: { $ref: getSchemaPath(formats.includes('pdf') ? FullResultDto : PageResultDto) },
    txt: {
      type: 'string',
      description: 'The text, pages separated by form feeds (`\\f`), lines in reading order, a blank line between paragraphs.',
    },
    hocr: {
      type: 'string',
      description:
        'hOCR 1.2 (XHTML): `ocr_page`, `ocr_carea` (a text block), `ocr_par`, `ocr_line`, `ocrx_word` with `bbox` and `x_wconf`.',
    },
    alto: { type: 'string', description: 'ALTO 4.4, `MeasurementUnit` pixel: a `TextBlock` per paragraph; `WC` is word confidence.' },
    pdf: { type: 'string', format: 'binary', description: "The uploaded PDF with an invisible text layer over every OCR'd page." },
  };
  return Object.fromEntries(formats.map((f) => [FORMAT_INFO[f].mediaType, { schema: schemas[f] }]));
}

/** "3" as a page number; anything else names no page. */
export function pageNumber(value: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new ApiError(HttpStatus.NOT_FOUND, 'page_not_found', `"${value}" is not a page number.`);
  return Number(value);
}

/** The width to render for `?width=`: one of IMAGE_WIDTHS, the smallest that covers it. */
export function imageWidth(value: string | undefined): number {
  if (value === undefined) return DEFAULT_IMAGE_WIDTH;
  const width = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(width >= 1 && width <= MAX_IMAGE_WIDTH)) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', `"width" must be a whole number of pixels from 1 to ${MAX_IMAGE_WIDTH}.`);
  }
  return servedImageWidth(width);
}

/** Sends an output, stored or made on request; one made of a cancelled job's pages says so in `Partial-Result`. */
export async function sendOutput(storage: StorageService, req: Request, res: Response, output: StoredOutput | MadeOutput) {
  if ('key' in output) return sendStored(storage, req, res, output);
  res.attachment(output.fileName);
  res.setHeader('Content-Type', output.contentType);
  res.setHeader('Cache-Control', 'private, no-cache');
  if (output.partial) res.setHeader(PARTIAL_HEADER, 'true');
  res.setHeader('ETag', `"${createHash('sha256').update(output.body).digest('base64url').slice(0, 27)}"`);
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Length', String(output.body.length));
  res.end(output.body);
}

/** Sent with `true` on a result made of the pages a cancelled job finished. */
export const PARTIAL_HEADER = 'Partial-Result';

/**
 * Streams a stored output, from a folder or a bucket alike: Content-Length, an ETag from
 * size and modification time, and 304 for a matching If-None-Match. Outputs are private to
 * their key, so no shared caching.
 */
export async function sendStored(storage: StorageService, req: Request, res: Response, output: StoredOutput) {
  const stored = await storage.open(output.key);
  if (!stored) throw new ApiError(HttpStatus.NOT_FOUND, 'not_found', 'The output is no longer stored.');
  res.attachment(output.fileName);
  res.setHeader('Content-Type', output.contentType);
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('ETag', `W/"${stored.size.toString(16)}-${Math.floor(stored.modifiedMs).toString(16)}"`);
  if (req.fresh) {
    stored.body.destroy();
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Length', String(stored.size));
  await pipeline(stored.body, res).catch((error: NodeJS.ErrnoException) => {
    // A client that hangs up mid-download is no server error.
    if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  });
}
