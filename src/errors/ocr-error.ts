/**
 * Stable error codes a document can fail with. They reach clients as `error.code`.
 * A job's failedReason is stored as "code: message" so the API can read it back.
 */
export type DocumentErrorCode =
  | 'pdf_invalid'
  | 'pdf_encrypted'
  | 'pdf_empty'
  | 'too_many_pages'
  | 'invalid_pages'
  | 'page_too_large'
  | 'page_timeout'
  | 'cancelled'
  | 'processing_failed';

export interface ErrorBody {
  code: string;
  message: string;
}

export const formatReason = (code: DocumentErrorCode, message: string) => `${code}: ${message}`;

export function parseReason(reason: string | undefined | null): ErrorBody {
  const match = /^([a-z][a-z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (match) return { code: match[1], message: match[2] };
  return { code: 'processing_failed', message: reason || 'Processing failed' };
}
