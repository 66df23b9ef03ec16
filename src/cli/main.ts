/**
 * tcptrace-cli: the checker and the diagram outside the editor (spec section 8).
 * Exit codes: 0 no error-severity diagnostic, 1 some, 2 usage or I/O error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { check, stateName, type CheckResult, type Diagnostic } from '../core';
import { renderMermaid } from '../core/diagram/mermaid';
import { renderSvg, SvgRenderError } from './svg';
import { ImportUsageError, runImport } from './import';
import { ioText } from './io-text';

const VERSION = '0.1.0';

const HELP = `tcptrace-cli ${VERSION}: check and draw .tcptrace files (TCP conversations, RFC 9293)

Usage:
  tcptrace-cli check [--format text|json] FILE...
  tcptrace-cli render FILE [--format mermaid|svg] [-o OUT]
  tcptrace-cli import CAPTURE.pcap|CAPTURE.pcapng [-o DIR] [--connection N|all]
  tcptrace-cli --help | --version

Commands:
  check    Replay each file against the RFC 9293 state machine and report
           diagnostics. Exit status: 0 when no file has an error, 1 when one
           has, 2 for usage or I/O errors.
  render   Write the sequence diagram of FILE as Mermaid text (to OUT, or to
           standard output).
  import   Read a pcap or pcapng capture and write one .tcptrace per TCP
           connection (CAPTURE-N.tcptrace in DIR, default the current
           directory; -o - writes the one chosen with --connection to
           standard output), each checked as it is written. Exit status: 1
           when the capture is damaged (the connections before the damage are
           still written) or a trace has an error.

Options:
  --format FMT   check: text (default) or json; render: mermaid (default) or svg
                 (svg draws with a local Chromium: $TCPTRACE_CHROMIUM, $CHROMIUM_PATH,
                 the usual install places, or PATH)
  -o, --output   render: the file to write; import: the directory
  --connection   import: the connection to write, by number, or all (default)
  -h, --help     show this help
  --version      show the version
`;

class UsageError extends Error {}

/** Output streams, replaceable for tests. */
export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** A line shown in place until the next (undefined: cleared): only on a terminal. */
  progress?(line: string | undefined): void;
}

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  // Carriage return, the line, erase to the end of the line: redrawn in place.
  progress: process.stderr.isTTY ? (line) => process.stderr.write(line === undefined ? '\r\x1b[K' : `\r${line}\x1b[K`) : undefined,
};

let pipeGuard = false;

