// Runs the in-VS-Code test suite (test/vscode/suite) inside a real VS Code:
// the VS Code server from the npm package code-server (installed by
// scripts/vscode/setup.sh), with its workbench in headless Debian Chromium
// driven by playwright-core. The extension host is VS Code's real Node one, so
// the extension starts its real language server.
//
//   node --import tsx test/vscode/run.ts [--grep PATTERN] [--timeout SECONDS]
//                                        [--no-build] [--verbose] [--keep]
//                                        [--extension DIR | --vsix FILE]
//
// --extension tests the extension in DIR instead of this checkout; --vsix tests what a
// packaged .vsix ships (proving .vscodeignore keeps everything the extension needs).
// Exits with the tests' code (0 = all passed; 2 = not set up). Artifacts go to
// test-results/vscode/: workbench.png (the workbench at the end of the run),
// failure-N.png (at each failed test), logs/ (VS Code's logs, the extension's output
// channel among them), server.log (the VS Code server), workbench.log (the workbench's log and
// console, the extension host's output included).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format, parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildExtension, buildTests, repoRoot, testBundleDir } from '../../scripts/vscode/build-tests';
import { CHROMIUM_ARGS } from '../../src/cli/svg';
import {
  OUTPUT_MARKER,
  READY_FILE,
  RELEASE_FILE,
  RUNNER_DIR_ENV,
  SHOT_PREFIX,
  type ReadyReport,
  type ShotRequest,
  type WorkbenchCheck,
} from './suite/channel';
import { makeWorkspace } from './workspace';

const { values: args } = parseArgs({
  options: {
    grep: { type: 'string' },
    timeout: { type: 'string', default: '300' },
    'no-build': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    extension: { type: 'string' },
    vsix: { type: 'string' },
  },
});

const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION ?? '4.100.3';
// Same default as scripts/vscode/setup.sh.
const cacheDir =
  process.env.TCPTRACE_VSCODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tcptrace-vscode');
const vscodeDir = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'lib', 'vscode');
const serverMain = join(vscodeDir, 'out', 'server-main.js');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const resultsDir = join(repoRoot, 'test-results', 'vscode');
const screenshotFile = join(resultsDir, 'workbench.png');
const serverLogFile = join(resultsDir, 'server.log');
const workbenchLogFile = join(resultsDir, 'workbench.log');
const timeoutSeconds = Number(args.timeout);
/** Milliseconds left of the overall --timeout, which covers start-up as well as the tests. */
const remainingMs = () => Math.max(1000, started + timeoutSeconds * 1000 - Date.now());
/** The extension under test; for --vsix, set once the package is unpacked. */
let extensionDir = args.extension ? resolve(args.extension) : repoRoot;
const started = Date.now();

