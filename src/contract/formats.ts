/**
 * The outputs a finished job offers. Workers write each one to storage when the document is
 * assembled; the API only picks one by `?format=` or `Accept` and streams the stored file.
 */
export const RESULT_FORMATS = ['json', 'txt', 'hocr', 'alto', 'pdf'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** One page offers the same, except the PDF. */
export const PAGE_FORMATS = ['json', 'txt', 'hocr', 'alto'] as const;
export type PageFormat = (typeof PAGE_FORMATS)[number];

/** What the worker writes from the JSON result, for the document and for each page; the PDF is written on its own. */
export type TextFormat = Exclude<PageFormat, 'json'>;
export const TEXT_FORMATS = PAGE_FORMATS.filter((f): f is TextFormat => f !== 'json');

interface FormatInfo {
  /** The Content-Type sent, and the other media types an `Accept` header may name it by. */
  mediaType: string;
  aliases: string[];
  /** Ends the stored file's name and the download's name. */
  extension: string;
}

export const FORMAT_INFO: Record<ResultFormat, FormatInfo> = {
  json: { mediaType: 'application/json', aliases: [], extension: 'json' },
  txt: { mediaType: 'text/plain', aliases: [], extension: 'txt' },
  hocr: { mediaType: 'text/vnd.hocr+html', aliases: ['text/html', 'application/xhtml+xml'], extension: 'hocr' },
  alto: { mediaType: 'application/alto+xml', aliases: ['application/xml', 'text/xml'], extension: 'alto.xml' },
  pdf: { mediaType: 'application/pdf', aliases: [], extension: 'pdf' },
};

/**
 * A safe base for download names, from the name the client uploaded: its last path part
 * without `.pdf`, printable characters only, at most 100 of them; `document` when nothing is left.
 */
export function downloadBaseName(uploadName: string | null | undefined): string {
  const last = (uploadName ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .replace(/\.pdf$/i, '')
    .replace(/[\p{Cc}\p{Cf}"]/gu, '')
    .trim()
    .slice(0, 100)
    .trim();
  return cleaned && !/^\.+$/.test(cleaned) ? cleaned : 'document';
}