/** Output piped into a reader that stops early (`| head`): stop printing, finish, exit with the real status. */
function guardPipes(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (io === processIo) guardPipes();
  try {
    if (argv.length === 0) {
      io.err(`tcptrace-cli: missing command\n\n${HELP}`);
      return 2;
    }
    const [cmd, ...rest] = argv;
    if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
      io.out(HELP);
      return 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      io.out(`${VERSION}\n`);
      return 0;
    }
    switch (cmd) {
      case 'check':
        return runCheck(parseArgs(rest, ['text', 'json'], false), io);
      case 'render':
        return await runRender(parseArgs(rest, ['mermaid', 'svg'], true), io);
      case 'import':
        return await runImport(rest, io);
      default:
        throw new UsageError(`unknown command '${cmd}' (expected check, render or import)`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ImportUsageError) {
      io.err(`tcptrace-cli: ${e.message}\nRun 'tcptrace-cli --help' for usage.\n`);
      return 2;
    }
    io.err(`tcptrace-cli: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 2;
  }
}

interface Args {
  format: string;
  output: string | undefined;
  files: string[];
  help: boolean;
}

function parseArgs(args: string[], formats: string[], allowOutput: boolean): Args {
  const a: Args = { format: formats[0], output: undefined, files: [], help: false };
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const value = (name: string): string => {
      const eq = x.indexOf('=');
      if (eq > 0) return x.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (x === '--format' || x.startsWith('--format=')) {
      a.format = value('--format');
      if (!formats.includes(a.format)) throw new UsageError(`unknown format '${a.format}' (expected ${formats.join(' or ')})`);
    } else if (allowOutput && (x === '-o' || x === '--output' || x.startsWith('--output='))) {
      a.output = value(x.startsWith('--') ? '--output' : '-o');
    } else if (x === '-h' || x === '--help') {
      a.help = true;
    } else if (x === '--') {
      a.files.push(...args.slice(i + 1));
      break;
    } else if (x.startsWith('-') && x !== '-') {
      throw new UsageError(`unknown option '${x}'`);
    } else {
      a.files.push(x);
    }
  }
  return a;
}

function readInput(file: string): string {
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

function runCheck(args: Args, io: Io): number {
  if (args.help) {
    io.out(HELP);
    return 0;
  }
  if (args.files.length === 0) throw new UsageError('check needs at least one FILE');
  let ioFailed = false;
  let anyError = false;
  const results: { file: string; result: CheckResult }[] = [];
  for (const file of args.files) {
    let text: string;
    try {
      text = readInput(file);
    } catch (e) {
      io.err(`tcptrace-cli: ${ioText(file, e)}\n`);
      ioFailed = true;
      continue;
    }
    // The report needs diagnostics and (in JSON) the timeline only: stream, do not keep the tree.
    const result = check(text, { keepSyntax: false, timeline: args.format === 'json' });
    if (result.diagnostics.some((d) => d.severity === 'error')) anyError = true;
    results.push({ file, result });
  }
  if (args.format === 'json') {
    io.out(JSON.stringify({ files: results.map((r) => jsonFile(r.file, r.result)) }, null, 2) + '\n');
  } else {
    const counts = { error: 0, warning: 0, information: 0, hint: 0 };
    for (const { file, result } of results) {
      for (const d of result.diagnostics) {
        counts[d.severity]++;
        io.out(`${file}:${d.line + 1}:${d.start + 1}: ${d.severity} ${d.code}: ${d.message}\n`);
      }
    }
    const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
    io.out(
      `${plural(results.length, 'file')} checked: ${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.information} information\n`,
    );
  }
  return ioFailed ? 2 : anyError ? 1 : 0;
}

/** The JSON of one file, field for field as spec section 8 gives it. */
export function jsonFile(file: string, r: CheckResult): unknown {
  const tl = r.timeline;
  const names = [r.endpoints[0]?.name, r.endpoints[1]?.name];
  const last = tl.length - 1;
  return {
    file,
    endpoints: r.endpoints.map((e, i) => ({
      name: e.name,
      address: e.address ?? null,
      finalState: stateName(last >= 0 ? tl.state(last, i) : tl.initialStates[i]),
    })),
    diagnostics: r.diagnostics.map(jsonDiagnostic),
    timeline: Array.from({ length: tl.length }, (_, i) => {
      const states: Record<string, string> = {};
      for (let e = 0; e < 2; e++) if (names[e] !== undefined) states[names[e]!] = stateName(tl.state(i, e));
      return { line: tl.line(i) + 1, states };
    }),
  };
}

function jsonDiagnostic(d: Diagnostic): unknown {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    line: d.line + 1,
    column: d.start + 1,
    endLine: d.line + 1,
    endColumn: d.end + 1,
  };
}

async function runRender(args: Args, io: Io): Promise<number> {
  if (args.help) {
    io.out(HELP);
    return 0;
  }
  if (args.files.length !== 1) throw new UsageError('render needs exactly one FILE');
  const file = args.files[0];
  let text: string;
  try {
    text = readInput(file);
  } catch (e) {
    io.err(`tcptrace-cli: ${ioText(file, e)}\n`);
    return 2;
  }
  let out: string;
  if (args.format === 'svg') {
    try {
      out = await renderSvg(text);
    } catch (e) {
      if (!(e instanceof SvgRenderError)) throw e;
      io.err(`tcptrace-cli: ${e.message}\n`);
      return 2;
    }
  } else out = renderMermaid(check(text));
  if (args.output) {
    try {
      writeFileSync(args.output, out);
    } catch (e) {
      io.err(`tcptrace-cli: ${ioText(args.output, e)}\n`);
      return 2;
    }
  } else io.out(out);
  return 0;
}
