import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** What the service is asked to do with a file: the same file with other options is another job. */
export interface JobOptions {
  languages?: string;
  pages?: string;
  ocr: 'auto' | 'always' | 'never';
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The Idempotency-Key of a file's job: its bytes and the options, so that a rerun after a
 * crash or Ctrl-C finds the job it had started (the service answers 200 with that job) rather
 * than reading the file again. The service compares the file, not the options, so they must be
 * part of the key; languages and pages are normalised so `eng+deu` and ` eng+deu` agree.
 */
export function idempotencyKey(fileSha256: string, options: JobOptions): string {
  const canonical = JSON.stringify({
    sha256: fileSha256,
    languages: options.languages?.trim() || null,
    pages: options.pages?.replace(/\s+/g, '') || null,
    ocr: options.ocr,
  });
  return `ocr-cli-${createHash('sha256').update(canonical).digest('hex')}`;
}
