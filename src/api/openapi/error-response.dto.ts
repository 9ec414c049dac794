import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProperty, ApiResponse, ApiSchema } from '@nestjs/swagger';

/** Every error the API answers, as HttpExceptionFilter writes it. */
@ApiSchema({ name: 'Error' })
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 404 })
  statusCode: number;

  @ApiProperty({ example: 'Not Found', description: 'The HTTP reason phrase.' })
  error: string;

  @ApiProperty({ example: 'job_not_found', description: 'Stable; branch on this.' })
  code: string;

  @ApiProperty({ example: 'No job with id "3f0c…".', description: 'For people; may change.' })
  message: string;
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };

/** Documents error responses: each status with the codes it can carry. */
export function ApiErrors(errors: Partial<Record<HttpStatus, string[]>>) {
  return applyDecorators(
    ...Object.entries(errors).map(([status, codes]) =>
      ApiResponse({
        status: Number(status),
        type: ErrorResponseDto,
        description: `\`code\`: ${codes!.map((c) => `\`${c}\``).join(', ')}`,
        headers: Number(status) === HttpStatus.TOO_MANY_REQUESTS ? RETRY_AFTER : undefined,
      }),
    ),
  );
}
