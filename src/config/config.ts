import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { memoryLimitMb, usableCpus } from './cgroup';
import { parseSecret, SecretFormatError, StoredSecret } from './secret';

const int = (min: number) => z.coerce.number().int().min(min);
const bool = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');
// An address to listen on; a wildcard (0.0.0.0, ::) is every interface.
const bindAddress = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IP address, such as 127.0.0.1 or 0.0.0.0' });
const languageList = z.string().regex(/^[a-z_]{3,}(\+[a-z_]{3,})*$/, 'expected language codes joined by "+", e.g. eng or eng+fra');

const schema = z.object({
  PORT: int(1).max(65535).default(3000),
  // Loopback unless told otherwise: the images set 0.0.0.0, a process started from source stays private.
  API_HOST: bindAddress.default('127.0.0.1'),
  MANAGEMENT_PORT: int(1).max(65535).optional(),
  MANAGEMENT_HOST: bindAddress.optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  // A password kept in a file (a Docker or Kubernetes secret) rather than in REDIS_URL.
  REDIS_PASSWORD_FILE: z.string().min(1).optional(),
  REDIS_SENTINELS: z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? null : sentinels(value, ctx))),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  REDIS_SENTINEL_PASSWORD_FILE: z.string().min(1).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('ocr'),
  STORAGE_DIR: z.string().min(1).default('./storage'),
  STORAGE_URL: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/, 'expected s3://bucket or s3://bucket/prefix')
    .optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  // Keys a client may name as `url: "s3://bucket/key"`: in STORAGE_URL's bucket, under this prefix.
  S3_INPUT_PREFIX: z
    .string()
    .regex(/^([^/\s]+\/)*$/, 'expected "" or a prefix ending in "/", such as "inputs/"')
    .default('inputs/'),
  MAX_UPLOAD_BYTES: int(1).default(50 * 1024 * 1024),
  // A slow client holds a socket and a temporary file: its headers, each pause in its body and
  // its whole request are bounded (README, "Limits in force").
  HEADERS_TIMEOUT_MS: int(1000).default(20_000),
  BODY_IDLE_TIMEOUT_MS: int(1000).default(20_000),
  REQUEST_TIMEOUT_MS: int(1000).default(120_000),
  SOURCE_TIMEOUT_MS: int(1000).default(120_000),
  MAX_PAGES: int(1).default(500),
  OCR_LANGUAGES: languageList.default('eng'),
  OCR_CONCURRENCY: int(1).default(usableCpus()),
  OCR_MEMORY_LIMIT_MB: int(256).optional(),
  OCR_MODEL: z.string().min(1).default('/usr/share/tesseract-ocr/5/tessdata'),
  OCR_DPI: int(72).max(600).default(300),
  OCR_MAX_PIXELS: int(1_000_000).default(25_000_000),
  OCR_MIN_DPI: int(1).default(50),
  OCR_RECYCLE_PAGES: int(1).default(200),
  // The binarisation policy of src/worker/ocr/binarisation.ts (README, "What each lever gave").
  OCR_REREAD_BELOW: int(0).max(101).default(70),
  // Off until its accuracy on the corpus is measured against the render (issue 21).
  OCR_OWN_PIXELS: bool('true'),
  OCR_DETECT_ORIENTATION: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  PAGE_TIMEOUT_MS: int(1000).default(120_000),
  RESULT_TTL_SECONDS: int(60).default(24 * 60 * 60),
  JOB_ATTEMPTS: int(1).default(3),
  HEARTBEAT_FILE: z.string().min(1).optional(),
  WORKER_TTL_SECONDS: int(3).default(30),
  // Operating: access, limits, logs and metrics.
  API_KEYS: z
    .string()
    .optional()
    .transform((value, ctx) =>
      secrets(value ?? '', ctx, { allowScrypt: false, minPlainLength: 16 }).flatMap((s) => (s.kind === 'sha256' ? [s.digest] : [])),
    ),
  RATE_LIMIT: int(0).default(600),
  RATE_LIMIT_WINDOW_SECONDS: int(1).default(60),
  MAX_STREAMS_PER_KEY: int(0).default(20),
  MAX_STREAMS_PER_ADDRESS: int(0).default(50),
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
  WORKER_METRICS_HOST: bindAddress.default('127.0.0.1'),
  // The async contract: retention, back-pressure, webhooks.
  MAX_RETENTION_SECONDS: int(1).default(7 * 24 * 60 * 60),
  MAX_QUEUED_PAGES: int(0).default(10_000),
  MAX_PAGES_IN_FLIGHT_PER_KEY: int(0).default(0),
  WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_ALLOW_PRIVATE: bool('false'),
  WEBHOOK_ALLOW_HTTP: bool('false'),
  WEBHOOK_ATTEMPTS: int(1).max(30).default(8),
  WEBHOOK_BACKOFF_MS: int(100).default(5000),
  WEBHOOK_TIMEOUT_MS: int(100).default(10_000),
});

