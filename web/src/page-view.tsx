/**
 * One page: its image with the recognised word boxes over it, coloured by confidence, and the
 * text beside it. Boxes are in PDF points from the top-left corner of the page as displayed,
 * so they are placed in percent of the page's width and height and follow any display size.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getPage, getPageImage, type Page, type PageSummary, type Word } from './api';
import { confidenceBand } from './format';

/**
 * Pixels asked of the API: enough for a sharp page at two device pixels per CSS pixel, and one
 * of the widths it renders (256, 512, 1024, 2000), which any other width is served at anyway.
 */
const IMAGE_WIDTH = 2000;

interface Props {
  jobId: string;
  summary: PageSummary;
  /** The job has completed: every page's JSON and image can be read. */
  complete: boolean;
}

function wordLabel(word: Word) {
  return word.confidence === null ? `${word.text}, from the text layer` : `${word.text}, confidence ${Math.round(word.confidence)}%`;
}

/** Loads once the card comes near the viewport: a long document does not fetch every page up front. */
function useNearViewport<T extends Element>() {
  const ref = useRef<T>(null);
  const [near, setNear] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element || near) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), {
      rootMargin: '600px 0px',
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [near]);
  return [ref, near] as const;
}

export function PageView({ jobId, summary, complete }: Props) {
  const [cardRef, near] = useNearViewport<HTMLElement>();
  const [page, setPage] = useState<Page | null>(null);
  const [bitmap, setBitmap] = useState<ImageBitmap | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [active, setActive] = useState<number | null>(null);
  const [focusIndex, setFocusIndex] = useState(0);
  const [copied, setCopied] = useState(false);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boxesRef = useRef<HTMLDivElement>(null);

  // Partial pages (while the job runs) are readable where the API offers them; otherwise the
  // page is read again when the job completes.
  useEffect(() => {
    if (!near || page) return;
    const abort = new AbortController();
    getPage(jobId, summary.page, abort.signal).then(
      ({ body }) => setPage(body),
      (e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.code === 'job_not_finished') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
      },
    );
    return () => abort.abort();
  }, [near, page, jobId, summary.page, complete]);

  useEffect(() => {
    if (!near || bitmap) return;
    const abort = new AbortController();
    getPageImage(jobId, summary.page, IMAGE_WIDTH, abort.signal).then(setBitmap, (e: unknown) => {
      if (abort.signal.aborted) return;
      if (e instanceof ApiError && e.code === 'job_not_finished') return;
      setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    });
    return () => abort.abort();
  }, [near, bitmap, jobId, summary.page, complete]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !bitmap) return;
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
  }, [bitmap]);

  const words = useMemo(() => page?.lines.flatMap((line) => line.words) ?? [], [page]);
  const lineStarts = useMemo(() => {
    const starts: number[] = [];
    let n = 0;
    for (const line of page?.lines ?? []) starts.push((n += line.words.length) - line.words.length);
    return starts;
  }, [page]);

  const moveFocus = (index: number) => {
    const next = Math.max(0, Math.min(words.length - 1, index));
    setFocusIndex(next);
    boxesRef.current?.querySelectorAll<HTMLButtonElement>('button')[next]?.focus();
  };

  // One tab stop for all the boxes; arrow keys move between words (a roving tabindex).
  const onKeyDown = (e: KeyboardEvent) => {
    const step: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (e.key in step) moveFocus(focusIndex + step[e.key]);
    else if (e.key === 'Home') moveFocus(0);
    else if (e.key === 'End') moveFocus(words.length - 1);
    else if (e.key === 'Escape') setActive(null);
    else return;
    e.preventDefault();
  };

  const copy = async () => {
    await navigator.clipboard.writeText(page?.text ?? summary.text);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };

  const activeWord = active === null ? null : words[active];
  // Near the top edge the tip goes under the word, where there is room.
  const below = !!activeWord && !!page && activeWord.bbox.y0 / page.height < 0.15;
  const titleId = `page-${summary.page}-title`;
  const ratio = `${summary.width} / ${summary.height}`;

  return (
    <article class="page card" ref={cardRef} aria-labelledby={titleId} data-page={summary.page}>
      <header class="page__header">
        <h3 id={titleId}>Page {summary.page}</h3>
        <ul class="badges" aria-label="About this page">
          {summary.source === 'ocr' ? (
            <li class="badge badge--ocr">OCR</li>
          ) : (
            <li class="badge badge--text" title="Read from the PDF's own text layer">
              Text layer
            </li>
          )}
          {summary.rotation !== 0 && <li class="badge badge--turned">Turned {summary.rotation}°</li>}
          {summary.confidence !== null && <li class="badge">Confidence {Math.round(summary.confidence)}%</li>}
          {summary.language && <li class="badge">{summary.language}</li>}
          {summary.dpi && <li class="badge">{summary.dpi} dpi</li>}
        </ul>
      </header>
      {error && (
        <p class="alert alert--error" role="alert">
          {error.message} <code>{error.code}</code>
        </p>
      )}
      <div class="page__body">
        <figure class="page__figure">
          <div class="sheet" style={{ aspectRatio: ratio }}>
            <canvas
              ref={canvasRef}
              class={bitmap ? 'sheet__image' : 'sheet__image sheet__image--loading'}
              role="img"
              aria-label={`Image of page ${summary.page}`}
            />
            {page && (
              <div
                class="boxes"
                ref={boxesRef}
                role="group"
                aria-label={`${words.length} recognised words on page ${summary.page}; arrow keys move between them`}
                onKeyDown={onKeyDown}
                // Back to the word that has the keyboard focus, if one has.
                onMouseLeave={() => setActive(boxesRef.current?.contains(document.activeElement) ? focusIndex : null)}
              >
                {words.map((word, i) => (
                  <button
                    key={i}
                    type="button"
                    class={`box box--${confidenceBand(word.confidence)}${active === i ? ' box--active' : ''}`}
                    style={{
                      left: `${(word.bbox.x0 / page.width) * 100}%`,
                      top: `${(word.bbox.y0 / page.height) * 100}%`,
                      width: `${((word.bbox.x1 - word.bbox.x0) / page.width) * 100}%`,
                      height: `${((word.bbox.y1 - word.bbox.y0) / page.height) * 100}%`,
                    }}
                    tabIndex={i === focusIndex ? 0 : -1}
                    aria-label={wordLabel(word)}
                    data-word={i}
                    onMouseEnter={() => setActive(i)}
                    onFocus={() => (setActive(i), setFocusIndex(i))}
                    onBlur={() => setActive(null)}
                  />
                ))}
                {activeWord && (
                  <div
                    class={below ? 'tip tip--below' : 'tip'}
                    aria-hidden="true"
                    style={{
                      left: `${(((activeWord.bbox.x0 + activeWord.bbox.x1) / 2 / page.width) * 100).toFixed(2)}%`,
                      top: `${(((below ? activeWord.bbox.y1 : activeWord.bbox.y0) / page.height) * 100).toFixed(2)}%`,
                    }}
                  >
                    <strong>{activeWord.text}</strong>
                    <span>{activeWord.confidence === null ? 'text layer' : `${Math.round(activeWord.confidence)}%`}</span>
                  </div>
                )}
              </div>
            )}
          </div>
          <figcaption class="legend">
            <span class="legend__item legend__item--high">90–100%</span>
            <span class="legend__item legend__item--mid">70–89%</span>
            <span class="legend__item legend__item--low">below 70%</span>
            <span class="legend__item legend__item--layer">text layer</span>
          </figcaption>
        </figure>
        <section class="page__text" aria-label={`Text of page ${summary.page}`}>
          <div class="page__text-head">
            <h4>Text</h4>
            <button type="button" class="button button--small" onClick={copy}>
              {copied ? 'Copied' : 'Copy text'}
            </button>
            <span class="visually-hidden" aria-live="polite">
              {copied ? 'Text copied' : ''}
            </span>
          </div>
          <div class="text" tabIndex={0} data-testid="page-text">
            {page
              ? page.lines.map((line, l) => (
                  <p class="text__line" key={l}>
                    {line.words.map((word, w) => {
                      const i = lineStarts[l] + w;
                      return (
                        <span key={w}>
                          {w > 0 && ' '}
                          <span
                            class={active === i ? 'text__word text__word--active' : 'text__word'}
                            onMouseEnter={() => setActive(i)}
                            onMouseLeave={() => setActive(null)}
                          >
                            {word.text}
                          </span>
                        </span>
                      );
                    })}
                  </p>
                ))
              : summary.text.split('\n').map((line, l) => (
                  <p class="text__line" key={l}>
                    {line}
                  </p>
                ))}
            {!summary.text.trim() && <p class="muted">No text was found on this page.</p>}
          </div>
        </section>
      </div>
    </article>
  );
}
