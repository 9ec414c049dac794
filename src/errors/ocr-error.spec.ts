import { formatReason, parseReason } from './ocr-error';

describe('failure reasons', () => {
  it('round-trips a code and a message, even a multi-line one', () => {
    expect(parseReason(formatReason('pdf_encrypted', 'Needs a password.\nTry again.'))).toEqual({ code: 'pdf_encrypted', message: 'Needs a password.\nTry again.' });
  });

  it('reports anything else as processing_failed', () => {
    expect(parseReason('ECONNRESET')).toEqual({ code: 'processing_failed', message: 'ECONNRESET' });
    expect(parseReason(undefined)).toEqual({ code: 'processing_failed', message: 'Processing failed' });
  });
});
