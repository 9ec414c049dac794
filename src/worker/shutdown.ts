/**
 * How long a worker waits for its pages in flight after SIGTERM before it exits anyway. Kept
 * under the 60 s grace of docker-compose.yml and of the Kubernetes manifests, so the worker
 * exits on its own rather than being killed.
 */
export const SHUTDOWN_GRACE_MS = 50_000;
