import { z } from 'zod';
import { RESULT_FORMATS, type ResultFormat } from './formats';
import { PageSelectionError, parsePageSelection, type PageRange } from './page-selection';

export const OCR_MODES = ['auto', 'always', 'never'] as const;
export type OcrMode = (typeof OCR_MODES)[number];

/** The options of a job, as every way of uploading names them (form fields, query parameters, JSON). */
export const JOB_OPTION_NAMES = ['languages', 'pages', 'ocr', 'callbackUrl', 'retention', 'outputUrl', 'outputFormat'] as const;
export type JobOptionName = (typeof JOB_OPTION_NAMES)[number];

/** A job's options once parsed: defaults applied, each in the type the worker uses. */
export interface JobOptions {
  /** Tesseract language codes, distinct, in the order asked for. */
  languages: string[];
  /** The pages asked for, or null for all of them. */
  pages: PageRange[] | null;
  ocr: OcrMode;
  /** Seconds the job and its files are kept once it has finished. */
  retention: number;
  /** Where the final status is POSTed; checked at upload and again at each delivery. */
  callbackUrl: string | null;
  /** Where the output in `outputFormat` is PUT once the job completes (a presigned URL, say); never shown back. */
  outputUrl: string | null;
  outputFormat: ResultFormat;
}

/** What a job's output to its outputUrl is without `outputFormat`: the searchable PDF. */
export const DEFAULT_OUTPUT_FORMAT: ResultFormat = 'pdf';

/** What the server sets: the defaults and bounds of the options (see config.ts). */
export interface JobOptionDefaults {
  ocrLanguages: string;
  resultTtlSeconds: number;
  maxRetentionSeconds: number;
}

/** The error code an option's refusal carries; the message names the option. */
export type JobOptionCode = 'invalid_option' | 'unsupported_language' | 'invalid_pages';

