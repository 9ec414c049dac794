/**
 * The command line, declared with commander: `ocr IN OUT` as `ocrmypdf IN OUT` (its option
 * names where the meaning is the same), `ocr batch` and `ocr watch`. Actions are passed in, so
 * that the parsing is tested without a service.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { RESULT_FORMATS, type ResultFormat } from './client';
import { exitCodeTable, USAGE_ERROR } from './exit-codes';
import type { JobOptions } from './job-key';

export interface CommonOptions {
  language: string[];
  pages?: string;
  forceOcr?: boolean;
  skipText?: boolean;
  ocr?: JobOptions['ocr'];
  server: string;
  apiKey?: string;
  quiet?: boolean;
}

export interface SingleOptions extends CommonOptions {
  sidecar?: string;
  format: ResultFormat;
  outputType: 'pdf' | 'none';
}

export interface BatchOptions extends CommonOptions {
  out: string;
  format: ResultFormat[];
  concurrency: number;
}

export interface WatchOptions extends BatchOptions {
  interval: number;
}

export interface Actions {
  single(input: string, output: string, options: SingleOptions): Promise<number>;
  batch(paths: string[], options: BatchOptions): Promise<number>;
  watch(dir: string, options: WatchOptions): Promise<number>;
}

/** What the service is asked for, from the OCRmyPDF-style flags. */
export function jobOptionsOf(options: CommonOptions): JobOptions {
  const languages = options.language
    .flatMap((l) => l.split('+'))
    .map((l) => l.trim())
    .filter(Boolean);
  return {
    languages: languages.length ? languages.join('+') : undefined,
    pages: options.pages,
    ocr: options.forceOcr ? 'always' : (options.ocr ?? 'auto'),
  };
}

export function parseFormats(value: string): ResultFormat[] {
  const formats = value.split(',').map((f) => f.trim());
  for (const format of formats)
    if (!RESULT_FORMATS.includes(format as ResultFormat))
      throw new InvalidArgumentError(`"${format}" is not one of ${RESULT_FORMATS.join(', ')}.`);
  return [...new Set(formats as ResultFormat[])];
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('Not a whole number of at least 1.');
  return Number(value);
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < 0.05) throw new InvalidArgumentError('Not a number of seconds (at least 0.05).');
  return n;
}

// The bundle (scripts/build-cli.js) writes the package's version here.
declare const OCR_CLI_VERSION: string | undefined;
const VERSION = typeof OCR_CLI_VERSION === 'string' ? OCR_CLI_VERSION : '0.0.0-dev';

const collect = (value: string, previous: string[]) => [...previous, value];

function withJobOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-l, --language <langs>', 'languages to read, Tesseract codes joined by + (eng+deu); may be repeated')
        .argParser(collect)
        .default([], "the service's default"),
    )
    .option('--pages <pages>', 'pages to read, e.g. 1-3,7 or 5- (default: all)')
    .addOption(new Option('--force-ocr', 'OCR every page, even one with a text layer (ocr=always)').conflicts(['skipText', 'ocr']))
    .addOption(new Option('--skip-text', 'read a page with a text layer from it, OCR the others (the default: ocr=auto)').conflicts('ocr'))
    .addOption(
      new Option('--ocr <mode>', "the service's own mode: auto, always, or never (text layers only)").choices(['auto', 'always', 'never']),
    )
    .addOption(new Option('--server <url>', 'the OCR service').env('OCR_SERVER').default('http://localhost:3000'))
    .addOption(new Option('--api-key <key>', 'an API key of the service (better in OCR_API_KEY: arguments show in ps)').env('OCR_API_KEY'))
    .option('-q, --quiet', 'no progress on stderr, only errors');
}

function withOutputs(command: Command): Command {
  return command
    .requiredOption('-o, --out <dir>', 'folder the outputs are written to, named after each input (scan.pdf -> scan.pdf, scan.txt...)')
    .option('--format <formats>', `what to write, comma-separated: ${RESULT_FORMATS.join(', ')}`, parseFormats, ['pdf'])
    .option('-j, --concurrency <n>', 'files sent and followed at once', positiveInteger, 2);
}

const EXIT_CODES = [
  "Exit codes, OCRmyPDF's, by the error code printed (ocr: <code>: <message>):",
  ...[
    ...exitCodeTable(),
    [0, ['done']] as const,
    [2, ['a wrong option or argument (usage is printed)']] as const,
    [15, ['any other error (cancelled, internal_error...)']] as const,
  ]
    .sort(([a], [b]) => a - b)
    .map(([code, errors]) => `  ${String(code).padStart(3)}: ${errors.join(', ')}`),
].join('\n');

