import { availableParallelism } from 'node:os';
import { z } from 'zod';

const int = (min: number) => z.coerce.number().int().min(min);
const languageList = z
  .string()
  .regex(/^[a-z_]{3,}(\+[a-z_]{3,})*$/, 'expected language codes joined by "+", e.g. eng or eng+fra');

const schema = z.object({
  PORT: int(1).max(65535).default(3000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('ocr'),
  STORAGE_DIR: z.string().min(1).default('./storage'),
  MAX_UPLOAD_BYTES: int(1).default(50 * 1024 * 1024),
  MAX_PAGES: int(1).default(500),
  OCR_LANGUAGES: languageList.default('eng'),
  OCR_CONCURRENCY: int(1).default(availableParallelism()),
  OCR_MODEL: z.string().min(1).default('/usr/share/tesseract-ocr/5/tessdata'),
  OCR_DPI: int(72).max(600).default(300),
  OCR_MAX_PIXELS: int(1_000_000).default(25_000_000),
  OCR_MIN_DPI: int(1).default(50),
  OCR_RECYCLE_PAGES: int(1).default(200),
  OCR_DETECT_ORIENTATION: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  PAGE_TIMEOUT_MS: int(1000).default(120_000),
  RESULT_TTL_SECONDS: int(60).default(24 * 60 * 60),
  JOB_ATTEMPTS: int(1).default(3),
  HEARTBEAT_FILE: z.string().min(1).optional(),
});

/** The validated configuration, parsed once at start-up and injected where needed. */
export class AppConfig {
  readonly port: number;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly storageDir: string;
  readonly maxUploadBytes: number;
  readonly maxPages: number;
  readonly ocrLanguages: string;
  readonly ocrConcurrency: number;
  readonly ocrModelDir: string;
  readonly ocrDpi: number;
  readonly ocrMaxPixels: number;
  readonly ocrMinDpi: number;
  readonly ocrRecyclePages: number;
  readonly ocrDetectOrientation: boolean;
  readonly pageTimeoutMs: number;
  readonly resultTtlSeconds: number;
  readonly jobAttempts: number;
  readonly heartbeatFile: string | undefined;

  constructor(values: z.infer<typeof schema>) {
    this.port = values.PORT;
    this.redisUrl = values.REDIS_URL;
    this.queuePrefix = values.QUEUE_PREFIX;
    this.storageDir = values.STORAGE_DIR;
    this.maxUploadBytes = values.MAX_UPLOAD_BYTES;
    this.maxPages = values.MAX_PAGES;
    this.ocrLanguages = values.OCR_LANGUAGES;
    this.ocrConcurrency = values.OCR_CONCURRENCY;
    this.ocrModelDir = values.OCR_MODEL;
    this.ocrDpi = values.OCR_DPI;
    this.ocrMaxPixels = values.OCR_MAX_PIXELS;
    this.ocrMinDpi = values.OCR_MIN_DPI;
    this.ocrRecyclePages = values.OCR_RECYCLE_PAGES;
    this.ocrDetectOrientation = values.OCR_DETECT_ORIENTATION;
    this.pageTimeoutMs = values.PAGE_TIMEOUT_MS;
    this.resultTtlSeconds = values.RESULT_TTL_SECONDS;
    this.jobAttempts = values.JOB_ATTEMPTS;
    this.heartbeatFile = values.HEARTBEAT_FILE;
  }
}

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable means "not set", as in most twelve-factor services.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return new AppConfig(parsed.data);
}
