/** Drop or pick a PDF or a scanned image (or give its address), choose languages and the OCR mode, submit through POST /v1/jobs. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, createJob, createJobFromUrl, type Job, type Languages, type OcrMode } from './api';
import { fileSize, languageName } from './format';

const MODES: { value: OcrMode; label: string; hint: string }[] = [
  { value: 'auto', label: 'Auto', hint: 'Use the text layer where there is one, OCR the rest' },
  { value: 'always', label: 'Always OCR', hint: 'Read every page from its image' },
  { value: 'never', label: 'Text layer only', hint: 'No OCR; pages without text stay empty' },
];

interface Props {
  languages: Languages | null;
  languagesError: ApiError | null;
  /** The job, and what to call it in the list: the file's name and size, or the URL's last part (size 0). */
  onCreated(job: Job, source: { name: string; size: number }): void;
}

export function UploadForm({ languages, languagesError, onCreated }: Props) {
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [mode, setMode] = useState<OcrMode>('auto');
  const [pages, setPages] = useState('');
  const [dragging, setDragging] = useState(false);
  const [sending, setSending] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  // Start from the service's default languages once they are known.
  useEffect(() => {
    if (languages && chosen.length === 0) setChosen(languages.default.split('+').filter(Boolean));
  }, [languages]);

  const offered = [...new Set([...(languages?.languages.map((l) => l.code) ?? []), ...chosen])].filter((c) => c !== 'osd');

  const pick = (files: FileList | null | undefined) => {
    if (files?.[0]) {
      setFile(files[0]);
      setUrl('');
      setError(null);
    }
  };

  const toggle = (code: string, on: boolean) => setChosen((now) => (on ? [...now, code] : now.filter((c) => c !== code)));

  const submit = async (e: Event) => {
    e.preventDefault();
    const link = url.trim();
    if (!file && !link) return;
    setError(null);
    setSending(0);
    try {
      const options = { languages: chosen.join('+'), ocr: mode, pages };
      if (file) onCreated(await createJob({ ...options, file, onProgress: setSending }), file);
      else onCreated(await createJobFromUrl({ ...options, url: link }), { name: nameOf(link), size: 0 });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'error', String(failure)));
    } finally {
      setSending(null);
    }
  };

  return (
    <form class="upload" onSubmit={submit} noValidate aria-labelledby="upload-title">
      <h2 id="upload-title">Read a PDF or an image</h2>
      <label
        class={`dropzone${dragging ? ' dropzone--over' : ''}${file ? ' dropzone--chosen' : ''}`}
        onDragOver={(e) => (e.preventDefault(), setDragging(true))}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          pick(e.dataTransfer?.files);
        }}
      >
        <input
          type="file"
          name="file"
          accept="application/pdf,.pdf,image/png,image/jpeg,image/tiff,image/webp,image/gif,.png,.jpg,.jpeg,.tif,.tiff,.webp,.gif"
          class="visually-hidden"
          onChange={(e) => pick((e.target as HTMLInputElement).files)}
        />
        <svg class="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
          <path d="M14 3v5h5M12 17v-6M9.5 13.5 12 11l2.5 2.5" />
        </svg>
        {file ? (
          <span class="dropzone__text">
            <strong class="dropzone__name">{file.name}</strong>
            <span class="muted small">{fileSize(file.size)} · choose another</span>
          </span>
        ) : (
          <span class="dropzone__text">
            <strong>Drop a PDF or an image here</strong>
            <span class="muted small">PNG, JPEG, TIFF, WebP or GIF; or click to choose a file</span>
          </span>
        )}
      </label>

      <div class="field">
        <label for="source-url">
          Or its address <span class="muted small">(https, or s3:// in the service's bucket)</span>
        </label>
        <input
          id="source-url"
          class="input"
          type="url"
          placeholder="https://example.com/scan.pdf"
          value={url}
          onInput={(e) => {
            setUrl((e.target as HTMLInputElement).value);
            setFile(null);
          }}
        />
      </div>

      <fieldset class="field">
        <legend>Languages</legend>
        {languagesError ? (
          <p class="small muted">Could not list the languages: {languagesError.message}</p>
        ) : !languages ? (
          <p class="small muted">Loading…</p>
        ) : (
          <>
            <div class="choices">
              {offered.map((code) => (
                <label class="chip" key={code}>
                  <input
                    type="checkbox"
                    checked={chosen.includes(code)}
                    onChange={(e) => toggle(code, (e.target as HTMLInputElement).checked)}
                  />
                  <span>{languageName(code)}</span>
                  <span class="chip__code">{code}</span>
                </label>
              ))}
            </div>
            {languages.workers === 0 && <p class="small note">No worker is running at the moment: the job will wait until one starts.</p>}
          </>
        )}
      </fieldset>

      <fieldset class="field">
        <legend>OCR</legend>
        <div class="modes">
          {MODES.map((m) => (
            <label class="mode" key={m.value}>
              <input type="radio" name="ocr" value={m.value} checked={mode === m.value} onChange={() => setMode(m.value)} />
              <span>
                <strong>{m.label}</strong>
                <span class="small muted">{m.hint}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      <div class="field">
        <label for="pages">
          Pages <span class="muted small">(optional)</span>
        </label>
        <input
          id="pages"
          class="input"
          type="text"
          inputMode="numeric"
          placeholder="all, or e.g. 1-3,7"
          value={pages}
          onInput={(e) => setPages((e.target as HTMLInputElement).value)}
        />
      </div>

      <button class="button button--primary button--wide" type="submit" disabled={(!file && !url.trim()) || sending !== null}>
        {sending === null
          ? 'Read document'
          : file && sending < 1
            ? `Uploading… ${Math.round(sending * 100)}%`
            : file
              ? 'Queuing…'
              : 'Fetching…'}
      </button>
      {error && (
        <div class="alert alert--error" role="alert" data-testid="upload-error">
          <strong>Not accepted ({error.status || 'no answer'}):</strong> {error.message} <code>{error.code}</code>
        </div>
      )}
    </form>
  );
}

/** The last part of a URL's path, for the list of jobs: "scan.pdf" of https://example.com/a/scan.pdf?x=1. */
function nameOf(link: string): string {
  try {
    return decodeURIComponent(new URL(link).pathname.split('/').pop() || '') || link;
  } catch {
    return link;
  }
}
