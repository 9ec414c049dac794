import { usableCpus } from './cpus';
import { z } from 'zod';
import { parseSecret, SecretFormatError, StoredSecret } from './secret';

const int = (min: number) => z.coerce.number().int().min(min);
const languageList = z.string().regex(/^[a-z_]{3,}(\+[a-z_]{3,})*$/, 'expected language codes joined by "+", e.g. eng or eng+fra');

const schema = z.object({
  PORT: int(1).max(65535).default(3000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('ocr'),
  STORAGE_DIR: z.string().min(1).default('./storage'),
  MAX_UPLOAD_BYTES: int(1).default(50 * 1024 * 1024),
  MAX_PAGES: int(1).default(500),
  OCR_LANGUAGES: languageList.default('eng'),
  OCR_CONCURRENCY: int(1).default(usableCpus()),
  OCR_MODEL: z.string().min(1).default('/usr/share/tesseract-ocr/5/tessdata'),
  OCR_DPI: int(72).max(600).default(300),
  OCR_MAX_PIXELS: int(1_000_000).default(25_000_000),
  OCR_MIN_DPI: int(1).default(50),
  OCR_RECYCLE_PAGES: int(1).default(200),
  OCR_DETECT_ORIENTATION: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  PAGE_TIMEOUT_MS: int(1000).default(120_000),
  RESULT_TTL_SECONDS: int(60).default(24 * 60 * 60),
  JOB_ATTEMPTS: int(1).default(3),
  HEARTBEAT_FILE: z.string().min(1).optional(),
  // Operating: access, limits, logs and metrics.
  API_KEYS: z
    .string()
    .optional()
    .transform((value, ctx) =>
      secrets(value ?? '', ctx, { allowScrypt: false, minPlainLength: 16 }).flatMap((s) => (s.kind === 'sha256' ? [s.digest] : [])),
    ),
  RATE_LIMIT: int(0).default(600),
  RATE_LIMIT_WINDOW_SECONDS: int(1).default(60),
  TRUST_PROXY: z.string().optional(),
  ADMIN_USER: z
    .string()
    .regex(/^[^:]+$/, 'must not contain ":"')
    .optional(),
  ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? null : secret(value, ctx, { allowScrypt: true, minPlainLength: 12 }))),
  NODE_ENV: z.string().optional(),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  WORKER_METRICS_PORT: int(0).max(65535).default(9464),
});

// Half a credential is a mistake, not a wish to run the dashboard without a login.
const checkedSchema = schema.superRefine((values, ctx) => {
  if (!values.ADMIN_USER !== !values.ADMIN_PASSWORD) {
    ctx.addIssue({
      code: 'custom',
      path: [values.ADMIN_USER ? 'ADMIN_PASSWORD' : 'ADMIN_USER'],
      message: 'set both ADMIN_USER and ADMIN_PASSWORD, or neither',
    });
  }
});

type SecretOptions = Parameters<typeof parseSecret>[1];

/** One secret, plain or hashed (see auth/secret.ts); only its hash is kept. Never echoed in errors. */
function secret(value: string, ctx: z.RefinementCtx, options: SecretOptions, label = 'the value'): StoredSecret | null {
  try {
    return parseSecret(value, options);
  } catch (error) {
    if (!(error instanceof SecretFormatError)) throw error;
    ctx.addIssue({ code: 'custom', message: `${label} ${error.message}` });
    return null;
  }
}

/** Comma-separated secrets. */
function secrets(list: string, ctx: z.RefinementCtx, options: SecretOptions): StoredSecret[] {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.flatMap((entry, index) => secret(entry, ctx, options, `entry ${index + 1}`) ?? []);
}

/** Express's "trust proxy": true, a hop count, or addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

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
  /** SHA-256 digests (hex) of the API keys; empty when the API is open. */
  readonly apiKeys: ReadonlySet<string>;
  /** Requests per key (or client address) per window; 0 turns rate limiting off. */
  readonly rateLimit: number;
  readonly rateLimitWindowSeconds: number;
  readonly trustProxy: boolean | number | string;
  /** Credentials of the queue dashboard; null turns the dashboard off. */
  readonly admin: { user: string; password: StoredSecret } | null;
  readonly logFormat: 'json' | 'pretty';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Port of the worker's Prometheus endpoint; 0 turns it off. */
  readonly workerMetricsPort: number;

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
    this.apiKeys = new Set(values.API_KEYS);
    this.rateLimit = values.RATE_LIMIT;
    this.rateLimitWindowSeconds = values.RATE_LIMIT_WINDOW_SECONDS;
    this.trustProxy = trustProxy(values.TRUST_PROXY);
    this.admin = values.ADMIN_USER && values.ADMIN_PASSWORD ? { user: values.ADMIN_USER, password: values.ADMIN_PASSWORD } : null;
    this.logFormat = values.LOG_FORMAT ?? (values.NODE_ENV === 'production' ? 'json' : 'pretty');
    this.logLevel = values.LOG_LEVEL;
    this.workerMetricsPort = values.WORKER_METRICS_PORT;
  }
}

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable means "not set", as in most twelve-factor services.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checkedSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return new AppConfig(parsed.data);
}
