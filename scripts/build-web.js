// Builds the web page (web/) into dist/public, which the API serves at `/`: one script and
// one stylesheet bundled by esbuild, and the static files copied as they are.
const { build } = require('esbuild');
const { cpSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist', 'public');

async function main() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(root, 'web', 'src', 'main.tsx') },
    outdir: out,
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'favicon.svg']) cpSync(join(root, 'web', file), join(out, file));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
