import type { JobStatus } from './api';

const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
const SPECIAL: Record<string, string> = {
  chi_sim: 'Chinese (simplified)',
  chi_tra: 'Chinese (traditional)',
  deu_latf: 'German (Fraktur)',
  equ: 'Equations',
  osd: 'Orientation and script',
};

/** "deu" as "German": Tesseract's codes are ISO 639-2, which Intl knows, bar a few. */
export function languageName(code: string): string {
  if (SPECIAL[code]) return SPECIAL[code];
  try {
    return names.of(code.split('_')[0]) ?? code;
  } catch {
    return code;
  }
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const when = (iso: string) => time.format(new Date(iso));

export const STATUS_LABEL: Record<JobStatus | 'expired' | 'unknown', string> = {
  queued: 'Queued',
  processing: 'Reading',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
  unknown: '…',
};

/** Word confidence in bands, as the boxes are coloured; null is a word of the text layer. */
export function confidenceBand(confidence: number | null): 'layer' | 'high' | 'mid' | 'low' {
  if (confidence === null) return 'layer';
  if (confidence >= 90) return 'high';
  if (confidence >= 70) return 'mid';
  return 'low';
}

export function seconds(fromIso: string | null, toIso: string | null): string | null {
  if (!fromIso || !toIso) return null;
  const s = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
