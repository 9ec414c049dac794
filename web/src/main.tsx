/**
 * The service's own web page: try it on a PDF and inspect what it read. It is a plain client
 * of the public /v1 API, served from the same origin under a CSP that allows nothing else.
 */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, apiKey, getJob, getLanguages, type Job, type JobStatus, type Languages } from './api';
import { when } from './format';
import { forget, remember, rememberedJobs, type Remembered } from './history';
import { JobPanel, StatusBadge } from './job-panel';
import { UploadForm } from './upload-form';
import './styles.css';

type ListStatus = JobStatus | 'expired' | 'unknown';

const jobFromHash = () => /^#\/jobs\/([\w-]+)$/.exec(location.hash)?.[1] ?? null;

function KeyForm({ needed, refused, onSaved }: { needed: boolean; refused: ApiError | null; onSaved(): void }) {
  const [value, setValue] = useState(apiKey.get());
  return (
    <form
      class="card key"
      aria-labelledby="key-title"
      onSubmit={(e) => {
        e.preventDefault();
        apiKey.set(value.trim());
        onSaved();
      }}
    >
      <h2 id="key-title">API key</h2>
      {needed && <p class="small">This service needs an API key. Jobs you make with a key are visible only with that key.</p>}
      {refused && (
        <p class="alert alert--error" role="alert">
          {refused.message} <code>{refused.code}</code>
        </p>
      )}
      <div class="key__row">
        <label for="api-key" class="visually-hidden">
          API key
        </label>
        <input
          id="api-key"
          class="input"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <button class="button" type="submit">
          Use key
        </button>
      </div>
      <p class="small muted">Kept in this browser tab only (session storage), and sent only to this service.</p>
    </form>
  );
}

function JobsList({
  jobs,
  statuses,
  selected,
  onSelect,
  onForget,
}: {
  jobs: Remembered[];
  statuses: Record<string, ListStatus>;
  selected: string | null;
  onSelect(id: string): void;
  onForget(id: string): void;
}) {
  return (
    <section class="card jobs" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Your jobs</h2>
      {jobs.length === 0 ? (
        <p class="small muted">Jobs you submit from this browser are listed here.</p>
      ) : (
        <ul class="jobs__list">
          {jobs.map((job) => (
            <li key={job.id} class={job.id === selected ? 'jobs__item jobs__item--selected' : 'jobs__item'}>
              <a
                class="jobs__link"
                href={`#/jobs/${job.id}`}
                aria-current={job.id === selected ? 'page' : undefined}
                onClick={() => onSelect(job.id)}
              >
                <span class="jobs__name">{job.name}</span>
                <span class="jobs__meta small muted">{when(job.createdAt)}</span>
              </a>
              <StatusBadge status={statuses[job.id] ?? 'unknown'} />
              <button type="button" class="icon-button" aria-label={`Remove ${job.name} from this list`} onClick={() => onForget(job.id)}>
                <svg viewBox="0 0 24 24" aria-hidden="true">
                  <path d="M6 6l12 12M18 6 6 18" />
                </svg>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Welcome() {
  return (
    <section class="card welcome" aria-labelledby="welcome-title">
      <h2 id="welcome-title">See what the service reads</h2>
      <p>
        Upload a PDF on the left. Each page appears as soon as it is read, with every recognised word outlined on the page, coloured by how
        sure the OCR engine was, and the text beside it.
      </p>
      <ul class="welcome__list">
        <li>Hover or focus a word to see its text and confidence; arrow keys move between words.</li>
        <li>Pages with a usable text layer are read directly; the others are rendered and recognised.</li>
        <li>Download the result as a searchable PDF, plain text, JSON with word boxes, hOCR or ALTO.</li>
      </ul>
      <p class="small muted">
        This page uses the same public API as any client: see the <a href="/docs">API reference</a>.
      </p>
    </section>
  );
}

function App() {
  const [languages, setLanguages] = useState<Languages | null>(null);
  const [languagesError, setLanguagesError] = useState<ApiError | null>(null);
  const [keyNeeded, setKeyNeeded] = useState(false);
  const [jobs, setJobs] = useState<Remembered[]>(rememberedJobs);
  const [statuses, setStatuses] = useState<Record<string, ListStatus>>({});
  const [selected, setSelected] = useState<string | null>(jobFromHash);
  const [justCreated, setJustCreated] = useState<string | null>(null);
  const [keyVersion, setKeyVersion] = useState(0);

  useEffect(() => {
    const onHash = () => setSelected(jobFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // The languages double as the probe for whether the service wants a key.
  useEffect(() => {
    setLanguagesError(null);
    getLanguages().then(
      ({ body }) => (setLanguages(body), setKeyNeeded(false)),
      (error: ApiError) => {
        if (error.status === 401) setKeyNeeded(true);
        setLanguagesError(error);
      },
    );
  }, [keyVersion]);

  useEffect(() => {
    for (const job of rememberedJobs()) {
      getJob(job.id).then(
        ({ body }) => setStatuses((s) => ({ ...s, [job.id]: body.status })),
        (error: ApiError) => setStatuses((s) => ({ ...s, [job.id]: error.status === 404 ? 'expired' : 'unknown' })),
      );
    }
  }, [keyVersion]);

  const select = (id: string | null) => {
    location.hash = id ? `#/jobs/${id}` : '';
    setSelected(id);
  };

  const created = (job: Job, source: { name: string; size: number }) => {
    remember({ id: job.id, name: source.name, size: source.size, createdAt: job.createdAt });
    setJobs(rememberedJobs());
    setStatuses((s) => ({ ...s, [job.id]: job.status }));
    setJustCreated(job.id);
    select(job.id);
  };

  const onJob = useCallback((job: Job) => setStatuses((s) => (s[job.id] === job.status ? s : { ...s, [job.id]: job.status })), []);

  const drop = (id: string) => {
    forget(id);
    setJobs(rememberedJobs());
    if (selected === id) select(null);
  };

  const selectedJob = jobs.find((j) => j.id === selected);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar__inner">
          <a class="brand" href="#" onClick={() => select(null)}>
            <svg class="brand__mark" viewBox="0 0 32 32" aria-hidden="true">
              <rect x="3" y="3" width="26" height="26" rx="7" />
              <path d="M10 12h12M10 16h9M10 20h11" />
            </svg>
            <span>OCR service</span>
          </a>
          <nav aria-label="Service">
            <a href="/docs">API reference</a>
          </nav>
        </div>
      </header>
      <main id="main" class="layout">
        <div class="sidebar">
          {(keyNeeded || apiKey.get()) && (
            <KeyForm
              needed={keyNeeded}
              refused={keyNeeded && apiKey.get() ? languagesError : null}
              onSaved={() => setKeyVersion((v) => v + 1)}
            />
          )}
          <div class="card">
            <UploadForm languages={languages} languagesError={keyNeeded ? null : languagesError} onCreated={created} />
          </div>
          <JobsList jobs={jobs} statuses={statuses} selected={selected} onSelect={select} onForget={drop} />
        </div>
        <div class="content">
          {selected ? (
            <JobPanel
              key={`${selected}:${keyVersion}`}
              jobId={selected}
              name={selectedJob?.name ?? null}
              focusOnShow={justCreated === selected}
              onJob={onJob}
              onGone={drop}
            />
          ) : (
            <Welcome />
          )}
        </div>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
