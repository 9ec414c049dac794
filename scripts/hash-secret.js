#!/usr/bin/env node
// Prints the hashed forms of a secret read from standard input (so that it stays out of
// the shell history), for API_KEYS (sha256:) and ADMIN_PASSWORD (scrypt:). Needs npm run build.
//   printf %s 'the secret' | npm run --silent hash-secret
const { scryptHash, sha256Hex } = require('../dist/config/secret');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const secret = input.replace(/\r?\n$/, '');
  if (!secret) {
    console.error('Give the secret on standard input.');
    process.exit(1);
  }
  console.log(`API_KEYS entry:  sha256:${sha256Hex(secret)}`);
  console.log(`ADMIN_PASSWORD:  ${await scryptHash(secret)}`);
});
