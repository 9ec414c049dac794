/**
 * The v1 resources as OpenAPI schemas. Each class implements the type the service returns,
 * so a field added there and not here fails to compile; the generated-client spec
 * (test/openapi.e2e-spec.ts) catches the rest.
 */
import { ApiProperty, ApiPropertyOptional, ApiSchema, OmitType } from '@nestjs/swagger';
import type { ErrorBody } from '../../contract/failures';
import type {
  Box,
  DocumentResult,
  DocumentSummary,
  Line,
  NoiseFilter,
  PageResult,
  PageSummary,
  ReadMethod,
  RotationMethod,
  Word,
} from '../../contract/results';
import { DEFAULT_OUTPUT_FORMAT, OCR_MODES, type OcrMode } from '../../contract/job-options';
import type { DeliveryAttempts, JobStatus, JobView, OutputStatus, WebhookStatus } from '../../contract/job-view';
import { RESULT_FORMATS, type ResultFormat } from '../../contract/formats';

const JOB_STATUSES: JobStatus[] = ['queued', 'processing', 'completed', 'failed', 'cancelled'];
const SOURCES: PageResult['source'][] = ['text', 'ocr'];

@ApiSchema({ name: 'Upload' })
export class UploadDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description:
      "One PDF, or one image: PNG, JPEG, TIFF (every page), WebP, GIF (the first frame). Its bytes decide, not its name or type: a PDF has `%PDF-` in its first 1024 bytes, an image its format's signature at the start.",
  })
  file: unknown;

  @ApiPropertyOptional({ example: 'eng+fra', description: 'Tesseract language codes joined by `+`. Default `OCR_LANGUAGES`.' })
  languages?: string;

  @ApiPropertyOptional({ example: '1-3,7', description: 'Pages to process, e.g. `1-3,7` or `5-` (to the end). Default: all.' })
  pages?: string;

  @ApiPropertyOptional({
    enum: OCR_MODES,
    default: 'auto',
    description: '`auto`: the text layer where usable, OCR for the rest; `always`: OCR every page; `never`: text layer only.',
  })
  ocr?: OcrMode;

  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://example.com/hooks/ocr',
    description:
      'Where to POST the job when it completes, fails or is cancelled, signed with `X-Ocr-Signature`. https only (http where `WEBHOOK_ALLOW_HTTP`); hosts that resolve to private, loopback or link-local addresses are refused unless `WEBHOOK_ALLOW_PRIVATE`. Needs `WEBHOOK_SECRET` on the server.',
  })
  callbackUrl?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    example: 3600,
    description:
      'Seconds to keep the job and its files once it has finished. Default `RESULT_TTL_SECONDS`, at most `MAX_RETENTION_SECONDS`.',
  })
  retention?: number;
  @ApiPropertyOptional({
    format: 'uri',
    example: 'https://my-bucket.s3.amazonaws.com/ocr/out.pdf?X-Amz-Signature=...',
    description:
      'Where to PUT the output once the job completes: a presigned URL of your bucket, say. Sent before the webhook, with `Content-Type` and `Content-Length` and no redirects followed; retried like webhooks. The same address rules as `callbackUrl`. Never shown back: the job shows only `output`, how the delivery went.',
  })
  outputUrl?: string;

  @ApiPropertyOptional({
    enum: RESULT_FORMATS,
    default: DEFAULT_OUTPUT_FORMAT,
    description: 'The format PUT to `outputUrl`: the searchable PDF by default.',
  })
  outputFormat?: ResultFormat;
}

@ApiSchema({ name: 'JobFromUrl' })
export class UrlJobDto extends OmitType(UploadDto, ['file'] as const) {
  @ApiProperty({
    example: 'https://example.com/scans/invoice.pdf',
    description:
      'The PDF or image to read: an `https` URL, fetched by the API (redirects followed, each host checked like `callbackUrl`; within `SOURCE_TIMEOUT_MS` and `MAX_UPLOAD_BYTES`), or `s3://bucket/key` of an object in the bucket of `STORAGE_URL` under `S3_INPUT_PREFIX`, copied inside the bucket.',
  })
  url: string;
}

@ApiSchema({ name: 'Progress' })
export class ProgressDto {
  @ApiProperty({ type: 'integer', nullable: true, description: 'Null until a worker has opened the document.' })
  pagesTotal: number | null;

  @ApiProperty({ type: 'integer' })
  pagesDone: number;
}

