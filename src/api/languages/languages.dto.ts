import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { LanguagesView, LanguageView } from './languages.service';

@ApiSchema({ name: 'Language' })
export class LanguageDto implements LanguageView {
  @ApiProperty({ example: 'eng', description: 'Tesseract language code, as `languages` takes it.' })
  code: string;

  @ApiProperty({ enum: ['fast', 'best_int'], description: "`fast`: Debian's tessdata_fast; `best_int`: the @tesseract.js-data packages." })
  model: 'fast' | 'best_int';

  @ApiProperty({ type: 'integer', description: 'Live workers that read it.' })
  workers: number;
}

@ApiSchema({ name: 'Languages' })
export class LanguagesDto implements LanguagesView {
  @ApiProperty({ example: 'eng', description: 'Used when a job names no languages (`OCR_LANGUAGES`).' })
  default: string;

  @ApiProperty({ type: 'integer', description: 'Live workers. With none, any well-formed `languages` is accepted and waits for one.' })
  workers: number;

  @ApiProperty({ type: [LanguageDto] })
  languages: LanguageDto[];

  @ApiProperty({ description: 'Whether every live worker detects the orientation of sideways and upside-down pages.' })
  osd: boolean;
}
