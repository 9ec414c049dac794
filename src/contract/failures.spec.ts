import { decodeFailure, encodeFailure, publicFailure } from './failures';

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

describe('failures as clients see them', () => {
  it('keeps our own codes and messages', () => {
    expect(publicFailure('too_many_pages: 900 pages; the limit is 500.')).toEqual({
      code: 'too_many_pages',
      message: '900 pages; the limit is 500.',
    });
  });

  it.each([
    "ENOENT: no such file or directory, open '/data/pages/3f0c/1.json'",
    'Connection is closed.',
    "READONLY You can't write against a read only replica.",
  ])('shows no exception text: %s', (reason) => {
    const shown = publicFailure(reason);
    expect(shown.code).toBe('processing_failed');
    expect(shown.message).not.toContain(reason);
    expect(shown.message).not.toMatch(/\/data|replica|Connection/);
  });

  it('takes storage paths out of our own messages', () => {
    const shown = publicFailure(
      "pdf_invalid: The file is not a readable PDF: ENOENT: no such file or directory, open '/data/uploads/x.pdf'",
    );
    expect(shown).toEqual({
      code: 'pdf_invalid',
      message: "The file is not a readable PDF: ENOENT: no such file or directory, open '<path>'",
    });
  });
});