/** Every variable the service reads (deployment manifests are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

// Half a credential is a mistake, not a wish to run the dashboard without a login.
const checkedSchema = schema.superRefine((values, ctx) => {
  if (values.MAX_RETENTION_SECONDS < values.RESULT_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['MAX_RETENTION_SECONDS'], message: 'must not be less than RESULT_TTL_SECONDS' });
  }
  if (values.HEADERS_TIMEOUT_MS > values.REQUEST_TIMEOUT_MS) {
    ctx.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT_MS'], message: 'must not be more than REQUEST_TIMEOUT_MS' });
  }
  if (values.MANAGEMENT_PORT !== undefined && values.MANAGEMENT_PORT === values.PORT) {
    ctx.addIssue({ code: 'custom', path: ['MANAGEMENT_PORT'], message: 'must differ from PORT' });
  }
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

/** "host:port,host:port" of the Redis Sentinels. */
function sentinels(list: string, ctx: z.RefinementCtx): { host: string; port: number }[] | null {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const parsed = entries.map((entry) => /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(entry));
  if (!entries.length || parsed.some((m) => !m || Number(m[2]) < 1 || Number(m[2]) > 65535)) {
    ctx.addIssue({ code: 'custom', message: 'expected host:port pairs separated by commas, e.g. sentinel-1:26379,sentinel-2:26379' });
    return null;
  }
  return parsed.map((m) => ({ host: m![1].replace(/^\[|\]$/g, ''), port: Number(m![2]) }));
}

