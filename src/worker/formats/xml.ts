const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Text safe inside XML content and attribute values. Characters XML 1.0 forbids (most
 * control characters, lone surrogates, U+FFFE/U+FFFF) are dropped: a PDF's text layer can hold them.
 */
export function xmlEscape(text: string): string {
  return text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
