import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tooLarge } from './upload-size.guard';

/**
 * A PDF sent as the whole request body (`Content-Type: application/pdf`), streamed to disk
 * under a name of our own and cut off past `limit` bytes, like a multipart upload.
 */
export async function receiveRawPdf(req: Request, dir: string, limit: number): Promise<Express.Multer.File> {
  const path = join(dir, randomUUID());
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? tooLarge(limit) : null, chunk);
    },
  });
  try {
    await pipeline(req, counter, createWriteStream(path));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, fieldname: 'file', originalname: 'upload.pdf', mimetype: 'application/pdf' } as Express.Multer.File;
}
