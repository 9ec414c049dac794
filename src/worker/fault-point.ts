/**
 * For the fault tests only: a worker started with OCR_FAULT_POINT=<name> kills itself
 * (SIGKILL, as the OOM killer or a lost node would) when it reaches that point, so that a
 * spec can show what survives a death there. Unset in every real deployment; not a setting.
 */
export function faultPoint(name: 'deliveries-queued' | 'completion-recorded'): void {
  if (process.env.OCR_FAULT_POINT === name) process.kill(process.pid, 'SIGKILL');
}
