import {
  Body,
  HttpStatus,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
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
import { Owner } from '../auth/owner.decorator';
import { JobLogInterceptor } from '../logging/job-log.interceptor';
import { ApiErrors } from '../openapi/error-response.dto';
import { ApiError } from '../errors/api-error';
import { FullResultDto, JobDto, UploadDto } from './job.dto';
import type { JobView } from '../contract/job-view';
import { JobsService, type JobStatusReply, type UploadFields } from './jobs.service';
import { UploadSizeGuard } from './upload-size.guard';
import { AppConfig } from '../config/config';
import { StorageService } from '../storage/storage.service';
import { JobEvents } from '../queue/job-events.service';
import { JobWatcher } from '../events/job-watcher.service';
import { streamJobEvents } from '../events/sse';
import { receiveRawPdf } from './raw-upload';

const POLL_HEADER = {
  'Retry-After': {
    description:
      'Seconds to wait before polling again, from the pages ahead and the pages per minute the workers do now; sent while the job is queued or processing.',
    schema: { type: 'integer' },
  },
};
const MAX_WAIT_SECONDS = 60;
const RAW_OPTION = (name: string, description: string, schema: object = { type: 'string' }) =>
  ApiQuery({ name, required: false, description: `Raw uploads (\`Content-Type: application/pdf\`) only: ${description}`, schema });
const JOB_ID = ApiParam({ name: 'id', description: 'The job id from `POST /v1/jobs`.', schema: { type: 'string', format: 'uuid' } });

@ApiTags('jobs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@ApiErrors({ 401: ['unauthorized'], 429: ['rate_limited'], 500: ['internal_error'], 503: ['queue_unavailable'] })
@Controller('v1/jobs')
@UseInterceptors(JobLogInterceptor)
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly events: JobEvents,
    private readonly watcher: JobWatcher,
  ) {}

  @Post()
  @HttpCode(202)
  @UseGuards(UploadSizeGuard)
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({
    operationId: 'createJob',
    summary: 'Upload a PDF to OCR',
    description:
      'As `multipart/form-data` (the PDF in the part `file`, options as fields) or as the raw body with `Content-Type: application/pdf` (options as query parameters). Same limits either way.',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': { schema: { $ref: getSchemaPath(UploadDto) } },
        'application/pdf': { schema: { type: 'string', format: 'binary' } },
      },
    },
  })
  @ApiExtraModels(UploadDto)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Up to 255 visible ASCII characters. Repeating it (with the same API key) with the same file returns the original job (200, `Idempotent-Replayed: true`) instead of making another; with a different file, 422 `idempotency_key_reused`. Remembered until the job expires.',
  })
  @RAW_OPTION('languages', 'as the form field.')
  @RAW_OPTION('pages', 'as the form field.')
  @RAW_OPTION('ocr', 'as the form field.', { type: 'string', enum: ['auto', 'always', 'never'] })
  @RAW_OPTION('callbackUrl', 'as the form field.', { type: 'string', format: 'uri' })
  @RAW_OPTION('retention', 'as the form field.', { type: 'integer', minimum: 1 })
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
    400: ['file_missing', 'invalid_pages', 'unsupported_language', 'invalid_option', 'callback_url_not_allowed'],
    409: ['idempotency_key_in_use'],
    413: ['file_too_large'],
    415: ['unsupported_media_type'],
    422: ['pdf_empty', 'idempotency_key_reused'],
    429: ['rate_limited', 'quota_exceeded'],
    503: ['queue_unavailable', 'queue_full'],
  })
  async create(
    @UploadedFile() uploaded: Express.Multer.File | undefined,
    @Body() body: UploadFields | undefined,
    @Query() query: UploadFields,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Owner() owner: string | null,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const raw = !uploaded && /^application\/pdf\s*(;|$)/i.test(req.headers['content-type'] ?? '');
    const file = raw ? await receiveRawPdf(req, this.storage.incomingDir, this.config.maxUploadBytes) : uploaded;
    const created = await this.jobs.create(file, (raw ? query : body) ?? {}, owner, idempotencyKey);
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
  @ApiOkResponse({ type: JobDto, headers: POLL_HEADER })
  @ApiErrors({ 400: ['invalid_option'], 404: ['job_not_found'] })
  async find(
    @Param('id') id: string,
    @Query('wait') wait: string | undefined,
    @Owner() owner: string | null,
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobView> {
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
      reply = await this.jobs.waitForChange(id, owner, Number(wait));
    }
    if (reply.retryAfter) res.setHeader('Retry-After', String(reply.retryAfter));
    return reply.view;
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
  @ApiErrors({ 404: ['job_not_found'] })
  async stream(@Param('id') id: string, @Owner() owner: string | null, @Req() req: Request, @Res() res: Response) {
    const view = await this.jobs.find(id, owner);
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
    return this.jobs.cancel(id, owner);
  }

  @Get(':id/result')
  @ApiOperation({ operationId: 'getJobResult', summary: 'The full result (lines, words, boxes) or its plain text' })
  @JOB_ID
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'txt'], description: '`txt` (or `Accept: text/plain`) for the plain text.' })
  @ApiExtraModels(FullResultDto)
  @ApiOkResponse({
    content: {
      'application/json': { schema: { $ref: getSchemaPath(FullResultDto) } },
      'text/plain': { schema: { type: 'string', description: "The pages' text joined with form feeds." } },
    },
  })
  @ApiErrors({ 404: ['job_not_found'], 409: ['job_not_finished'] })
  async result(
    @Param('id') id: string,
    @Query('format') format: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Owner() owner: string | null,
    @Res() res: Response,
  ) {
    const wantsText = format === 'txt' || (!format && /^text\/plain\b/.test(accept ?? ''));
    const body = await this.jobs.result(id, wantsText ? 'txt' : 'json', owner);
    res.type(wantsText ? 'text/plain; charset=utf-8' : 'application/json').send(body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteJob', summary: 'Cancel a job and delete its files' })
  @JOB_ID
  @ApiNoContentResponse({ description: 'Cancelled (if it was still running) and its files deleted, finished pages too.' })
  @ApiErrors({ 404: ['job_not_found'] })
  async remove(@Param('id') id: string, @Owner() owner: string | null) {
    await this.jobs.remove(id, owner);
  }
}
