import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      maxUploadBytes: 50 * 1024 * 1024,
      maxPages: 500,
      ocrLanguages: 'eng',
      resultTtlSeconds: 86400,
    });
    expect(config.ocrConcurrency).toBeGreaterThanOrEqual(1);
  });

  it('parses numbers and treats empty values as unset', () => {
    expect(loadConfig({ PORT: '8080', MAX_PAGES: '', OCR_LANGUAGES: 'eng+fra' })).toMatchObject({ port: 8080, maxPages: 500, ocrLanguages: 'eng+fra' });
  });

  it('names every bad variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', OCR_LANGUAGES: 'English' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT[\s\S]*REDIS_URL[\s\S]*OCR_LANGUAGES/);
  });
});
