#!/usr/bin/env node
// Local development: runs the compiled API and one worker together, with prefixed output.
// Stops both on Ctrl-C. Production runs them as separate processes or containers.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const children = ['api', 'worker'].map((role) => {
  // The worker as `npm run start:worker` runs it: with memory that goes back to the system.
  const [command, args] =
    role === 'worker'
      ? ['/bin/sh', [join(__dirname, 'start-worker.sh')]]
      : [process.execPath, [join(__dirname, '..', 'dist', `${role}.main.js`)]];
  const env = { ...process.env, NODE: process.execPath };
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
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