export class JobOptionError extends Error {
  constructor(
    readonly code: JobOptionCode,
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

const LANGUAGE_LIST = /^[a-z_]{3,}(\+[a-z_]{3,})*$/;

/** "eng+fra" as ["eng", "fra"]: the one reading of a `+`-joined list, also for jobs queued by older versions. */
export function languageCodes(list: string): string[] {
  return list.split('+');
}

/** Blank (or absent) means "the default"; text is trimmed. */
const blank = (value: unknown) => (typeof value === 'string' ? value.trim() || undefined : (value ?? undefined));

type Context = z.RefinementCtx;
const refuse = (ctx: Context, message: string, code: JobOptionCode = 'invalid_option') => {
  ctx.addIssue({ code: 'custom', message, params: { code } });
  return z.NEVER;
};

const text = (name: JobOptionName) => z.preprocess(blank, z.string({ error: `"${name}" must be text.` }).optional());

function languagesOption(fallback: string) {
  return z.preprocess(blank, z.union([z.string(), z.array(z.string())]).optional()).transform((value, ctx) => {
    const list = Array.isArray(value) ? value.map((code) => code.trim()).join('+') || fallback : (value ?? fallback);
    if (!LANGUAGE_LIST.test(list)) {
      return refuse(ctx, `"${list}" is not a list of language codes such as "eng" or "eng+fra".`, 'unsupported_language');
    }
    return [...new Set(languageCodes(list))];
  });
}

function retentionOption(fallback: number, max: number) {
  const message = `"retention" must be a whole number of seconds from 1 to ${max} (MAX_RETENTION_SECONDS).`;
  return z.preprocess(blank, z.union([z.string(), z.number()], { error: message }).optional()).transform((value, ctx) => {
    if (value === undefined) return fallback;
    const seconds = typeof value === 'number' ? value : /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > max) return refuse(ctx, message);
    return seconds;
  });
}

const pagesOption = text('pages').transform((value, ctx) => {
  if (value === undefined) return null;
  try {
    return parsePageSelection(value);
  } catch (error) {
    if (error instanceof PageSelectionError) return refuse(ctx, error.message, 'invalid_pages');
    throw error;
  }
});

const choice = <T extends string>(name: JobOptionName, values: readonly T[]) =>
  text(name).refine((value) => value === undefined || (values as readonly string[]).includes(value), {
    error: `"${name}" must be one of ${values.join(', ')}.`,
  }) as z.ZodType<T | undefined>;

/**
 * The one schema of a job's options, for multipart fields, query parameters and JSON alike.
 * JSON may also give `languages` as a list and `retention` as a number.
 */
export function jobOptionsSchema(defaults: JobOptionDefaults) {
  return z
    .object({
      retention: retentionOption(defaults.resultTtlSeconds, defaults.maxRetentionSeconds),
      callbackUrl: text('callbackUrl').transform((url) => url ?? null),
      languages: languagesOption(defaults.ocrLanguages),
      pages: pagesOption,
      ocr: choice('ocr', OCR_MODES).transform((mode) => mode ?? 'auto'),
      outputUrl: text('outputUrl').transform((url) => url ?? null),
      outputFormat: choice('outputFormat', RESULT_FORMATS),
    })
    .transform((options, ctx): JobOptions => {
      if (options.outputFormat && !options.outputUrl) return refuse(ctx, '"outputFormat" needs an "outputUrl".');
      return { ...options, outputFormat: options.outputFormat ?? DEFAULT_OUTPUT_FORMAT };
    });
}

/**
 * Parses the options of an upload, or throws a JobOptionError naming the first option refused.
 * From a form or a query string every option is text, and a list is an option given twice.
 */
export function parseJobOptions(
  input: Partial<Record<JobOptionName, unknown>>,
  defaults: JobOptionDefaults,
  from: 'form' | 'json',
): JobOptions {
  if (from === 'form') {
    const repeated = JOB_OPTION_NAMES.find((name) => Array.isArray(input[name]));
    if (repeated) throw new JobOptionError('invalid_option', repeated, `"${repeated}" was given more than once; give it once.`);
  }
  const parsed = jobOptionsSchema(defaults).safeParse(input);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const option = String(issue.path[0] ?? 'outputFormat');
  const code = (issue.code === 'custom' && (issue.params?.code as JobOptionCode | undefined)) || 'invalid_option';
  throw new JobOptionError(code, option, issue.message);
}

/** The options as a job queued by an older version carries them: as the client sent them, some left out. */
export interface QueuedOptions {
  languages: string | string[];
  pages: string | PageRange[] | null;
  ocr: OcrMode;
  retention?: number;
  callbackUrl?: string | null;
  outputUrl?: string | null;
  outputFormat?: ResultFormat;
}

/** A finished job's retention in seconds; jobs queued before it was always set were accepted under the default. */
export function retentionOf(data: { retention?: number }, defaults: Pick<JobOptionDefaults, 'resultTtlSeconds'>): number {
  return data.retention ?? defaults.resultTtlSeconds;
}

/**
 * The options of a queued job, whichever version queued it: jobs queued before the options had
 * one shape are read with the defaults they were accepted under, so an upgrade loses none.
 */
export function queuedOptions<T extends QueuedOptions>(
  data: T,
  defaults: Pick<JobOptionDefaults, 'resultTtlSeconds'>,
): Omit<T, keyof QueuedOptions> & JobOptions {
  const { languages, pages, retention, callbackUrl, outputUrl, outputFormat } = data;
  return {
    ...data,
    languages: typeof languages === 'string' ? languageCodes(languages) : languages,
    pages: typeof pages === 'string' ? parsePageSelection(pages) : pages,
    retention: retentionOf({ retention }, defaults),
    callbackUrl: callbackUrl ?? null,
    outputUrl: outputUrl ?? null,
    outputFormat: outputFormat ?? DEFAULT_OUTPUT_FORMAT,
  };
}
