/**
 * The kinds of file a job reads. The file's first bytes decide, never its name or the
 * Content-Type it was sent with: scanners, phones and mail gateways name files freely.
 */
export const INPUT_TYPES = ['pdf', 'png', 'jpeg', 'tiff', 'webp', 'gif'] as const;
export type InputType = (typeof INPUT_TYPES)[number];
export type ImageType = Exclude<InputType, 'pdf'>;

export const INPUT_MEDIA_TYPES: Record<InputType, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** The media types a raw upload may be declared as (the bytes still decide). */
export const ACCEPTED_MEDIA_TYPES = Object.values(INPUT_MEDIA_TYPES);

/** PDF readers accept "%PDF-" anywhere in the first 1024 bytes; so do we. */
export const SIGNATURE_WINDOW = 1024;

const startsWith = (head: Uint8Array, bytes: number[], at = 0) => bytes.every((b, i) => head[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** What the file is, from its first bytes (up to SIGNATURE_WINDOW); null for anything else. */
export function sniffInput(head: Uint8Array): InputType | null {
  // Images first: their signatures sit at offset 0, while "%PDF-" may follow junk.
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return 'gif';
  if (Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, SIGNATURE_WINDOW)).includes('%PDF-')) return 'pdf';
  return null;
}

/** A job's input type, for jobs queued before images were read (which were all PDFs). */
export const inputTypeOf = (data: { input?: InputType }): InputType => data.input ?? 'pdf';
