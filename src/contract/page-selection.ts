export class PageSelectionError extends Error {}

/** First and last page; null as the last means "to the last page". */
export type PageRange = [number, number | null];

/** Parses "1-3,7,10-" into ranges; null as an end means "to the last page". */
export function parsePageSelection(spec: string): PageRange[] {
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

/** "1-3, 7" for the ranges, as a client would write them. */
export function formatPageSelection(ranges: PageRange[]): string {
  return ranges.map(([start, end]) => (end === start ? String(start) : `${start}-${end ?? ''}`)).join(',');
}

/** The sorted, distinct page numbers a selection names in a document of `pageCount` pages. */
export function selectPages(ranges: PageRange[] | null, pageCount: number): number[] {
  if (!ranges) return Array.from({ length: pageCount }, (_, i) => i + 1);
  const pages = new Set<number>();
  const spec = formatPageSelection(ranges);
  for (const [start, end] of ranges) {
    const last = end ?? pageCount;
    if (start > pageCount || last > pageCount) {
      throw new PageSelectionError(`Pages "${spec}" were requested but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}.`);
    }
    for (let p = start; p <= last; p++) pages.add(p);
  }
  return [...pages].sort((a, b) => a - b);
}
