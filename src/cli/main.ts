#!/usr/bin/env node
/**
 * `ocr`: the command line of the OCR service (see README, "Command line"). Ctrl-C or SIGTERM
 * stops it at once: jobs already sent go on on the service, and a rerun takes them up again.
 */
import { batch, single, watch, type Context } from './commands';
import { ExitCode } from './exit-codes';
import { runProgram } from './program';

async function main() {
  const controller = new AbortController();
  let watching = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal does not wait for the first to wind down.
    if (controller.signal.aborted) process.exit(ExitCode.ctrlC);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const context: Context = { signal: controller.signal, error: (line) => process.stderr.write(`${line}\n`) };
  const code = await runProgram(process.argv.slice(2), {
    single: (input, output, options) => single(input, output, options, context),
    batch: (paths, options) => batch(paths, options, context),
    watch: (dir, options) => {
      watching = true;
      return watch(dir, options, context);
    },
  });
  // A watched folder is a service: being stopped is its normal end.
  process.exitCode = controller.signal.aborted && !watching ? ExitCode.ctrlC : code;
}

main().catch((error: unknown) => {
  process.stderr.write(`ocr: internal_error: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = ExitCode.otherError;
});
