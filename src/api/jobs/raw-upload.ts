import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { saveCapped } from '../../outbound/download';
import { tooLarge } from './upload-size.guard';

/**
 * A PDF sent as the whole request body (`Content-Type: application/pdf`), streamed to disk
 * under a name of our own and cut off past `limit` bytes, like a multipart upload.
 */
export async function receiveRawPdf(req: Request, dir: string, limit: number): Promise<Express.Multer.File> {
  const path = join(dir, randomUUID());
  let size: number;
  try {
    size = await saveCapped(req, path, limit, () => tooLarge(limit));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, fieldname: 'file', originalname: 'upload.pdf', mimetype: 'application/pdf' } as Express.Multer.File;
}
