import { jobOptionsOf, runProgram, type Actions, type BatchOptions, type SingleOptions, type WatchOptions } from './program';

/** Runs the parser with actions that only record what they were given. */
async function parse(...argv: string[]) {
  const calls: { action: string; args: unknown[] }[] = [];
  let out = '';
  let err = '';
  const record =
    (action: string) =>
    async (...args: unknown[]) => {
      calls.push({ action, args });
      return 0;
    };
  const actions = { single: record('single'), batch: record('batch'), watch: record('watch') } as unknown as Actions;
  const code = await runProgram(argv, actions, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, call: calls[0], out, err };
}

describe('the command line', () => {
  const env = process.env;
  beforeEach(() => {
    process.env = { ...env };
    delete process.env.OCR_SERVER;
    delete process.env.OCR_API_KEY;
  });
  afterAll(() => (process.env = env));

  it('takes `ocr in out` with the OCRmyPDF option names', async () => {
    const { code, call } = await parse('-l', 'eng+deu', '--sidecar', 'out.txt', '--force-ocr', '--pages', '1-3', 'in.pdf', 'out.pdf');
    expect(code).toBe(0);
    expect(call.action).toBe('single');
    const [input, output, options] = call.args as [string, string, SingleOptions];
    expect([input, output]).toEqual(['in.pdf', 'out.pdf']);
    expect(options).toMatchObject({ sidecar: 'out.txt', format: 'pdf', outputType: 'pdf', server: 'http://localhost:3000' });
    expect(jobOptionsOf(options)).toEqual({ languages: 'eng+deu', pages: '1-3', ocr: 'always' });
  });

  it('joins repeated -l, defaults to ocr=auto, and takes the server and key from the environment', async () => {
    process.env.OCR_SERVER = 'https://ocr.example.com';
    process.env.OCR_API_KEY = 'k-123';
    const { call } = await parse('-l', 'eng', '-l', 'fra', '--skip-text', '-', '-', '--format', 'txt');
    const options = call.args[2] as SingleOptions;
    expect(options).toMatchObject({ server: 'https://ocr.example.com', apiKey: 'k-123', format: 'txt' });
    expect(jobOptionsOf(options)).toEqual({ languages: 'eng+fra', pages: undefined, ocr: 'auto' });
    expect((await parse('--server', 'http://other:3000', 'a', 'b')).call.args[2]).toMatchObject({ server: 'http://other:3000' });
  });

  it('takes batch paths, formats and concurrency, and watch its interval', async () => {
    const batch = await parse('batch', 'scans/', 'one.pdf', '--out', 'ocr/', '--format', 'pdf,txt,pdf', '-j', '4', '--ocr', 'never');
    expect(batch.call.action).toBe('batch');
    const [paths, options] = batch.call.args as [string[], BatchOptions];
    expect(paths).toEqual(['scans/', 'one.pdf']);
    expect(options).toMatchObject({ out: 'ocr/', format: ['pdf', 'txt'], concurrency: 4 });
    expect(jobOptionsOf(options).ocr).toBe('never');
    const watch = await parse('watch', 'inbox', '-o', 'ocr', '--interval', '0.5');
    expect(watch.call.args[0]).toBe('inbox');
    expect(watch.call.args[1] as WatchOptions).toMatchObject({ out: 'ocr', interval: 0.5, format: ['pdf'], concurrency: 2 });
  });

  it.each([
    [['--bogus', 'a', 'b'], 'Usage: ocr [options]'],
    [['a'], "missing required argument 'output'"],
    [['--format', 'docx', 'a', 'b'], 'Allowed choices are pdf, txt, json, hocr, alto'],
    [['--output-type', 'pdfa', 'a', 'b'], 'Allowed choices are pdf, none'],
    [['--force-ocr', '--skip-text', 'a', 'b'], 'cannot be used with'],
    [['batch', 'x'], "required option '-o, --out <dir>' not specified"],
    [['batch', 'x', '-o', 'y', '--format', 'pdf,doc'], '"doc" is not one of'],
    [['batch', 'x', '-o', 'y', '-j', '0'], 'Not a whole number'],
    [['watch', 'x', '-o', 'y', '--bogus'], 'Usage: ocr watch [options] <dir>'],
  ])('exits 2 with usage on %j', async (argv, message) => {
    const { code, call, err } = await parse(...argv);
    expect(code).toBe(2);
    expect(call).toBeUndefined();
    expect(err).toContain(message);
    expect(err).toContain('Usage: ocr');
  });

  it('prints help and exits 0', async () => {
    for (const argv of [['--help'], ['batch', '--help'], ['help', 'watch']]) {
      const { code, out, call } = await parse(...argv);
      expect(code).toBe(0);
      expect(call).toBeUndefined();
      expect(out).toContain('Usage: ocr');
    }
  });
});
