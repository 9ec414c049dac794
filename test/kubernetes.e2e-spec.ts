/**
 * The Kubernetes manifests, rendered by kustomize (`kubectl kustomize`), checked against the
 * service itself: every variable they set is one the configuration reads, their probes answer
 * on a running API, and their ports are the ones the processes listen on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES } from '../src/config/config';
import { SHUTDOWN_GRACE_MS } from '../src/worker/shutdown';
import { Stack, startStack } from './harness';

const ROOT = join(__dirname, '..');
const LAYOUTS = ['base', 'overlays/managed-redis'];

interface Container {
  name: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    template?: { spec: { containers: Container[]; terminationGracePeriodSeconds?: number } };
    ports?: { targetPort: string | number }[];
    selector?: Record<string, string>;
    scaleTargetRef?: { name: string };
    triggers?: { type: string; metadata: { query: string } }[];
  };
}

function render(layout: string): Manifest[] {
  const yaml = execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy', 'kubernetes', layout)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return parseAllDocuments(yaml).map((doc) => doc.toJSON() as Manifest);
}

const deployments = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'Deployment');
/** A container's settings: its ConfigMaps' values, then its own env, as Kubernetes applies them. */
function settings(manifests: Manifest[], container: Container): Record<string, string | undefined> {
  const maps = (container.envFrom ?? []).map(
    (e) => manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === e.configMapRef?.name)?.data ?? {},
  );
  return Object.assign({}, ...maps, ...(container.env ?? []).map((e) => ({ [e.name]: e.value })));
}

describe.each(LAYOUTS)('Kubernetes manifests: %s', (layout) => {
  let manifests: Manifest[];
  let stack: Stack;

  beforeAll(async () => {
    manifests = render(layout);
    stack = await startStack({ workers: 0 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('set only variables the service reads', () => {
    const names = deployments(manifests).flatMap((d) =>
      d.spec!.template!.spec.containers.flatMap((c) => Object.keys(settings(manifests, c))),
    );
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it('probe routes that answer, on the ports the processes listen on', async () => {
    const api = deployments(manifests).find((d) => d.metadata.name === 'ocr-api')!.spec!.template!.spec.containers[0];
    const http = api.ports!.find((p) => p.name === 'http')!;
    expect(String(http.containerPort)).toBe(settings(manifests, api).PORT ?? '3000');
    // The processes default to loopback, which the kubelet's probes and the Service cannot reach.
    expect(settings(manifests, api).API_HOST).toBe('0.0.0.0');
    for (const probe of [api.readinessProbe!, api.livenessProbe!]) {
      expect(probe.httpGet!.port).toBe('http');
      expect((await fetch(`${stack.baseUrl}${probe.httpGet!.path}`)).status).toBe(200);
    }
    const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === 'ocr-api')!;
    expect(service.spec!.ports!.map((p) => p.targetPort)).toEqual(['http']);

    const worker = deployments(manifests).find((d) => d.metadata.name === 'ocr-worker')!.spec!.template!.spec;
    const [container] = worker.containers;
    expect(container.livenessProbe!.exec!.command).toEqual(['node', 'dist/healthcheck.main.js', 'worker']);
    expect(existsSync(join(ROOT, 'dist', 'healthcheck.main.js'))).toBe(true);
    expect(settings(manifests, container).HEARTBEAT_FILE).toBeTruthy();
    expect(settings(manifests, container).WORKER_METRICS_HOST).toBe('0.0.0.0');
    expect(String(container.ports!.find((p) => p.name === 'metrics')!.containerPort)).toBe(
      settings(manifests, container).WORKER_METRICS_PORT,
    );
    // Kubernetes must not kill a worker that is still finishing its pages.
    expect(worker.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(SHUTDOWN_GRACE_MS);
  });

  it('scale the workers on metrics the API serves', async () => {
    const scaler = manifests.find((m) => m.kind === 'ScaledObject')!;
    expect(deployments(manifests).map((d) => d.metadata.name)).toContain(scaler.spec!.scaleTargetRef!.name);
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    const names = [...scaler.spec!.triggers![0].metadata.query.matchAll(/([a-z_]+)\{/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(metrics).toMatch(new RegExp(`^${name}\\{`, 'm'));
  });
});
