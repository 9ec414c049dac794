export class PageSelectionError extends Error {}

type Range = [number, number | null];

/** Parses "1-3,7,10-" into ranges; null as an end means "to the last page". */
export function parsePageSelection(spec: string): Range[] {
  const parts = spec.split(',').map((p) => p.trim());
  return parts.map((part) => {
    const match = /^(\d{1,6})(?:\s*-\s*(\d{1,6})?)?$/.exec(part);
    if (!match) throw new PageSelectionError(`"${part}" is not a page or a range (expected e.g. "1-3,7").`);
    const start = Number(match[1]);
    const end = match[2] !== undefined ? Number(match[2]) : part.includes('-') ? null : start;
    if (start < 1) throw new PageSelectionError('Pages are numbered from 1.');
    if (end !== null && end < start) throw new PageSelectionError(`"${part}" ends before it starts.`);
    return [start, end];
  });
}

/** The sorted, distinct page numbers a selection names in a document of `pageCount` pages. */
export function selectPages(spec: string | null, pageCount: number): number[] {
  if (!spec) return Array.from({ length: pageCount }, (_, i) => i + 1);
  const pages = new Set<number>();
  for (const [start, end] of parsePageSelection(spec)) {
    const last = end ?? pageCount;
    if (start > pageCount || last > pageCount) {
      throw new PageSelectionError(`Pages "${spec}" were requested but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}.`);
    }
    for (let p = start; p <= last; p++) pages.add(p);
  }
  return [...pages].sort((a, b) => a - b);
}
