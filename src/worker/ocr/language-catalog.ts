import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { findLanguageModels, LanguageModel } from './tessdata';

/** The OCR languages installed on this machine, found once at start-up. */
@Injectable()
export class LanguageCatalog {
  private readonly logger = new Logger(LanguageCatalog.name);
  readonly models: Map<string, LanguageModel>;

  constructor(config: AppConfig) {
    this.models = findLanguageModels(config.ocrModelDir);
    const described = [...this.models.values()].map((m) => `${m.code} (${m.origin})`).join(', ');
    this.logger.log(`OCR languages: ${described || 'none'}`);
  }

  /** The codes of `languages` that have no installed model. */
  missing(languages: readonly string[]): string[] {
    return languages.filter((code) => !this.models.has(code));
  }
}