/** The actions as commander runs them: the exit code goes back through runProgram. */
type Handlers = { [K in keyof Actions]: (...args: Parameters<Actions[K]>) => Promise<void> };

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Parses `argv` (without node and the script) and runs the action it names; resolves to the exit code. */
export async function runProgram(argv: string[], actions: Actions, io?: Io): Promise<number> {
  let code = 0;
  const program = buildProgram(
    {
      single: async (...args) => void (code = await actions.single(...args)),
      batch: async (...args) => void (code = await actions.batch(...args)),
      watch: async (...args) => void (code = await actions.watch(...args)),
    },
    io,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end here too, with exit code 0; every parse error exits 2 like argparse.
    return error.exitCode === 0 ? 0 : USAGE_ERROR;
  }
}

export function buildProgram(actions: Handlers, io?: Io): Command {
  const program = new Command('ocr');
  // Set before the subcommands are made, which inherit them: usage after a wrong option, and
  // errors thrown to the caller (who exits 2), not process.exit inside commander.
  program.exitOverride().showHelpAfterError().enablePositionalOptions();
  if (io) program.configureOutput({ writeOut: io.out, writeErr: io.err });
  program.version(VERSION, '--version', 'print the version');
  // Commander leaves out `help <command>` when the program has arguments of its own.
  program.helpCommand('help [command]', 'help for a command');

  withJobOptions(program)
    .description(
      'OCR a PDF on an OCR service and write the searchable PDF, as `ocrmypdf in.pdf out.pdf` does on this machine.\n' +
        'Also: `ocr batch` for many files, `ocr watch` for a watched folder (see `ocr help batch`, `ocr help watch`).',
    )
    .usage('[options] <input> <output>')
    .argument('<input>', 'the PDF to read, or - for stdin')
    .argument('<output>', 'where to write the result, or - for stdout')
    .option('--sidecar <file>', 'also write the text to this file (- for stdout)')
    .addOption(new Option('--format <format>', 'what <output> gets').choices(RESULT_FORMATS).default('pdf'))
    .addOption(
      new Option('--output-type <type>', 'pdf, or none to write no <output> (with --sidecar)').choices(['pdf', 'none']).default('pdf'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ocr scan.pdf scan.ocr.pdf                 the searchable PDF',
        '  ocr -l eng+deu --sidecar scan.txt scan.pdf out.pdf',
        '  ocr scan.pdf - --format txt               print the text',
        '  cat scan.pdf | ocr - - > out.pdf',
        '  OCR_SERVER=https://ocr.example.com OCR_API_KEY=... ocr batch scans/ --out ocr/',
        '',
        EXIT_CODES,
      ].join('\n'),
    )
    .action((input: string, output: string, options: SingleOptions) => actions.single(input, output, options));

  withOutputs(withJobOptions(program.command('batch')))
    .summary('OCR many files into a folder, resumable')
    .description(
      'OCR many files: each file once, resumed (not redone) after a crash or Ctrl-C, files whose outputs exist skipped;\n' +
        'progress bars on a terminal, a line per event otherwise; a summary of failures at the end.',
    )
    .argument('<paths...>', 'files, and folders whose PDFs (and images) are taken, not their subfolders')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ocr batch scans/ --out ocr/                          scans/*.pdf -> ocr/*.pdf',
        '  ocr batch a.pdf b.pdf scans/ -o ocr/ --format pdf,txt -j 4 -l eng+deu',
        '',
        'Exits 0 when every file was written or skipped, 1 when any failed (the summary gives each its error code), 130 on Ctrl-C.',
      ].join('\n'),
    )
    .action((paths: string[], options: BatchOptions) => actions.batch(paths, options));

  withOutputs(withJobOptions(program.command('watch')))
    .summary('OCR each file put in a folder, then move it to done/ or failed/')
    .description(
      'Watch a folder: each file put there, once its size has stopped changing, is read, its outputs written to --out,\n' +
        'and the file moved to <dir>/done/ (or <dir>/failed/, with a .error.txt beside it). Stops on SIGINT or SIGTERM.',
    )
    .argument('<dir>', 'the folder to watch (its done/ and failed/ are not)')
    .option('--interval <seconds>', 'how often to look at the folder', seconds, 2)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ocr watch /srv/scanner --out /srv/ocr --format pdf,txt',
        '  OCR_SERVER=https://ocr.example.com ocr watch inbox/ -o ocr/ --interval 5',
        '',
        'While the service cannot be reached, files wait in the folder. A file being read when the watch stops',
        'stays in the folder and is taken up again (its job found, not redone) on the next start. Exits 0 when stopped.',
      ].join('\n'),
    )
    .action((dir: string, options: WatchOptions) => actions.watch(dir, options));

  return program;
}
