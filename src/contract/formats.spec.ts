import { downloadBaseName } from './formats';

describe('download names', () => {
  it.each([
    ['scan.pdf', 'scan'],
    ['Report 2026.PDF', 'Report 2026'],
    ['C:\\Users\\me\\Ελληνικά.pdf', 'Ελληνικά'],
    ['../../etc/passwd', 'passwd'],
    ['say "hi"\u0000\n.pdf', 'say hi'],
    ['', 'document'],
    [null, 'document'],
    ['..', 'document'],
    ['x'.repeat(300), 'x'.repeat(100)],
  ])('%j gives %j', (name, base) => {
    expect(downloadBaseName(name)).toBe(base);
  });
});
