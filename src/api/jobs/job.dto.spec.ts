import { JOB_OPTION_NAMES } from '../../contract/job-options';
import { UploadDto, UrlJobDto } from './job.dto';

/** The properties OpenAPI shows for a DTO, as @nestjs/swagger records them. */
const documented = (dto: { prototype: object }) =>
  ((Reflect.getMetadata('swagger/apiModelPropertiesArray', dto.prototype) as string[]) ?? []).map((p) => p.replace(/^:/, '')).sort();

describe('the upload DTOs', () => {
  it('document exactly the options the contract parses', () => {
    expect(documented(UploadDto)).toEqual(['file', ...JOB_OPTION_NAMES].sort());
    expect(documented(UrlJobDto)).toEqual(['url', ...JOB_OPTION_NAMES].sort());
  });
});
