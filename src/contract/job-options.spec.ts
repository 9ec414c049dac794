import { JOB_OPTION_NAMES, JobOptionError, languageCodes, parseJobOptions, queuedOptions, retentionOf } from './job-options';

const defaults = { ocrLanguages: 'eng', resultTtlSeconds: 3600, maxRetentionSeconds: 86_400 };

/** The error parseJobOptions throws for `input`, as code, option and message. */
function refusal(input: Record<string, unknown>, from: 'form' | 'json' = 'form') {
  try {
    parseJobOptions(input, defaults, from);
  } catch (error) {
    if (error instanceof JobOptionError) return { code: error.code, option: error.option, message: error.message };
    throw error;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe('job options', () => {
  it('applies the defaults to an upload without options, and to blank ones', () => {
    const expected = {
      languages: ['eng'],
      pages: null,
      ocr: 'auto',
      retention: 3600,
      callbackUrl: null,
      outputUrl: null,
      outputFormat: 'pdf',
    };
    expect(parseJobOptions({}, defaults, 'form')).toEqual(expected);
    expect(parseJobOptions(Object.fromEntries(JOB_OPTION_NAMES.map((name) => [name, '  '])), defaults, 'form')).toEqual(expected);
  });

  it('parses each option into the type the worker uses', () => {
    const options = parseJobOptions(
      {
        languages: ' eng+deu+eng ',
        pages: '3, 1-2',
        ocr: 'never',
        retention: '60',
        callbackUrl: ' https://example.com/hook ',
        outputUrl: 'https://example.com/put',
        outputFormat: 'txt',
      },
      defaults,
      'form',
    );
    expect(options).toEqual({
      languages: ['eng', 'deu'],
      pages: [
        [3, 3],
        [1, 2],
      ],
      ocr: 'never',
      retention: 60,
      callbackUrl: 'https://example.com/hook',
      outputUrl: 'https://example.com/put',
      outputFormat: 'txt',
    });
  });

  it('takes a list of languages and a number of seconds from JSON', () => {
    const options = parseJobOptions({ languages: ['deu', ' fra'], retention: 120 }, defaults, 'json');
    expect(options.languages).toEqual(['deu', 'fra']);
    expect(options.retention).toBe(120);
    expect(parseJobOptions({ languages: [] }, defaults, 'json').languages).toEqual(['eng']);
  });

  it.each(JOB_OPTION_NAMES)('refuses "%s" given twice in a form or query string', (name) => {
    expect(refusal({ [name]: ['a', 'b'] })).toEqual({
      code: 'invalid_option',
      option: name,
      message: `"${name}" was given more than once; give it once.`,
    });
  });

  it.each([
    [
      { retention: '0' },
      'invalid_option',
      'retention',
      '"retention" must be a whole number of seconds from 1 to 86400 (MAX_RETENTION_SECONDS).',
    ],
    [
      { retention: '86401' },
      'invalid_option',
      'retention',
      '"retention" must be a whole number of seconds from 1 to 86400 (MAX_RETENTION_SECONDS).',
    ],
    [
      { retention: '1.5' },
      'invalid_option',
      'retention',
      '"retention" must be a whole number of seconds from 1 to 86400 (MAX_RETENTION_SECONDS).',
    ],
    [{ languages: 'en' }, 'unsupported_language', 'languages', '"en" is not a list of language codes such as "eng" or "eng+fra".'],
    [{ languages: 'eng+' }, 'unsupported_language', 'languages', '"eng+" is not a list of language codes such as "eng" or "eng+fra".'],
    [{ pages: '3-1' }, 'invalid_pages', 'pages', expect.stringContaining('3-1') as unknown as string],
    [{ ocr: 'sometimes' }, 'invalid_option', 'ocr', '"ocr" must be one of auto, always, never.'],
    [
      { outputUrl: 'https://example.com/put', outputFormat: 'docx' },
      'invalid_option',
      'outputFormat',
      '"outputFormat" must be one of json, txt, hocr, alto, pdf.',
    ],
    [{ outputFormat: 'txt' }, 'invalid_option', 'outputFormat', '"outputFormat" needs an "outputUrl".'],
  ])('refuses %j with %s', (input, code, option, message) => {
    expect(refusal(input)).toEqual({ code, option, message });
  });

  it('refuses JSON values of the wrong type', () => {
    expect(refusal({ retention: 1.5 }, 'json').option).toBe('retention');
    expect(refusal({ ocr: 3 }, 'json')).toMatchObject({ code: 'invalid_option', option: 'ocr' });
  });

  it('names the first option refused, in the order the options are checked', () => {
    expect(refusal({ retention: 'x', languages: 'en', ocr: 'x' }).option).toBe('retention');
    expect(refusal({ languages: 'en', ocr: 'x' }).option).toBe('languages');
  });

  it('reads a job queued by an older version with the defaults it was accepted under', () => {
    const legacy = { uploadKey: 'uploads/x.pdf', languages: 'eng+fra', pages: '2-3', ocr: 'auto' as const };
    expect(queuedOptions(legacy, defaults)).toEqual({
      uploadKey: 'uploads/x.pdf',
      languages: ['eng', 'fra'],
      pages: [[2, 3]],
      ocr: 'auto',
      retention: 3600,
      callbackUrl: null,
      outputUrl: null,
      outputFormat: 'pdf',
    });
    const current = parseJobOptions({ retention: '5', pages: '1' }, defaults, 'form');
    expect(queuedOptions(current, defaults)).toEqual(current);
  });

  it('reads "+"-joined lists and a missing retention in one place', () => {
    expect(languageCodes('eng+deu')).toEqual(['eng', 'deu']);
    expect(retentionOf({}, defaults)).toBe(3600);
    expect(retentionOf({ retention: 7 }, defaults)).toBe(7);
  });
});
