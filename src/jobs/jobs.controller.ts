import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { Owner } from '../auth/owner.decorator';
import { JobLogInterceptor } from '../logging/job-log.interceptor';
import type { JobView } from './job-view';
import { JobsService, type UploadFields } from './jobs.service';
import { UploadSizeGuard } from './upload-size.guard';

const POLL_AFTER_SECONDS = '1';

@Controller('v1/jobs')
@UseInterceptors(JobLogInterceptor)
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @UseGuards(UploadSizeGuard)
  @UseInterceptors(FileInterceptor('file'))
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
  async find(@Param('id') id: string, @Owner() owner: string | null, @Res({ passthrough: true }) res: Response): Promise<JobView> {
    const job = await this.jobs.find(id, owner);
    if (job.status === 'queued' || job.status === 'processing') res.setHeader('Retry-After', POLL_AFTER_SECONDS);
    return job;
  }

  @Get(':id/result')
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
  async remove(@Param('id') id: string, @Owner() owner: string | null) {
    await this.jobs.remove(id, owner);
  }
}