/** Express's "trust proxy": true, a hop count, or addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** The bucket of STORAGE_URL, for S3-compatible object storage. */
export interface S3Settings {
  bucket: string;
  /** Key prefix inside the bucket, without a trailing "/" ('' for none). */
  prefix: string;
  /** Where in the bucket clients may point `url: "s3://..."` ('' for anywhere but the service's own keys). */
  inputPrefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/** Where Redis is: one server from REDIS_URL, or the master that Sentinels name. */
export interface RedisSettings {
  url: string;
  /** From REDIS_PASSWORD_FILE; wins over a password in the URL. */
  password?: string;
  sentinels: { host: string; port: number }[] | null;
  sentinelName: string;
  sentinelPassword?: string;
}

/** The validated configuration, parsed once at start-up and injected where needed. */
export class AppConfig {
  readonly port: number;
  /** The address PORT listens on. */
  readonly host: string;
  /** Port for /health*, /metrics and the dashboard, kept off PORT; undefined serves them on PORT. */
  readonly managementPort: number | undefined;
  /** The address MANAGEMENT_PORT listens on; API_HOST unless set. */
  readonly managementHost: string;
  readonly redisUrl: string;
  readonly redis: RedisSettings;
  readonly queuePrefix: string;
  readonly storageDir: string;
  /** The bucket of STORAGE_URL; null keeps documents in STORAGE_DIR. */
  readonly s3: S3Settings | null;
  readonly maxUploadBytes: number;
  /** How long a request's headers, a pause in its body, and the whole request may take to arrive. */
  readonly requestTimeouts: { headersMs: number; bodyIdleMs: number; requestMs: number };
  /** How long the API may take to fetch a job's `url`. */
  readonly sourceTimeoutMs: number;
  readonly maxPages: number;
  readonly ocrLanguages: string;
  readonly ocrConcurrency: number;
  /** Resident memory a worker process may reach before the pages it is running are stopped. */
  readonly ocrMemoryLimitMb: number;
  readonly ocrModelDir: string;
  readonly ocrDpi: number;
  readonly ocrMaxPixels: number;
  readonly ocrMinDpi: number;
  readonly ocrRecyclePages: number;
  /** A page whose first read's mean confidence is below this is read again with Sauvola (0 never, 101 always). */
  readonly ocrRereadBelow: number;
  readonly ocrDetectOrientation: boolean;
  /** OCR a page that is one image from the image's own pixels instead of rendering it. */
  readonly ocrOwnPixels: boolean;
  readonly pageTimeoutMs: number;
  readonly resultTtlSeconds: number;
  readonly jobAttempts: number;
  readonly heartbeatFile: string | undefined;
  /** A worker that has not refreshed its entry in Redis for this long counts as gone. */
  readonly workerTtlSeconds: number;
  /** SHA-256 digests (hex) of the API keys; empty when the API is open. */
  readonly apiKeys: ReadonlySet<string>;
  /** Requests per key (or client address) per window; 0 turns rate limiting off. */
  readonly rateLimit: number;
  readonly rateLimitWindowSeconds: number;
  /** Event streams and long polls open at once per API key and per client address (each API process); 0 turns a limit off. */
  readonly streamLimits: { perKey: number; perAddress: number };
  readonly trustProxy: boolean | number | string;
  /** Credentials of the queue dashboard; null turns the dashboard off. */
  readonly admin: { user: string; password: StoredSecret } | null;
  readonly logFormat: 'json' | 'pretty';
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Port of the worker's Prometheus endpoint; 0 turns it off. */
  readonly workerMetricsPort: number;
  readonly workerMetricsHost: string;
  /** Upper bound of a job's `retention`; RESULT_TTL_SECONDS is the default. */
  readonly maxRetentionSeconds: number;
  /** Uploads are refused (503 queue_full) while this many pages wait; 0 turns the check off. */
  readonly maxQueuedPages: number;
  /** Pages one API key may have queued or running; 0 turns the check off. */
  readonly maxPagesInFlightPerKey: number;
  /**
   * Webhooks, and the rules for every URL a client gives (`callbackUrl`, `url`, `outputUrl`):
   * allowPrivate and allowHttp apply to all three; attempts, backoff and timeout to every delivery.
   */
  readonly webhooks: {
    /** Signs every delivery; without it `callbackUrl` is refused. */
    secret: string | null;
    allowPrivate: boolean;
    allowHttp: boolean;
    attempts: number;
    backoffMs: number;
    timeoutMs: number;
  };

