import { exitCodeFor, exitCodeTable, ExitCode } from './exit-codes';

describe('exit codes', () => {
  it("gives the service's errors the OCRmyPDF code of the same meaning", () => {
    expect(exitCodeFor('pdf_encrypted')).toBe(8);
    expect(exitCodeFor('unsupported_media_type')).toBe(2);
    expect(exitCodeFor('pdf_invalid')).toBe(2);
    expect(exitCodeFor('too_many_pages')).toBe(2);
    expect(exitCodeFor('invalid_pages')).toBe(1);
    expect(exitCodeFor('unsupported_language')).toBe(1);
    expect(exitCodeFor('service_unreachable')).toBe(3);
    expect(exitCodeFor('format_unavailable')).toBe(4);
    expect(exitCodeFor('output_unwritable')).toBe(5);
    expect(exitCodeFor('page_timeout')).toBe(7);
    expect(exitCodeFor('interrupted')).toBe(130);
  });

  it('gives any other code other_error (15)', () => {
    expect(exitCodeFor('cancelled')).toBe(ExitCode.otherError);
    expect(exitCodeFor('something_new')).toBe(15);
  });

  it('lists every code once, by exit code, for the help and README', () => {
    const table = exitCodeTable();
    expect(table.map(([code]) => code)).toEqual([1, 2, 3, 4, 5, 7, 8, 130]);
    const codes = table.flatMap(([, errors]) => errors);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [exit, errors] of table) for (const error of errors) expect(exitCodeFor(error)).toBe(exit);
  });
});
