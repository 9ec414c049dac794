import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Owner } from '../auth/owner.decorator';
import { JobLogInterceptor } from '../logging/job-log.interceptor';
import { ApiErrors } from '../openapi/error-response.dto';
import { FullResultDto, JobDto, UploadDto } from './job.dto';
import type { JobView } from '../contract/job-view';
import { JobsService, type UploadFields } from './jobs.service';
import { UploadSizeGuard } from './upload-size.guard';

const POLL_AFTER_SECONDS = '1';
const POLL_HEADER = {
  'Retry-After': {
    description: 'Seconds to wait before polling again; sent while the job is queued or processing.',
    schema: { type: 'integer' },
  },
};
const JOB_ID = ApiParam({ name: 'id', description: 'The job id from `POST /v1/jobs`.', schema: { type: 'string', format: 'uuid' } });

@ApiTags('jobs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@ApiErrors({ 401: ['unauthorized'], 429: ['rate_limited'], 500: ['internal_error'], 503: ['queue_unavailable'] })
@Controller('v1/jobs')
@UseInterceptors(JobLogInterceptor)
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @UseGuards(UploadSizeGuard)
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({ operationId: 'createJob', summary: 'Upload a PDF to OCR' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadDto })
  @ApiAcceptedResponse({
    type: JobDto,
    description: 'Queued. Poll the job at `Location`.',
    headers: { Location: { description: 'The job: `/v1/jobs/{id}`.', schema: { type: 'string' } }, ...POLL_HEADER },
  })
  @ApiErrors({
    400: ['file_missing', 'invalid_pages', 'unsupported_language', 'invalid_option'],
    413: ['file_too_large'],
    415: ['unsupported_media_type'],
    422: ['pdf_empty'],
  })
  async create(
    @UploadedFile() file: Express.Multer.File | undefined,
    @Body() fields: UploadFields,
    @Owner() owner: string | null,
    @Res({ passthrough: true }) res: Response,
  ) {
    const job = await this.jobs.create(file, fields ?? {}, owner);
    res.setHeader('Location', `/v1/jobs/${job.id}`);
    res.setHeader('Retry-After', POLL_AFTER_SECONDS);
    return job;
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getJob', summary: 'Status, progress and, once completed, the text of each page' })
  @JOB_ID
  @ApiOkResponse({ type: JobDto, headers: POLL_HEADER })
  @ApiErrors({ 404: ['job_not_found'] })
  async find(@Param('id') id: string, @Owner() owner: string | null, @Res({ passthrough: true }) res: Response): Promise<JobView> {
    const job = await this.jobs.find(id, owner);
    if (job.status === 'queued' || job.status === 'processing') res.setHeader('Retry-After', POLL_AFTER_SECONDS);
    return job;
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
  @ApiNoContentResponse({ description: 'Cancelled (if it was still running) and deleted.' })
  @ApiErrors({ 404: ['job_not_found'] })
  async remove(@Param('id') id: string, @Owner() owner: string | null) {
    await this.jobs.remove(id, owner);
  }
}