  constructor(values: z.infer<typeof schema>, files: { redisPassword?: string; sentinelPassword?: string } = {}) {
    this.port = values.PORT;
    this.host = values.API_HOST;
    this.managementPort = values.MANAGEMENT_PORT;
    this.managementHost = values.MANAGEMENT_HOST ?? values.API_HOST;
    this.redisUrl = values.REDIS_URL;
    this.redis = {
      url: values.REDIS_URL,
      password: files.redisPassword,
      sentinels: values.REDIS_SENTINELS,
      sentinelName: values.REDIS_SENTINEL_NAME,
      sentinelPassword: files.sentinelPassword,
    };
    this.queuePrefix = values.QUEUE_PREFIX;
    this.storageDir = values.STORAGE_DIR;
    const bucket = values.STORAGE_URL ? /^s3:\/\/([^/]+)\/?(.*)$/.exec(values.STORAGE_URL) : null;
    this.s3 = bucket
      ? {
          bucket: bucket[1],
          prefix: bucket[2].replace(/\/+$/, ''),
          inputPrefix: values.S3_INPUT_PREFIX,
          endpoint: values.S3_ENDPOINT,
          region: values.S3_REGION,
          forcePathStyle: values.S3_FORCE_PATH_STYLE,
        }
      : null;
    this.maxUploadBytes = values.MAX_UPLOAD_BYTES;
    this.requestTimeouts = {
      headersMs: values.HEADERS_TIMEOUT_MS,
      bodyIdleMs: values.BODY_IDLE_TIMEOUT_MS,
      requestMs: values.REQUEST_TIMEOUT_MS,
    };
    this.sourceTimeoutMs = values.SOURCE_TIMEOUT_MS;
    this.maxPages = values.MAX_PAGES;
    this.ocrLanguages = values.OCR_LANGUAGES;
    this.ocrConcurrency = values.OCR_CONCURRENCY;
    this.ocrMemoryLimitMb = values.OCR_MEMORY_LIMIT_MB ?? defaultMemoryLimitMb(values.OCR_CONCURRENCY);
    this.ocrModelDir = values.OCR_MODEL;
    this.ocrDpi = values.OCR_DPI;
    this.ocrMaxPixels = values.OCR_MAX_PIXELS;
    this.ocrMinDpi = values.OCR_MIN_DPI;
    this.ocrRecyclePages = values.OCR_RECYCLE_PAGES;
    this.ocrRereadBelow = values.OCR_REREAD_BELOW;
    this.ocrDetectOrientation = values.OCR_DETECT_ORIENTATION;
    this.ocrOwnPixels = values.OCR_OWN_PIXELS;
    this.pageTimeoutMs = values.PAGE_TIMEOUT_MS;
    this.resultTtlSeconds = values.RESULT_TTL_SECONDS;
    this.jobAttempts = values.JOB_ATTEMPTS;
    this.heartbeatFile = values.HEARTBEAT_FILE;
    this.workerTtlSeconds = values.WORKER_TTL_SECONDS;
    this.apiKeys = new Set(values.API_KEYS);
    this.rateLimit = values.RATE_LIMIT;
    this.rateLimitWindowSeconds = values.RATE_LIMIT_WINDOW_SECONDS;
    this.streamLimits = { perKey: values.MAX_STREAMS_PER_KEY, perAddress: values.MAX_STREAMS_PER_ADDRESS };
    this.trustProxy = trustProxy(values.TRUST_PROXY);
    this.admin = values.ADMIN_USER && values.ADMIN_PASSWORD ? { user: values.ADMIN_USER, password: values.ADMIN_PASSWORD } : null;
    this.logFormat = values.LOG_FORMAT ?? (values.NODE_ENV === 'production' ? 'json' : 'pretty');
    this.logLevel = values.LOG_LEVEL;
    this.workerMetricsPort = values.WORKER_METRICS_PORT;
    this.workerMetricsHost = values.WORKER_METRICS_HOST;
    this.maxRetentionSeconds = values.MAX_RETENTION_SECONDS;
    this.maxQueuedPages = values.MAX_QUEUED_PAGES;
    this.maxPagesInFlightPerKey = values.MAX_PAGES_IN_FLIGHT_PER_KEY;
    this.webhooks = {
      secret: values.WEBHOOK_SECRET ?? null,
      allowPrivate: values.WEBHOOK_ALLOW_PRIVATE,
      allowHttp: values.WEBHOOK_ALLOW_HTTP,
      attempts: values.WEBHOOK_ATTEMPTS,
      backoffMs: values.WEBHOOK_BACKOFF_MS,
      timeoutMs: values.WEBHOOK_TIMEOUT_MS,
    };
  }
}

/**
 * 85% of the container's memory limit, leaving room for what the guard cannot stop in
 * time; without a limit, a base of 512 MiB plus 768 MiB per OCR thread, enough for a page
 * at the full OCR_MAX_PIXELS and its tesseract engine.
 */
function defaultMemoryLimitMb(concurrency: number): number {
  const container = memoryLimitMb();
  return container ? Math.max(256, Math.floor(container * 0.85)) : 512 + 768 * concurrency;
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
  const problems: string[] = [];
  const secretFile = (variable: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      // Secret files usually end with a newline that is not part of the secret.
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
      return undefined;
    }
  };
  const redisPassword = secretFile('REDIS_PASSWORD_FILE', parsed.data.REDIS_PASSWORD_FILE);
  const sentinelPassword = secretFile('REDIS_SENTINEL_PASSWORD_FILE', parsed.data.REDIS_SENTINEL_PASSWORD_FILE);
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return new AppConfig(parsed.data, { redisPassword, sentinelPassword });
}

/** How a client on this host reaches a server listening on `host`: a wildcard is reached on loopback. */
export function localAddress(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
