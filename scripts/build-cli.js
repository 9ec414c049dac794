// Builds the command line (src/cli/) into one file, dist/ocr.cjs: Node 20 and that file are
// all a machine needs to run `ocr` (the package's `bin`), without the repository or npm install.
// So commander, cli-progress and openapi-fetch are build-time dependencies, and `nest build`
// leaves src/cli/ out (tsconfig.build.json): the worker image has no openapi/ to compile it against.
const { build } = require('esbuild');
const { chmodSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const outfile = join(root, 'dist', 'ocr.cjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

async function main() {
  await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    define: { OCR_CLI_VERSION: JSON.stringify(version) },
    legalComments: 'inline',
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
