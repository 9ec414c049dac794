import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../errors/api-error';
import { JOB_OPTION_NAMES, type JobOptionName } from '../../contract/job-options';

/** Enough for a 2048-character url, outputUrl and callbackUrl and the other options. */
export const JSON_LIMIT = 16 * 1024;
const FIELDS = ['url', ...JOB_OPTION_NAMES] as const;

export const jsonTooLarge = () =>
  new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, 'json_too_large', `A JSON request is at most ${JSON_LIMIT} bytes.`);
export const isJson = (type: string | undefined) => /^application\/json\s*(;|$)/i.test(type ?? '');

const invalid = (message: string) => new ApiError(HttpStatus.BAD_REQUEST, 'invalid_json', message);

/**
 * `POST /v1/jobs` with `Content-Type: application/json`: `{ "url": ..., options }`. Read
 * here, within 16 KiB, rather than by a body parser for every route. Options take the
 * form fields' values; `retention` may be a number and `languages` a list as well. The
 * options are checked by contract/job-options.ts, as every upload's are; only the JSON
 * types are checked here.
 */
export async function readUrlRequest(req: Request): Promise<{ url: string; values: Partial<Record<JobOptionName, unknown>> }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > JSON_LIMIT) {
      req.resume();
      throw jsonTooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalid('The body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The body must be a JSON object.');
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!(FIELDS as readonly string[]).includes(name)) throw invalid(`Unknown field "${name}"; the fields are ${FIELDS.join(', ')}.`);
    if (value === null || value === undefined) continue;
    if (!jsonTypeFits(name, value)) {
      throw invalid(
        `"${name}" must be a string${name === 'retention' ? ' or a number' : name === 'languages' ? ' or a list of strings' : ''}.`,
      );
    }
    fields[name] = value;
  }
  const { url, ...values } = fields;
  if (typeof url !== 'string' || !url.trim())
    throw new ApiError(HttpStatus.BAD_REQUEST, 'file_missing', 'A JSON request names its PDF in "url".');
  return { url: url.trim(), values };
}

/** Every field is a string; `retention` may be a number and `languages` a list of strings. */
function jsonTypeFits(name: string, value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (name === 'retention') return typeof value === 'number';
  return name === 'languages' && Array.isArray(value) && value.every((code) => typeof code === 'string');
}