const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const log = (message: string) => console.log(`[vscode-test ${seconds().padStart(5)}s] ${message}`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A failure of the set-up, not of the tests: exit code 2 and a hint. */
class SetupError extends Error {}

function checkPrerequisites(): void {
  const setup = 'run `npm run setup:vscode` (bash scripts/vscode/setup.sh) first';
  if (!existsSync(chromiumPath)) throw new SetupError(`Chromium not found at ${chromiumPath}: ${setup}, or set CHROMIUM_PATH.`);
  if (!existsSync(serverMain)) throw new SetupError(`the VS Code server is not installed (no ${serverMain}): ${setup}.`);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new SetupError('--timeout must be a number of seconds');
  if (args.extension && args.vsix) throw new SetupError('give --extension or --vsix, not both');
  if (args.vsix && !existsSync(args.vsix)) throw new SetupError(`no such .vsix: ${args.vsix}`);
  if (!args.vsix && !existsSync(join(extensionDir, 'package.json'))) {
    throw new SetupError(`no extension in ${extensionDir} (no package.json)`);
  }
}

/** A .vsix is a zip whose extension/ folder is what gets installed. */
function unpackVsix(vsix: string, into: string): string {
  const r = spawnSync('unzip', ['-q', vsix, 'extension/*', '-d', into], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new SetupError(`could not unpack ${vsix} with unzip: ${r.error?.message ?? r.stderr.trim()}`);
  }
  log(`testing the packaged extension ${vsix}`);
  return join(into, 'extension');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function waitForServer(port: number, server: ChildProcess): Promise<string> {
  const waitMs = Math.min(60_000, remainingMs());
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (hasExited(server)) {
      throw new SetupError(`the VS Code server exited (${server.exitCode ?? server.signalCode}) before answering:\n${tail(serverLogFile)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return (await res.text()).trim();
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new SetupError(`the VS Code server did not answer GET /version within ${Math.round(waitMs / 1000)} s:\n${tail(serverLogFile)}`);
}

/** Kills the server's whole process group (file watcher, extension host, language server). */
async function killGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // no such group any more
    }
  };
  if (!signalGroup('SIGTERM')) return;
  for (let i = 0; i < 30 && signalGroup(0); i++) await sleep(100);
  signalGroup('SIGKILL');
}

async function screenshot(page: Page, file = screenshotFile, what = 'workbench'): Promise<void> {
  try {
    await page.screenshot({ path: file, timeout: 15_000 });
    log(`screenshot (${what}): ${file}`);
  } catch (err) {
    log(`could not take a screenshot: ${(err as Error).message}`);
  }
}

/** Asserts in the rendered workbench what the suite asked for (suite/channel.ts). */
async function checkWorkbench(page: Page, checks: readonly WorkbenchCheck[]): Promise<number> {
  if (checks.length > 0) console.log('  workbench (as rendered)');
  let failed = 0;
  for (const check of checks) {
    const [locator, name] =
      check.kind === 'squiggle'
        ? [page.locator(`.monaco-editor .squiggly-${check.severity}`), `an ${check.severity} squiggle in the editor`]
        : check.kind === 'problem'
          ? [page.locator('.markers-panel .monaco-list-row', { hasText: check.text }), `a Problems entry with "${check.text}"`]
          : [page.locator('.part.statusbar .statusbar-item', { hasText: check.text }), `"${check.text}" in the status bar`];
    try {
      await locator.first().waitFor({ state: 'visible', timeout: 15_000 });
      console.log(`    ✔ ${name}`);
    } catch {
      failed++;
      console.log(`    ✘ ${name}: not shown`);
    }
  }
  return failed;
}

type Outcome =
  | { kind: 'ready'; report: ReadyReport }
  | { kind: 'exit'; code: number }
  | { kind: 'timeout' }
  | { kind: 'server-exit' }
  | { kind: 'crash' };

async function run(): Promise<number> {
  checkPrerequisites();
  mkdirSync(resultsDir, { recursive: true });
  // Only this run's pictures and logs, so none of them can be mistaken for this run's.
  for (const old of readdirSync(resultsDir)) {
    if (old.endsWith('.png') || old === 'logs') rmSync(join(resultsDir, old), { recursive: true, force: true });
  }
  if (!args['no-build'] && !args.extension && !args.vsix) {
    try {
      for (const missing of buildExtension()) log(`warning: ${missing} does not exist, the extension cannot work`);
    } catch (err) {
      throw new SetupError((err as Error).message);
    }
  }
  // A folder of this run's own, so that runs side by side in one checkout do not rebuild
  // each other's suite under their extension hosts.
  const bundleDir = join(testBundleDir, `run-${process.pid}`);
  const testEntry = await buildTests(bundleDir);

  const tmp = mkdtempSync(join(tmpdir(), 'tcptrace-vscode-'));
  const dirs = {
    user: join(tmp, 'user-data'),
    server: join(tmp, 'server-data'),
    extensions: join(tmp, 'extensions'),
    browser: join(tmp, 'browser'),
    workspace: join(tmp, 'workspace'),
    channel: join(tmp, 'channel'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  makeWorkspace(dirs.workspace);
  if (args.vsix) extensionDir = unpackVsix(resolve(args.vsix), join(tmp, 'vsix'));

  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(workbenchLogFile, '');
  const serverLog = openSync(serverLogFile, 'w');
  const server = spawn(
    process.execPath,
    [
      serverMain,
      ...['--host', '127.0.0.1', '--port', String(port)],
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver',
      '--disable-telemetry',
      '--disable-workspace-trust',
      ...['--user-data-dir', dirs.user, '--server-data-dir', dirs.server, '--extensions-dir', dirs.extensions],
    ],
    {
      // Its own process group, so that one kill reaches every process it spawns.
      detached: true,
      stdio: ['ignore', serverLog, serverLog],
      // The extension host is the server's child and inherits this environment.
      env: {
        ...process.env,
        [RUNNER_DIR_ENV]: dirs.channel,
        ...(args.grep ? { TCPTRACE_VSCODE_GREP: args.grep } : {}),
      },
    },
  );

  closeSync(serverLog); // the child has its own copy
  let context: BrowserContext | undefined;
  const cleanup = async () => {
    await context?.close().catch(() => undefined);
    await killGroup(server);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const version = await waitForServer(port, server);
    log(`VS Code server up on ${host} (code-server@${CODE_SERVER_VERSION}, commit ${version.slice(0, 10)})`);

    context = await chromium.launchPersistentContext(dirs.browser, {
      executablePath: chromiumPath,
      headless: true,
      timeout: remainingMs(),
      viewport: { width: 1600, height: 1000 },
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());

    let resolveOutcome!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (resolveOutcome = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveOutcome({ kind: 'exit', code }));
    await page.exposeFunction('codeAutomationLog', (level: string, logArgs: unknown) => {
      const text = Array.isArray(logArgs) ? format(...(logArgs as unknown[])) : format(logArgs);
      appendFileSync(workbenchLogFile, `[${level}] ${text}\n`);
      // The suite's own lines (mocha's report) are marked by suite/index.ts; the rest is the workbench.
      const at = text.indexOf(OUTPUT_MARKER);
      if (at >= 0) console.log(text.slice(at + OUTPUT_MARKER.length));
      else if (args.verbose) console.log(`[workbench ${level}] ${text}`);
    });
    page.on('console', (msg) => appendFileSync(workbenchLogFile, `[console.${msg.type()}] ${msg.text()}\n`));
    page.on('pageerror', (err) => appendFileSync(workbenchLogFile, `[pageerror] ${err.stack ?? err.message}\n`));
    page.on('crash', () => resolveOutcome({ kind: 'crash' }));
    server.once('exit', () => resolveOutcome({ kind: 'server-exit' }));
    const timer = setTimeout(() => resolveOutcome({ kind: 'timeout' }), remainingMs());
    // The suite's requests through the channel directory (suite/channel.ts): screenshots of
    // failed tests while the suite waits, and the hand-over when it is done.
    let watching = true;
    const handledShots = new Set<string>();
    const watchChannel = async () => {
      while (watching && !page.isClosed()) {
        for (const name of readdirSync(dirs.channel)) {
          if (!name.startsWith(SHOT_PREFIX) || !name.endsWith('.json') || handledShots.has(name)) continue;
          handledShots.add(name);
          const request = JSON.parse(readFileSync(join(dirs.channel, name), 'utf8')) as ShotRequest;
          const file = join(resultsDir, `failure-${handledShots.size}.png`);
          await screenshot(page, file, `failed: ${request.title}`);
          writeFileSync(join(dirs.channel, name.replace(/\.json$/, '.done')), '');
        }
        if (existsSync(join(dirs.channel, READY_FILE))) {
          const report = JSON.parse(readFileSync(join(dirs.channel, READY_FILE), 'utf8')) as ReadyReport;
          resolveOutcome({ kind: 'ready', report });
          return;
        }
        await sleep(100);
      }
    };
    const watcher = watchChannel().catch((err: unknown) => log(`reading the suite's channel failed: ${String(err)}`));

    // The server refuses --extensionDevelopmentPath/--extensionTestsPath; the workbench takes them from the URL.
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${host}${extensionDir}`],
      ['extensionTestsPath', `vscode-remote://${host}${testEntry}`],
    ];
    await page.goto(`http://${host}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    log('workbench loaded; running the suite in the extension host');

    const result = await outcome;
    watching = false;
    await watcher;
    let code: number;
    // For the closing line: mocha's tests plus the workbench checks.
    let passed = 0;
    let failed = 0;
    switch (result.kind) {
      case 'ready': {
        // The suite waits for us: look at the live workbench, then let it finish.
        const { report } = result;
        // Checks of a run that already failed would only add noise (the state they need may be missing).
        const checks = report.failures === 0 ? report.workbenchChecks : [];
        const uiFailures = await checkWorkbench(page, checks);
        passed = report.passes + checks.length - uiFailures;
        failed = report.failures + uiFailures;
        await screenshot(page);
        writeFileSync(join(dirs.channel, RELEASE_FILE), '');
        // The exposed codeAutomationExit resolves whatever resolveOutcome is now: the end of the run.
        const exit = await Promise.race([
          new Promise<Outcome>((resolve) => (resolveOutcome = resolve)),
          sleep(30_000).then((): Outcome => ({ kind: 'timeout' })),
        ]);
        const exitCode = exit.kind === 'exit' ? exit.code : report.failures > 0 ? 1 : 0;
        if (exit.kind !== 'exit') log(`VS Code did not report the end of the run (${exit.kind}); going by the suite's report`);
        code = exitCode !== 0 ? exitCode : uiFailures > 0 ? 1 : 0;
        if (uiFailures > 0) log(`${uiFailures} workbench check(s) failed`);
        break;
      }
      case 'exit':
        // The suite failed before it could hand over (it threw while loading, say).
        await screenshot(page);
        code = result.code;
        break;
      case 'timeout':
        log(`timed out after ${timeoutSeconds} s`);
        await screenshot(page);
        code = 1;
        break;
      case 'server-exit':
        log(`the VS Code server exited during the run:\n${tail(serverLogFile)}`);
        code = 1;
        break;
      case 'crash':
        log('the workbench page crashed');
        code = 1;
        break;
    }
    clearTimeout(timer);
    if (code !== 0 && failed === 0) failed = 1; // the run failed as a whole (timeout, crash, load error)
    // A plain closing line that CI's log reader understands.
    console.log(`vscode: ${passed} passed, ${failed} failed`);
    log(`${code === 0 ? 'passed' : `FAILED (exit code ${code})`} in ${seconds()} s`);
    if (code !== 0) {
      log(`logs: ${serverLogFile}, ${workbenchLogFile}, ${join(resultsDir, 'logs')} (extension host, output channels)`);
    }
    return code;
  } finally {
    await cleanup();
    // VS Code's own logs, the extension's output channel ("TCP Trace.log") among them.
    const logs = join(dirs.user, 'logs');
    if (existsSync(logs)) cpSync(logs, join(resultsDir, 'logs'), { recursive: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (args.keep) log(`kept ${tmp} and ${bundleDir}`);
    else {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(bundleDir, { recursive: true, force: true });
    }
  }
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof SetupError) {
      console.error(`test:vscode: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
