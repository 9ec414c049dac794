import { join } from 'node:path';

/**
 * The entry files of the worker's thread pools. Threads run plain Node, not the TypeScript
 * a spec runs in, so they load the compiled files beside their services; an in-process spec
 * provides bundles of its own under this token instead.
 */
export const POOL_FILES = 'POOL_FILES';

export interface PoolFiles {
  pdf: string;
  output: string;
}

export const COMPILED_POOL_FILES: PoolFiles = {
  pdf: join(__dirname, 'pdf', 'pool-task.js'),
  output: join(__dirname, 'output', 'output.task.js'),
};
