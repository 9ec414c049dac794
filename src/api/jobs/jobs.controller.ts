import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PAGE_FORMATS, RESULT_FORMATS } from '../../contract/formats';
import { JOB_OPTION_NAMES, type JobOptionName, OCR_MODES } from '../../contract/job-options';
import { DEFAULT_IMAGE_WIDTH, IMAGE_WIDTHS, MAX_IMAGE_WIDTH } from '../../contract/queues';
import { ApiError } from '../errors/api-error';
import { Owner } from '../auth/owner.decorator';
import { JobLogInterceptor } from '../../logging/job-log.interceptor';
import { ApiErrors } from '../openapi/error-response.dto';
import { FullResultDto, JobDto, PageResultDto, UploadDto, UrlJobDto } from './job.dto';
import { imageWidth, pageNumber, PARTIAL_HEADER, resultContent, sendOutput, sendStored } from './stored-output';
import { negotiateFormat } from './format-negotiation';
import type { JobView } from '../../contract/job-view';
import { JobLifecycle } from './job-lifecycle.service';
import { JobReader, type JobStatusReply, WAIT_UNTIL, type WaitUntil } from './job-reader.service';
import { JobSubmission, type RequestOptions } from './job-submission.service';
import { UploadSizeGuard } from './upload-size.guard';
import { StorageService } from '../../storage/storage.service';
import { AppConfig } from '../../config/config';
import { JobEvents } from '../../queue/job-events.service';
import { JobWatcher } from '../events/job-watcher.service';
import { StreamLimits } from '../events/stream-limits.service';
import { streamJobEvents } from '../events/sse';
import { receiveRawPdf } from './raw-upload';
import { ACCEPTED_MEDIA_TYPES } from '../../contract/inputs';
import { isJson, readUrlRequest } from './json-request';

const POLL_HEADER = {
  'Retry-After': {
    description:
      'Seconds to wait before polling again, from the pages ahead and the pages per minute the workers do now; sent while the job is queued or processing.',
    schema: { type: 'integer' },
  },
};
const PAGE_NUMBER = ApiParam({
  name: 'page',
  description: 'A page number of the uploaded PDF, from 1.',
  schema: { type: 'integer', minimum: 1 },
});
const FILE_HEADERS = {
  'Content-Disposition': { description: 'A file name made from the uploaded one.', schema: { type: 'string' } },
  ETag: { description: 'Send it back as `If-None-Match` to get `304` while the output is unchanged.', schema: { type: 'string' } },
};

const PARTIAL_RESULT_HEADER = {
  [PARTIAL_HEADER]: {
    description: '`true` when the job was cancelled: the result holds only the pages it finished.',
    schema: { type: 'string', enum: ['true'] },
  },
};

const MAX_WAIT_SECONDS = 60;
const unsupportedType = (type: string) =>
  new ApiError(
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    'unsupported_media_type',
    `Content-Type "${type.split(';')[0].trim().slice(0, 100)}" is not taken: send the file as multipart/form-data (part "file"), as the body with one of ${ACCEPTED_MEDIA_TYPES.join(', ')}, or by reference with application/json.`,
  );
/** Each option's query parameter for raw uploads, documented as its form field (see UploadDto). */
const RAW_OPTION_SCHEMAS: Record<JobOptionName, object> = {
  languages: { type: 'string' },
  pages: { type: 'string' },
  ocr: { type: 'string', enum: OCR_MODES },
  callbackUrl: { type: 'string', format: 'uri' },
  retention: { type: 'integer', minimum: 1 },
  outputUrl: { type: 'string', format: 'uri' },
  outputFormat: { type: 'string', enum: RESULT_FORMATS },
};
const RAW_OPTIONS = JOB_OPTION_NAMES.map((name) =>
  ApiQuery({
    name,
    required: false,
    description: 'Raw uploads (`Content-Type: application/pdf` or an image type) only: as the form field.',
    schema: RAW_OPTION_SCHEMAS[name],
  }),
);
const applyAll =
  (decorators: MethodDecorator[]): MethodDecorator =>
  (target, key, descriptor) => {
    // As stacked decorators would: the last first.
    for (const decorate of [...decorators].reverse()) decorate(target, key, descriptor);
  };
const JOB_ID = ApiParam({ name: 'id', description: 'The job id from `POST /v1/jobs`.', schema: { type: 'string', format: 'uuid' } });

