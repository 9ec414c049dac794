#!/usr/bin/env node
// TEST STAND-IN for the `minio` command of the minio/minio image, NOT MinIO: s3rver serving the
// S3 API, so that scripts/compose-smoke.sh can run docker-compose.s3.yml where no registry can
// be reached. It takes only what that file gives MinIO: `minio server DIR`, port 9000,
// MINIO_ROOT_USER and MINIO_ROOT_PASSWORD.
// Credentials: the root user's access key is the only one accepted (s3rver's own S3RVER key is
// revoked), but s3rver does not check SigV4 signatures, so a wrong secret key goes unnoticed,
// and it serves unsigned requests, which MinIO refuses.
const { mkdirSync } = require('node:fs');
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [command, directory, ...rest] = process.argv.slice(2);
if (command !== 'server' || !directory || rest.length > 0) {
  console.error('usage: minio server DIR (a test stand-in: nothing else)');
  process.exit(2);
}
const { MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password } = process.env;
if (!user || !password) {
  console.error('minio stand-in: MINIO_ROOT_USER and MINIO_ROOT_PASSWORD are required');
  process.exit(1);
}
mkdirSync(directory, { recursive: true });
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
DUMMY_ACCOUNT.createKeyPair(user, password);

// Path-style requests only (S3_FORCE_PATH_STYLE=true): s3rver would otherwise take the host name
// `minio` for a bucket.
const server = new S3rver({ address: '0.0.0.0', port: 9000, directory, silent: false, vhostBuckets: false });
server.run().then(
  ({ port }) => console.log(`minio stand-in (s3rver): S3 API on port ${port}, files in ${directory}, access key ${user}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
// PID 1 in its container: without a handler SIGTERM would wait for the engine's SIGKILL.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => void server.close().finally(() => process.exit(0)));
