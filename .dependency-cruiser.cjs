/**
 * The seams of the codebase, checked by `npm run lint` (and so by `npm test`):
 * - src/api/ is what only the HTTP process runs, src/worker/ what only workers run (the page
 *   pipeline: processors, thread pool, pdf.js, tesseract.js, the output formats); neither
 *   imports the other, and only the worker side may load the engines.
 * - the folders left at src/ (contract, config, queue, storage, logging, outbound, webhooks)
 *   are shared by both sides and import neither.
 * - src/contract/ is what the API and the workers agree on; it imports no other folder.
 * - src/cli/ is a client of the public API (the types of openapi/), shipped on its own as
 *   dist/ocr.cjs: it imports no other folder of ours.
 * - no file imports one that imports it back, and no folder one that imports it back.
 */
const ENGINES = '^(pdfjs-dist|@napi-rs/canvas|tesseract\\.js|tesseract\\.js-core|piscina)($|/)';
const WORKER_SIDE = '^src/(worker/|worker\\.(main|module)\\.ts$)';
const API_SIDE = '^src/(api/|api\\.(main|module)\\.ts$)';
const SHARED = '^src/(contract|config|queue|storage|logging|outbound|webhooks)/';
const CLI = '^src/cli/';

module.exports = {
  forbidden: [
    {
      name: 'api-reaches-pipeline',
      comment: 'API-side code must not import the page pipeline: the API image leaves it out.',
      severity: 'error',
      from: { path: '^src/', pathNot: WORKER_SIDE },
      to: { path: '^src/worker/' },
    },
    {
      name: 'worker-reaches-api',
      comment: 'The worker image runs no HTTP server: it has no use for the API side.',
      severity: 'error',
      from: { path: WORKER_SIDE },
      to: { path: API_SIDE },
    },
    {
      name: 'shared-takes-a-side',
      comment: 'A shared folder is compiled into both images; what it needs from one side belongs in it or in the contract.',
      severity: 'error',
      from: { path: SHARED },
      to: { path: '^src/(api|worker)/' },
    },
    {
      name: 'unknown-side',
      comment: 'Every folder is on a side or in the shared list above: add a new shared folder to SHARED.',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `(${WORKER_SIDE})|(${API_SIDE})|(${SHARED})|(${CLI})` },
      to: {},
    },
    {
      name: 'api-loads-engines',
      comment: 'pdf.js, canvas, tesseract.js and piscina belong to the worker image only.',
      severity: 'error',
      from: { path: '^src/', pathNot: WORKER_SIDE },
      to: { path: ENGINES, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'contract-stands-alone',
      comment: 'The contract is imported by both roots and imports no folder of ours.',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: '^src/', pathNot: '^src/contract/' },
    },
    {
      name: 'cli-stands-alone',
      comment: 'The CLI knows the service by its OpenAPI contract only, and runs where none of the service is installed.',
      severity: 'error',
      from: { path: CLI },
      to: { path: '^src/', pathNot: CLI },
    },
    {
      name: 'nothing-reaches-cli',
      comment: 'Neither process runs the command line.',
      severity: 'error',
      from: { path: '^src/', pathNot: CLI },
      to: { path: CLI },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'Two folders that import each other are one room; move the shared part down.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.spec\\.ts$' },
  },
};
