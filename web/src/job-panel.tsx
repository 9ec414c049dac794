/** A job: its status and progress, live; the downloads; and each page as it finishes. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteJob, download, FINAL, type Job } from './api';
import { STATUS_LABEL, seconds, when } from './format';
import { followJob } from './live';
import { PageView } from './page-view';

const DOWNLOADS = [
  { format: 'pdf', label: 'Searchable PDF' },
  { format: 'txt', label: 'Text' },
  { format: 'json', label: 'JSON' },
  { format: 'hocr', label: 'hOCR' },
  { format: 'alto', label: 'ALTO XML' },
] as const;

interface Props {
  jobId: string;
  name: string | null;
  /** Move focus to the heading once shown (after an upload, so that keyboard and screen reader follow). */
  focusOnShow: boolean;
  onJob(job: Job): void;
  onGone(id: string): void;
}

export function StatusBadge({ status }: { status: keyof typeof STATUS_LABEL }) {
  return <span class={`status status--${status}`}>{STATUS_LABEL[status]}</span>;
}

function Progress({ job }: { job: Job }) {
  const { pagesTotal, pagesDone } = job.progress;
  const known = pagesTotal !== null;
  const percent = known && pagesTotal > 0 ? (pagesDone / pagesTotal) * 100 : 0;
  const text = known
    ? `${pagesDone} of ${pagesTotal} ${pagesTotal === 1 ? 'page' : 'pages'}`
    : job.status === 'queued'
      ? 'Waiting for a worker'
      : 'Opening the document';
  return (
    <div class="progress">
      <div class="progress__label">
        <span id="progress-label">Pages read</span>
        <span class="progress__count" data-testid="progress-text">
          {text}
        </span>
      </div>
      <div
        class={`progress__track${known ? '' : ' progress__track--busy'}${job.status === 'failed' ? ' progress__track--failed' : ''}`}
        role="progressbar"
        aria-labelledby="progress-label"
        aria-valuemin={0}
        aria-valuemax={known ? pagesTotal : undefined}
        aria-valuenow={known ? pagesDone : undefined}
        aria-valuetext={text}
      >
        <div class="progress__fill" style={{ width: `${known ? percent : 100}%` }} />
      </div>
    </div>
  );
}

export function JobPanel({ jobId, name, focusOnShow, onJob, onGone }: Props) {
  const [job, setJob] = useState<Job | null>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [mode, setMode] = useState<'events' | 'polling' | null>(null);
  const [notice, setNotice] = useState('');
  const [downloadError, setDownloadError] = useState<ApiError | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const onJobRef = useRef(onJob);
  onJobRef.current = onJob;

  useEffect(() => {
    setJob(null);
    setProblem(null);
    setMode(null);
    setNotice('');
    setDownloadError(null);
    setConfirmDelete(false);
    return followJob(jobId, {
      onJob: (next) => {
        setJob(next);
        setProblem(null);
        onJobRef.current(next);
      },
      onError: setProblem,
      onMode: setMode,
    });
  }, [jobId]);

  useEffect(() => {
    if (focusOnShow) headingRef.current?.focus();
  }, [jobId, focusOnShow]);

  const save = async (format: string, label: string) => {
    setDownloadError(null);
    setNotice(`Preparing ${label}…`);
    try {
      setNotice(`Downloaded ${await download(jobId, format)}`);
    } catch (error) {
      setNotice('');
      setDownloadError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)));
    }
  };

  const remove = async () => {
    try {
      await deleteJob(jobId);
      onGone(jobId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return onGone(jobId);
      setDownloadError(error instanceof ApiError ? error : new ApiError(0, 'error', String(error)));
    }
  };

  const completed = job?.status === 'completed';
  const pages = job?.result?.pages ?? [];
  const waiting = job && !FINAL.includes(job.status) ? Math.max(0, (job.progress.pagesTotal ?? 0) - pages.length) : 0;
  const took = job && seconds(job.createdAt, job.finishedAt);

  return (
    <section class="job" aria-labelledby="job-title">
      <div class="card job__summary">
        <div class="job__head">
          <div class="job__title">
            <h2 id="job-title" ref={headingRef} tabIndex={-1}>
              {name ?? `Job ${jobId.slice(0, 8)}`}
            </h2>
            <p class="muted small">
              <span class="mono">{jobId}</span>
              {job && <> · submitted {when(job.createdAt)}</>}
              {took && <> · took {took}</>}
            </p>
          </div>
          {job && <StatusBadge status={job.status} />}
        </div>

        {problem && (
          <p class="alert alert--error" role="alert">
            {problem.status === 404
              ? 'This job no longer exists: it expired, was deleted, or belongs to another API key.'
              : problem.message}{' '}
            <code>{problem.code}</code>
          </p>
        )}

        {job && <Progress job={job} />}
        {/* The status in words for screen readers, said when it changes (not at every page). */}
        <p class="visually-hidden" aria-live="polite">
          {job &&
            `${STATUS_LABEL[job.status]}${job.status === 'completed' ? `: ${job.progress.pagesDone} ${job.progress.pagesDone === 1 ? 'page' : 'pages'} read` : ''}`}
        </p>
        {job && !FINAL.includes(job.status) && (
          <p class="muted small" aria-live="off">
            {mode === 'events' ? 'Live updates from the server.' : mode === 'polling' ? 'Checking for updates as the server asks.' : ''}
          </p>
        )}

        {job?.error && (
          <div class="alert alert--error" role="alert">
            <strong>{job.status === 'cancelled' ? 'Cancelled' : 'The job failed'}:</strong> {job.error.message}{' '}
            <code>{job.error.code}</code>
          </div>
        )}

        <div class="job__actions">
          <div class="downloads" role="group" aria-labelledby="downloads-label">
            <span id="downloads-label" class="downloads__label">
              Download
            </span>
            {DOWNLOADS.map(({ format, label }) => (
              <button
                key={format}
                type="button"
                class={format === 'pdf' ? 'button button--primary' : 'button'}
                disabled={!completed}
                onClick={() => save(format, label)}
              >
                {label}
              </button>
            ))}
          </div>
          <div class="job__delete">
            {confirmDelete ? (
              <>
                <button type="button" class="button button--danger" onClick={remove}>
                  Delete for good
                </button>
                <button type="button" class="button button--quiet" onClick={() => setConfirmDelete(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button type="button" class="button button--quiet" onClick={() => setConfirmDelete(true)}>
                Delete job
              </button>
            )}
          </div>
        </div>
        <p class="small muted" aria-live="polite" data-testid="download-status">
          {notice}
        </p>
        {downloadError && (
          <p class="alert alert--error" role="alert">
            {downloadError.message} <code>{downloadError.code}</code>
          </p>
        )}
      </div>

      {pages.map((summary) => (
        <PageView key={summary.page} jobId={jobId} summary={summary} complete={completed} />
      ))}
      {waiting > 0 && (
        <div class="card pending" aria-hidden="true">
          <span class="spinner" />
          {waiting === 1 ? 'One page' : `${waiting} pages`} still being read; {waiting === 1 ? 'it appears' : 'they appear'} here as{' '}
          {waiting === 1 ? 'it finishes' : 'they finish'}.
        </div>
      )}
    </section>
  );
}
