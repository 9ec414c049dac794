/**
 * The containers' healthcheck, in Node because the images carry no curl:
 *   node dist/healthcheck.main.js api      GET /health on this container's MANAGEMENT_PORT (or PORT)
 *   node dist/healthcheck.main.js worker   HEARTBEAT_FILE was refreshed recently
 * Exits 0 when healthy, 1 otherwise, saying why (Docker keeps the output in `inspect`).
 */
import { loadConfig, localAddress } from './config/config';
import { heartbeatAgeMs, HEARTBEAT_STALE_MS } from './contract/heartbeat';

const TIMEOUT_MS = 4000;

async function check(role: string | undefined): Promise<string | null> {
  const config = loadConfig();
  if (role === 'api') {
    const [host, port] = config.managementPort ? [config.managementHost, config.managementPort] : [config.host, config.port];
    const res = await fetch(`http://${localAddress(host)}:${port}/health`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return res.ok ? null : `/health answered ${res.status}: ${await res.text()}`;
  }
  if (role === 'worker') {
    if (!config.heartbeatFile) return 'HEARTBEAT_FILE is not set, so the worker writes no heartbeat';
    const age = heartbeatAgeMs(config.heartbeatFile);
    if (age === null) return `no heartbeat at ${config.heartbeatFile} (starting, shutting down, or Redis unreachable)`;
    return age <= HEARTBEAT_STALE_MS ? null : `the last heartbeat is ${Math.round(age / 1000)} s old`;
  }
  return 'usage: node dist/healthcheck.main.js api|worker';
}

check(process.argv[2]).then(
  (problem) => {
    if (problem) console.error(`unhealthy: ${problem}`);
    process.exit(problem ? 1 : 0);
  },
  (error: Error) => {
    console.error(`unhealthy: ${error.message}`);
    process.exit(1);
  },
);
