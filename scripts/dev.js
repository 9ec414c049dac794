#!/usr/bin/env node
// Local development: runs the compiled API and one worker together, with prefixed output.
// Stops both on Ctrl-C. Production runs them as separate processes or containers.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const children = ['api', 'worker'].map((role) => {
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', `${role}.main.js`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, `[${role}] `)));
  }
  child.on('exit', (code, signal) => {
    console.log(`[${role}] exited (${signal ?? code})`);
    shutdown();
  });
  return child;
});

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