@ApiSchema({ name: 'JobError' })
export class JobErrorDto implements ErrorBody {
  @ApiProperty({
    example: 'pdf_encrypted',
    description:
      '`pdf_invalid`, `pdf_encrypted`, `pdf_empty`, `too_many_pages`, `invalid_pages`, `page_too_large`, `page_timeout`, `processing_failed` or `cancelled`.',
  })
  code: string;

  @ApiProperty()
  message: string;
}

@ApiSchema({ name: 'NoiseFilter' })
export class NoiseFilterDto implements NoiseFilter {
  @ApiProperty({
    type: 'integer',
    description: 'Words dropped as noise: lines Tesseract doubts throughout (no word at confidence 40), symbol-only words below 50.',
  })
  droppedWords: number;

  @ApiProperty({
    description: "`true` when the filter would have dropped most of the page's letters and digits, and so dropped nothing.",
  })
  overruled: boolean;
}

@ApiSchema({ name: 'PageSummary' })
export class PageSummaryDto implements PageSummary {
  @ApiProperty({ type: 'integer', example: 1 })
  page: number;

  @ApiProperty({ enum: SOURCES, description: '`text`: read from the text layer; `ocr`: rendered and recognised.' })
  source: 'text' | 'ocr';

  @ApiProperty({ description: 'A line each, a blank line between paragraphs.' })
  text: string;

  @ApiProperty({ type: 'number', nullable: true, description: 'Mean word confidence, 0-100; null for text-layer pages.' })
  confidence: number | null;

  @ApiProperty({ description: 'In PDF points (an image page: its pixels at its resolution, see the README).' })
  width: number;

  @ApiProperty({ description: 'In PDF points.' })
  height: number;

  @ApiProperty({
    enum: [0, 90, 180, 270],
    description: 'Degrees clockwise the page image was turned to read it upright; 0 for text-layer pages.',
  })
  rotation: 0 | 90 | 180 | 270;

  @ApiProperty({
    enum: ['text-layer', 'disabled', 'confident-read', 'sideways-read', 'osd-upright', 'osd', 'osd-unconfirmed'],
    description:
      "How `rotation` was decided. `confident-read`: the page read well as it stands; `sideways-read`: Tesseract read it well in lines running up or down the page, which give the turn; `osd-upright`: it read poorly and orientation detection found it upright; `osd`: orientation detection proposed a turn and the turned read was clearly better (the less sure the detection, the better the read must be); `osd-unconfirmed`: a turn was proposed but the turned read was no better, so the page was kept as it stands; `disabled`: OCR_DETECT_ORIENTATION=false; `text-layer`: not OCR'd.",
  })
  rotationMethod: RotationMethod;

  @ApiProperty({
    enum: ['text-layer', 'otsu', 'otsu-over-sauvola', 'sauvola-over-otsu'],
    description:
      "Which binarisation gave the page's text. `otsu`: the first read (Tesseract's default Otsu threshold) was confident (mean word confidence 70 or more) and kept; `otsu-over-sauvola`: it was not, a second read with Sauvola's local threshold gave fewer letters and digits weighted by their confidence, and the first was kept; `sauvola-over-otsu`: the second read gave more and was kept; `text-layer`: not OCR'd.",
  })
  readMethod: ReadMethod;

  @ApiProperty({ type: NoiseFilterDto, nullable: true, description: 'What the noise filter did; null for text-layer pages.' })
  noiseFilter: NoiseFilter | null;

  @ApiProperty({ type: 'number', nullable: true, description: 'Resolution the page was rendered at for OCR; null for text-layer pages.' })
  dpi: number | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'eng',
    description: 'Languages the page was read with; null for text-layer pages.',
  })
  language: string | null;
}

@ApiSchema({ name: 'JobResult' })
export class JobResultDto implements DocumentSummary {
  @ApiProperty({ type: 'integer' })
  pageCount: number;

  @ApiProperty({ description: "The pages' text joined with form feeds (`\\f`)." })
  text: string;

  @ApiProperty({ type: [PageSummaryDto] })
  pages: PageSummaryDto[];

  @ApiProperty({
    description:
      '`true` while the job runs (or after it failed or was cancelled): `pages` are the pages finished so far, `pageCount` their number.',
  })
  partial: boolean;
}

