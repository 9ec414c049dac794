/**
 * Stable error codes a document can fail with; clients see them as `error.code`. A job's
 * failedReason travels through Redis as "code: message", so only this module writes it and
 * only this module reads it back.
 */
export const FAILURE_CODES = [
  'pdf_invalid',
  'pdf_encrypted',
  'pdf_empty',
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
