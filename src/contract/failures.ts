/**
 * Stable error codes a document can fail with; clients see them as `error.code`. A job's
 * failedReason travels through Redis as "code: message", so only this module writes it and
 * only this module reads it back.
 */
export const FAILURE_CODES = [
  'pdf_invalid',
  'pdf_encrypted',
  'pdf_empty',
  'image_invalid',
  'too_many_pages',
  'invalid_pages',
  'page_too_large',
  'page_timeout',
  'unsupported_language',
  'cancelled',
  'processing_failed',
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];

export interface ErrorBody {
  code: string;
  message: string;
}

const KNOWN = new Set<string>(FAILURE_CODES);

export const encodeFailure = (code: FailureCode, message: string) => `${code}: ${message}`;

/** A known code and its message; anything else (an exception's own text) is `processing_failed`. */
export function decodeFailure(reason: string | undefined | null): { code: FailureCode; message: string } {
  const match = /^([a-z][a-z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (match && KNOWN.has(match[1])) return { code: match[1] as FailureCode, message: match[2] };
  return { code: 'processing_failed', message: reason || 'Processing failed' };
}

// An absolute path of two or more parts, as file-system errors quote them.
const PATH = /(^|[\s'"(`])\/[^\s'"`)]+\/[^\s'"`)]*/g;

/**
 * The error as clients see it: exceptions' own texts (a Redis error, a file-system error
 * naming a storage path) stay in the worker's log, and no path survives in our own messages.
 */
export function publicFailure(reason: string | undefined | null): ErrorBody {
  const { code, message } = decodeFailure(reason);
  const ours = code !== 'processing_failed' || (reason ?? '').startsWith('processing_failed: ');
  if (!ours) return { code, message: 'Processing failed unexpectedly, on every attempt; the worker logs say why.' };
  return { code, message: message.replace(PATH, '$1<path>') };
}