/** What both deliveries report: attempts and the last answer. */
class DeliveryAttemptsDto implements DeliveryAttempts {
  @ApiProperty({ type: 'integer', description: 'Delivery attempts made so far (for a webhook: for its latest event).' })
  attempts: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "The receiver's HTTP status at the last attempt; null if it did not answer.",
  })
  lastStatus: number | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'Why the last attempt got no answer.' })
  lastError: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  lastAttemptAt: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'When a 2xx answer was received.' })
  deliveredAt: string | null;
}

@ApiSchema({ name: 'WebhookDelivery' })
export class WebhookStatusDto extends DeliveryAttemptsDto implements WebhookStatus {
  @ApiProperty({ format: 'uri' })
  url: string;
}

@ApiSchema({ name: 'OutputDelivery' })
export class OutputStatusDto extends DeliveryAttemptsDto implements OutputStatus {
  @ApiProperty({ enum: RESULT_FORMATS })
  format: ResultFormat;

  @ApiProperty({
    enum: ['waiting', 'pending', 'delivered', 'failed', 'skipped'],
    description:
      '`waiting` until the job completes, `pending` while it is sent and retried, then `delivered` or `failed` (attempts used up); `skipped` when the job did not complete.',
  })
  status: OutputStatus['status'];
}

@ApiSchema({ name: 'Job' })
export class JobDto implements JobView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: JOB_STATUSES })
  status: JobStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  finishedAt: string | null;

  @ApiProperty({ type: ProgressDto })
  progress: ProgressDto;

  @ApiProperty({ type: JobErrorDto, nullable: true, description: 'Set when the job failed or was cancelled.' })
  error: JobErrorDto | null;

  @ApiProperty({
    type: JobResultDto,
    nullable: true,
    description:
      'Set when the job completed; while it runs (or once it failed or was cancelled) the pages finished so far, with `partial: true`.',
  })
  result: JobResultDto | null;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    description: 'When the job and its files will be deleted (then it answers 404); null until it has finished.',
  })
  expiresAt: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Seconds the job is kept once finished.' })
  retention: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'While queued: 1 for the next document to start. Null otherwise.' })
  queuePosition: number | null;

  @ApiProperty({
    type: 'string',
    format: 'date-time',
    nullable: true,
    description: 'While queued or processing: an estimate from the pages ahead and the pages per minute the workers do now.',
  })
  estimatedDoneAt: string | null;

  @ApiProperty({ type: WebhookStatusDto, nullable: true, description: 'The delivery of the webhook, when the job has a `callbackUrl`.' })
  webhook: WebhookStatusDto | null;

  @ApiProperty({ type: OutputStatusDto, nullable: true, description: 'The delivery of the output, when the job has an `outputUrl`.' })
  output: OutputStatusDto | null;
}

@ApiSchema({ name: 'Box' })
export class BoxDto implements Box {
  @ApiProperty() x0: number;
  @ApiProperty() y0: number;
  @ApiProperty() x1: number;
  @ApiProperty() y1: number;
}

@ApiSchema({ name: 'Word' })
export class WordDto implements Word {
  @ApiProperty()
  text: string;

  @ApiProperty({ type: 'number', nullable: true })
  confidence: number | null;

  @ApiProperty({ type: BoxDto, description: "In PDF points from the page's top-left corner." })
  bbox: BoxDto;
}

@ApiSchema({ name: 'Line' })
export class LineDto implements Line {
  @ApiProperty()
  text: string;

  @ApiProperty({ type: 'number', nullable: true })
  confidence: number | null;

  @ApiProperty({ type: BoxDto })
  bbox: BoxDto;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'The text block (column, table, caption) of the line, numbered from 1 on its page in reading order.',
  })
  block: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'The paragraph of the line, numbered from 1 on its page in reading order.' })
  paragraph: number;

  @ApiProperty({ type: [WordDto] })
  words: WordDto[];
}

@ApiSchema({ name: 'Page' })
export class PageResultDto extends PageSummaryDto implements PageResult {
  @ApiProperty({ type: [LineDto] })
  lines: LineDto[];
}

@ApiSchema({ name: 'FullResult' })
export class FullResultDto implements DocumentResult {
  @ApiProperty({ type: 'integer' })
  pageCount: number;

  @ApiProperty()
  text: string;

  @ApiProperty({ type: [PageResultDto] })
  pages: PageResultDto[];

  @ApiPropertyOptional({ description: '`true`, and only then present, for a cancelled job: `pages` are the pages it finished.' })
  partial?: boolean;
}
