import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/error-response.dto';
import { LanguagesDto } from './languages.dto';
import { LanguagesService, type LanguagesView } from './languages.service';

@ApiTags('languages')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@ApiErrors({ 401: ['unauthorized'], 429: ['rate_limited'], 500: ['internal_error'], 503: ['queue_unavailable'] })
@Controller('v1/languages')
export class LanguagesController {
  constructor(private readonly languages: LanguagesService) {}

  @Get()
  @ApiOperation({ operationId: 'listLanguages', summary: 'The OCR languages the running workers can read' })
  @ApiOkResponse({ type: LanguagesDto })
  list(): Promise<LanguagesView> {
    return this.languages.list();
  }
}
