/**
 * The seams of the codebase, checked by `npm run lint` (and so by `npm test`):
 * - src/contract/ is what the API and the workers agree on; it imports no other folder.
 * - src/worker/ is the page pipeline (processors, thread pool, pdf.js, tesseract.js); only
 *   the worker's root may reach it, and only it may load the engines.
 * - no file imports one that imports it back, and no folder one that imports it back.
 */
const ENGINES = '^(pdfjs-dist|@napi-rs/canvas|tesseract\\.js|tesseract\\.js-core|piscina)($|/)';
const WORKER_SIDE = '^src/(worker/|worker\\.(main|module)\\.ts$)';

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
