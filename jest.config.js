/** Unit specs sit beside the code; end-to-end specs drive the built processes. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

module.exports = {
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, rootDir: 'src', testMatch: ['**/*.spec.ts'] },
    { displayName: 'e2e', testEnvironment: 'node', transform, rootDir: 'test', testMatch: ['**/*.e2e-spec.ts'] },
    // Longer runs, outside `npm test`: `npm run test:faults` (CI runs it too) and `npm run test:soak`.
    { displayName: 'faults', testEnvironment: 'node', transform, rootDir: 'test', testMatch: ['**/*.fault-spec.ts'] },
    { displayName: 'soak', testEnvironment: 'node', transform, rootDir: 'test', testMatch: ['**/*.soak-spec.ts'] },
    // The web page's own logic (web/): browser code, compiled here for Node's fetch-era globals.
    {
      displayName: 'web',
      testEnvironment: 'node',
      rootDir: 'web',
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'web/tsconfig.spec.json' }] },
    },
  ],
  testTimeout: 180_000,
};
