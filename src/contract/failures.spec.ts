import { decodeFailure, encodeFailure } from './failures';

describe('failure reasons', () => {
  it('round-trips a code and a message, even a multi-line one', () => {
    expect(decodeFailure(encodeFailure('pdf_encrypted', 'Needs a password.\nTry again.'))).toEqual({
      code: 'pdf_encrypted',
      message: 'Needs a password.\nTry again.',
    });
  });

  it('reports anything else as processing_failed', () => {
    expect(decodeFailure('ECONNRESET')).toEqual({ code: 'processing_failed', message: 'ECONNRESET' });
    expect(decodeFailure(undefined)).toEqual({ code: 'processing_failed', message: 'Processing failed' });
  });

  it('does not take an unknown word before a colon for a code', () => {
    expect(decodeFailure('timeout: the socket closed')).toEqual({ code: 'processing_failed', message: 'timeout: the socket closed' });
  });
});