@ApiTags('jobs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@ApiErrors({ 401: ['unauthorized'], 429: ['rate_limited'], 500: ['internal_error'], 503: ['queue_unavailable'] })
@Controller('v1/jobs')
@UseInterceptors(JobLogInterceptor)
export class JobsController {
  constructor(
    private readonly submission: JobSubmission,
    private readonly jobs: JobReader,
    private readonly lifecycle: JobLifecycle,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly events: JobEvents,
    private readonly watcher: JobWatcher,
    private readonly streams: StreamLimits,
  ) {}

  @Post()
  @HttpCode(202)
  @UseGuards(UploadSizeGuard)
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({
    operationId: 'createJob',
    summary: 'Upload a PDF or an image to OCR',
    description:
      'A PDF or an image (PNG, JPEG, TIFF with all its pages, WebP, GIF: the first frame); its bytes decide what it is, never its name or declared type. ' +
      'As `multipart/form-data` (the file in the part `file`, options as fields), as the raw body with `Content-Type: application/pdf` or `image/png|jpeg|tiff|webp|gif` (options as query parameters), ' +
      "or by reference: `application/json` with `url` (https, or `s3://` in the server's bucket) and the options as fields. Same limits and checks every way.",
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': { schema: { $ref: getSchemaPath(UploadDto) } },
        ...Object.fromEntries(ACCEPTED_MEDIA_TYPES.map((media) => [media, { schema: { type: 'string', format: 'binary' } }])),
        'application/json': { schema: { $ref: getSchemaPath(UrlJobDto) } },
      },
    },
  })
  @ApiExtraModels(UploadDto, UrlJobDto)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Up to 255 visible ASCII characters. Repeating it (with the same API key) with the same file returns the original job (200, `Idempotent-Replayed: true`) instead of making another; with a different file or other options, 422 `idempotency_key_reused`. Remembered until the job expires.',
  })
  @applyAll(RAW_OPTIONS)
  @ApiAcceptedResponse({
    type: JobDto,
    description: 'Queued. Poll the job at `Location`, long-poll it with `?wait=`, or follow `/v1/jobs/{id}/events`.',
    headers: { Location: { description: 'The job: `/v1/jobs/{id}`.', schema: { type: 'string' } }, ...POLL_HEADER },
  })
  @ApiOkResponse({
    type: JobDto,
    description: 'The job an earlier request with the same `Idempotency-Key` and file created.',
    headers: {
      Location: { description: 'The job: `/v1/jobs/{id}`.', schema: { type: 'string' } },
      'Idempotent-Replayed': { description: '`true`.', schema: { type: 'string' } },
    },
  })
  @ApiErrors({
    400: [
      'file_missing',
      'invalid_pages',
      'unsupported_language',
      'invalid_option',
      'invalid_json',
      'callback_url_not_allowed',
      'url_not_allowed',
      'output_url_not_allowed',
    ],
    408: ['request_timeout'],
    409: ['idempotency_key_in_use'],
    413: ['file_too_large', 'json_too_large'],
    415: ['unsupported_media_type'],
    422: ['pdf_empty', 'url_unavailable', 'idempotency_key_reused'],
    429: ['rate_limited', 'quota_exceeded'],
    503: ['queue_unavailable', 'queue_full'],
  })
  async create(
    @UploadedFile() uploaded: Express.Multer.File | undefined,
    @Body() body: RequestOptions['values'] | undefined,
    @Query() query: RequestOptions['values'],
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Owner() owner: string | null,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const type = req.headers['content-type'] ?? '';
    let created;
    if (!uploaded && isJson(type)) {
      const { url, values } = await readUrlRequest(req);
      created = await this.submission.create({ url }, { values, from: 'json' }, owner, idempotencyKey);
    } else {
      const raw = !uploaded && ACCEPTED_MEDIA_TYPES.includes(type.split(';')[0].trim().toLowerCase());
      if (!uploaded && !raw && type && !/^multipart\/form-data\s*(;|$)/i.test(type)) throw unsupportedType(type);
      const file = raw ? await receiveRawPdf(req, this.storage.incomingDir, this.config.maxUploadBytes) : uploaded;
      created = await this.submission.create({ file }, { values: (raw ? query : body) ?? {}, from: 'form' }, owner, idempotencyKey);
    }
    res.setHeader('Location', `/v1/jobs/${created.view.id}`);
    if (created.replayed) res.status(200).setHeader('Idempotent-Replayed', 'true');
    if (created.retryAfter) res.setHeader('Retry-After', String(created.retryAfter));
    return created.view;
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getJob', summary: 'Status, progress and the text of each page finished so far' })
  @JOB_ID
  @ApiQuery({
    name: 'wait',
    required: false,
    description: `Long poll: answer as soon as the job changes (a status, a finished page), or after this many seconds (at most ${MAX_WAIT_SECONDS}).`,
    schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS },
  })
  @ApiQuery({
    name: 'until',
    required: false,
    description:
      'With `wait`: `change` (default) answers at the first change; `final` only once the job has completed, failed or been cancelled (or after `wait` seconds, as it is then).',
    schema: { type: 'string', enum: [...WAIT_UNTIL], default: 'change' },
  })
  @ApiOkResponse({ type: JobDto, headers: POLL_HEADER })
  @ApiErrors({ 400: ['invalid_option'], 404: ['job_not_found'], 429: ['rate_limited', 'too_many_streams'] })
  async find(
    @Param('id') id: string,
    @Query('wait') wait: string | undefined,
    @Query('until') until: string | undefined,
    @Owner() owner: string | null,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    if (until !== undefined && !WAIT_UNTIL.includes(until as WaitUntil)) {
      throw new ApiError(HttpStatus.BAD_REQUEST, 'invalid_option', `"until" must be one of ${WAIT_UNTIL.join(', ')}.`);
    }
    let reply: JobStatusReply;
    if (wait === undefined) reply = await this.jobs.status(id, owner);
    else {
      if (!/^\d{1,3}$/.test(wait) || Number(wait) > MAX_WAIT_SECONDS) {
        throw new ApiError(
          HttpStatus.BAD_REQUEST,
          'invalid_option',
          `"wait" must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}.`,
        );
      }
      if (Number(wait) > 0) this.streams.hold(owner, req, res);
      reply = await this.jobs.waitFor(id, owner, Number(wait), (until ?? 'change') as WaitUntil);
    }
    if (reply.retryAfter) res.setHeader('Retry-After', String(reply.retryAfter));
    res.type('json');
    return reply.json;
  }

  @Get(':id/events')
  @ApiOperation({
    operationId: 'getJobEvents',
    summary: 'Live progress as Server-Sent Events',
    description:
      'Event `status` (`{ jobId, status, pagesTotal, pagesDone, error }`) when the job is queued, starts, completes, fails or is cancelled; event `page` (`{ jobId, page, source }`) as each page finishes. Every event has an `id`: reconnect with `Last-Event-ID` to get only what came after it. The stream ends after the final status. Works across API replicas.',
  })
  @JOB_ID
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event.' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    content: { 'text/event-stream': { schema: { type: 'string', description: 'A stream of `status` and `page` events.' } } },
  })
  @ApiErrors({ 404: ['job_not_found'], 429: ['rate_limited', 'too_many_streams'] })
  async stream(@Param('id') id: string, @Owner() owner: string | null, @Req() req: Request, @Res() res: Response) {
    const view = await this.jobs.find(id, owner);
    this.streams.hold(owner, req, res);
    await streamJobEvents(req, res, view, this.events, this.watcher);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'cancelJob',
    summary: 'Stop a queued or running job, keeping the pages it finished',
    description:
      'Queued pages are removed and pages being read are discarded when they finish. The job reads as `cancelled`, with the pages finished before in `result` (`partial: true`), until it expires. Cancelling a cancelled job changes nothing.',
  })
  @JOB_ID
  @ApiOkResponse({ type: JobDto })
  @ApiErrors({ 404: ['job_not_found'], 409: ['job_finished'] })
  async cancel(@Param('id') id: string, @Owner() owner: string | null): Promise<JobView> {
    return this.lifecycle.cancel(id, owner);
  }

  @Get(':id/result')
  @ApiOperation({
    operationId: 'getJobResult',
    summary: 'The result in one format: JSON (lines, words, boxes), text, hOCR, ALTO or the searchable PDF',
    description:
      'Chosen by `format`, or else by `Accept`. Each format is made once, when the job completes, and streamed from storage ' +
      'with `Content-Length` and `ETag` (send `If-None-Match` for a `304`). `Content-Disposition` names the file after the upload. ' +
      'Of a cancelled job, the pages it finished as `json` (with `partial: true`) or `txt`, sent with `Partial-Result: true`; its other formats answer `422 format_unavailable`.',
  })
  @JOB_ID
  @ApiQuery({
    name: 'format',
    required: false,
    enum: RESULT_FORMATS,
    description:
      '`json` (default), `txt` (pages separated by form feeds), `hocr` (XHTML), `alto` (ALTO 4.4 XML) or `pdf` (the upload with an invisible text layer). ' +
      'Without it, `Accept` decides: `application/json`, `text/plain`, `text/vnd.hocr+html` or `text/html`, `application/alto+xml` or `application/xml`, `application/pdf`.',
  })
  @ApiExtraModels(FullResultDto)
  @ApiOkResponse({ headers: { ...FILE_HEADERS, ...PARTIAL_RESULT_HEADER }, content: resultContent(RESULT_FORMATS) })
  @ApiErrors({
    404: ['job_not_found'],
    406: ['format_not_supported'],
    409: ['job_not_finished'],
    422: ['format_unavailable'],
  })
  async result(
    @Param('id') id: string,
    @Query('format') format: string | undefined,
    @Req() req: Request,
    @Owner() owner: string | null,
    @Res() res: Response,
  ) {
    const chosen = negotiateFormat(RESULT_FORMATS, format, req);
    await sendOutput(this.storage, req, res, await this.jobs.output(id, chosen, owner));
  }

  @Get(':id/pages/:page')
  @ApiOperation({
    operationId: 'getJobPage',
    summary: 'One page of the result: its JSON (lines, words, boxes), text, hOCR or ALTO',
    description:
      'Like `/result`, for one page; `page` is the page number in the uploaded PDF. A page a cancelled job finished is served as `json` or `txt`.',
  })
  @JOB_ID
  @PAGE_NUMBER
  @ApiQuery({ name: 'format', required: false, enum: PAGE_FORMATS, description: 'As for `/result`, without `pdf`.' })
  @ApiExtraModels(PageResultDto)
  @ApiOkResponse({ headers: FILE_HEADERS, content: resultContent(PAGE_FORMATS) })
  @ApiErrors({
    404: ['job_not_found', 'page_not_found'],
    406: ['format_not_supported'],
    409: ['job_not_finished'],
    422: ['format_unavailable'],
  })
  async page(
    @Param('id') id: string,
    @Param('page') page: string,
    @Query('format') format: string | undefined,
    @Req() req: Request,
    @Owner() owner: string | null,
    @Res() res: Response,
  ) {
    const chosen = negotiateFormat(PAGE_FORMATS, format, req);
    await sendOutput(this.storage, req, res, await this.jobs.pageOutput(id, pageNumber(page), chosen, owner));
  }

  @Get(':id/pages/:page/image')
  @ApiOperation({
    operationId: 'getJobPageImage',
    summary: 'One page as a PNG, to show with the word boxes over it',
    description:
      `The page as displayed (its /Rotate applied), at one of the widths ${IMAGE_WIDTHS.join(', ')}: the smallest that is at least \`width\`, ` +
      'named in `Image-Width`. Word boxes, in points from the top-left corner, scale by `Image-Width / page.width`. ' +
      'Rendered by a worker the first time a page is asked for at that width (the request waits up to 30 s), then kept with the job and streamed with `ETag`.',
  })
  @JOB_ID
  @PAGE_NUMBER
  @ApiQuery({
    name: 'width',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_IMAGE_WIDTH, default: DEFAULT_IMAGE_WIDTH },
    description: `Width in pixels, at most ${MAX_IMAGE_WIDTH}, served at the next of ${IMAGE_WIDTHS.join(', ')}; the height follows the page's proportions.`,
  })
  @ApiOkResponse({
    headers: {
      ...FILE_HEADERS,
      'Image-Width': {
        description: 'The width served, in pixels: one of the fixed widths.',
        schema: { type: 'integer', enum: [...IMAGE_WIDTHS] },
      },
    },
    content: { 'image/png': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiErrors({
    400: ['invalid_option'],
    404: ['job_not_found', 'page_not_found'],
    409: ['job_not_finished'],
    422: ['page_too_large', 'pdf_invalid'],
    503: ['image_pending'],
  })
  async pageImage(
    @Param('id') id: string,
    @Param('page') page: string,
    @Query('width') width: string | undefined,
    @Owner() owner: string | null,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const served = imageWidth(width);
    const image = await this.jobs.pageImage(id, pageNumber(page), served, owner);
    res.setHeader('Image-Width', String(served));
    await sendStored(this.storage, req, res, image);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteJob', summary: 'Cancel a job and delete its files' })
  @JOB_ID
  @ApiNoContentResponse({ description: 'Cancelled (if it was still running) and its files deleted, finished pages too.' })
  @ApiErrors({ 404: ['job_not_found'] })
  async remove(@Param('id') id: string, @Owner() owner: string | null) {
    await this.lifecycle.remove(id, owner);
  }
}
