/**
 * The public /v1 API, as this page uses it: the same calls any client makes, with the API key
 * (when the service needs one) sent as a bearer token. Types come from the OpenAPI document.
 */
import type { components } from '../../openapi/schema';

type Schemas = components['schemas'];
export type Job = Schemas['Job'];
export type JobStatus = Job['status'];
export type PageSummary = Schemas['PageSummary'];
export type Page = Schemas['Page'];
export type Word = Schemas['Word'];
export type Languages = Schemas['Languages'];
export type OcrMode = NonNullable<Schemas['Upload']['ocr']>;

export const FINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** An error the API answered with: its status, stable code and message, shown as they are. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'ocr.apiKey';

/** The key lives in this tab's session storage only: never in localStorage, never in a URL. */
export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? '',
  set: (key: string) => (key ? sessionStorage.setItem(KEY_STORAGE, key) : sessionStorage.removeItem(KEY_STORAGE)),
};

function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfter(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

/** Turns an error response into an ApiError carrying the API's own code and message. */
export async function errorFrom(res: Response | { status: number; statusText: string; body: string; retryAfter: string | null }) {
  const body = res instanceof Response ? await res.text().catch(() => '') : res.body;
  const wait = retryAfter(res instanceof Response ? res.headers.get('Retry-After') : res.retryAfter);
  try {
    const json = JSON.parse(body) as Partial<Schemas['Error']>;
    if (typeof json.message === 'string') return new ApiError(res.status, json.code ?? 'error', json.message, wait);
  } catch {
    // Not the API's JSON (a proxy's page, say): fall back to the status line.
  }
  const text =
    res.status === 413 ? 'The file is larger than this service accepts.' : `The server answered ${res.status} ${res.statusText}.`;
  return new ApiError(res.status, 'http_' + res.status, text, wait);
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string>) } });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'The service could not be reached. Check your connection and try again.');
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

export async function getJson<T>(path: string, init?: RequestInit): Promise<{ body: T; res: Response }> {
  const res = await request(path, { ...init, headers: { Accept: 'application/json' } });
  return { body: (await res.json()) as T, res };
}

export const getJob = (id: string, signal?: AbortSignal) => getJson<Job>(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
export const getPage = (id: string, page: number, signal?: AbortSignal) =>
  getJson<Page>(`/v1/jobs/${encodeURIComponent(id)}/pages/${page}`, { signal });
export const getLanguages = () => getJson<Languages>('/v1/languages');
export const deleteJob = (id: string) => request(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });

/** The page image as a bitmap, waiting as the API asks while a worker renders it. */
export async function getPageImage(id: string, page: number, width: number, signal?: AbortSignal): Promise<ImageBitmap> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(`/v1/jobs/${encodeURIComponent(id)}/pages/${page}/image?width=${width}`, { signal });
      return await createImageBitmap(await res.blob());
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'image_pending' || attempt >= 5) throw error;
      await sleep((error.retryAfter ?? 2) * 1000, signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

export interface UploadOptions {
  file: File;
  languages: string;
  ocr: OcrMode;
  pages: string;
  onProgress?: (fraction: number) => void;
}

/** POST /v1/jobs with XMLHttpRequest, the one browser API that reports upload progress. */
export function createJob(options: UploadOptions): Promise<Job> {
  const form = new FormData();
  form.append('file', options.file, options.file.name);
  if (options.languages) form.append('languages', options.languages);
  if (options.ocr !== 'auto') form.append('ocr', options.ocr);
  if (options.pages.trim()) form.append('pages', options.pages.trim());
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/jobs');
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && options.onProgress?.(e.loaded / e.total);
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(JSON.parse(xhr.responseText) as Job);
      reject(
        await errorFrom({
          status: xhr.status,
          statusText: xhr.statusText,
          body: xhr.responseText,
          retryAfter: xhr.getResponseHeader('Retry-After'),
        }),
      );
    };
    // The API cuts off an upload past MAX_UPLOAD_BYTES; some browsers then see only a reset.
    xhr.onerror = () =>
      reject(new ApiError(0, 'network_error', 'The upload was interrupted. The file may be larger than this service accepts.'));
    xhr.send(form);
  });
}

/** POST /v1/jobs as JSON: the API fetches the PDF from `url` (https, or s3:// in its bucket). */
export async function createJobFromUrl(options: Omit<UploadOptions, 'file' | 'onProgress'> & { url: string }): Promise<Job> {
  const body: Record<string, string> = { url: options.url };
  if (options.languages) body.languages = options.languages;
  if (options.ocr !== 'auto') body.ocr = options.ocr;
  if (options.pages.trim()) body.pages = options.pages.trim();
  const res = await request('/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Job;
}

/** Fetches one output and hands it to the browser as a download named as the API names it. */
export async function download(id: string, format: string): Promise<string> {
  const res = await request(`/v1/jobs/${encodeURIComponent(id)}/result?format=${format}`);
  const disposition = res.headers.get('Content-Disposition') ?? '';
  const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? `result.${format}`;
  const fileName = decodeURIComponent(name);
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return fileName;
}
