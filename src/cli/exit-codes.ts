/**
 * Exit codes: OCRmyPDF's (its `ExitCode` enum), so that a script written against `ocrmypdf`
 * branches the same way. A wrong option exits 2, as argparse makes OCRmyPDF exit.
 */
export const ExitCode = {
  ok: 0,
  badArgs: 1,
  inputFile: 2,
  missingDependency: 3,
  invalidOutputPdf: 4,
  fileAccessError: 5,
  childProcessError: 7,
  encryptedPdf: 8,
  otherError: 15,
  ctrlC: 130,
} as const;

export const USAGE_ERROR = 2;

/**
 * The service's stable error codes (README, "Errors"), and the CLI's own for what happens on
 * this side of the wire, by the OCRmyPDF exit code of the same meaning.
 */
const BY_CODE: Record<string, number> = {
  // The arguments were wrong, as the service read them.
  invalid_pages: ExitCode.badArgs,
  invalid_option: ExitCode.badArgs,
  unsupported_language: ExitCode.badArgs,
  unauthorized: ExitCode.badArgs,
  idempotency_key_reused: ExitCode.badArgs,
  // The input cannot be read, or is not one the service takes.
  input_unreadable: ExitCode.inputFile,
  file_missing: ExitCode.inputFile,
  unsupported_media_type: ExitCode.inputFile,
  file_too_large: ExitCode.inputFile,
  pdf_empty: ExitCode.inputFile,
  pdf_invalid: ExitCode.inputFile,
  image_invalid: ExitCode.inputFile,
  too_many_pages: ExitCode.inputFile,
  page_too_large: ExitCode.inputFile,
  // OCRmyPDF's "a program it needs is missing": here the service is what is missing.
  service_unreachable: ExitCode.missingDependency,
  queue_unavailable: ExitCode.missingDependency,
  format_unavailable: ExitCode.invalidOutputPdf,
  output_unwritable: ExitCode.fileAccessError,
  // The engine failed on a page, as OCRmyPDF's Tesseract child process can.
  page_timeout: ExitCode.childProcessError,
  processing_failed: ExitCode.childProcessError,
  pdf_encrypted: ExitCode.encryptedPdf,
  interrupted: ExitCode.ctrlC,
};

export function exitCodeFor(code: string): number {
  return BY_CODE[code] ?? ExitCode.otherError;
}

/** The table README documents, in exit-code order. */
export function exitCodeTable(): [number, string[]][] {
  const rows = new Map<number, string[]>();
  for (const [code, exit] of Object.entries(BY_CODE)) rows.set(exit, [...(rows.get(exit) ?? []), code]);
  return [...rows.entries()].sort(([a], [b]) => a - b);
}
