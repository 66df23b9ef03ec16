// Mocha entry point loaded by VS Code's extension host as `extensionTestsPath`
// (by test/vscode/run.ts through code-server, and by test/vscode/electron.ts
// through @vscode/test-electron). It runs every bundled `*.test.js` beside it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { handOverToRunner, OUTPUT_MARKER, requestScreenshot, runnerDir } from './channel';

/**
 * Marks the suite's report so that run.ts can tell it from the workbench's own log lines.
 * Mocha's reporters print through `Base.consoleLog`; VS Code's extension host pins
 * `console.log` itself (assigning to it is ignored), so the report is tagged here instead.
 */
function tagReport(): void {
  const log = console.log.bind(console);
  Mocha.reporters.Base.consoleLog = (...data: unknown[]) => log(OUTPUT_MARKER + format(...data));
}

export async function run(): Promise<void> {
  if (runnerDir()) tagReport();
  const grep = process.env.TCPTRACE_VSCODE_GREP;
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    // The extension host's output is not a terminal; colour codes would litter CI logs.
    color: false,
    // Generous: the first tests pay for the extension's activation and the server's start.
    timeout: 60_000,
    slow: 5_000,
    ...(grep ? { grep } : {}),
  });
  // A picture of the workbench at the moment a test failed (under run.ts only).
  mocha.suite.afterEach(async function () {
    if (this.currentTest?.state === 'failed') await requestScreenshot(this.currentTest.fullTitle());
  });
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, file));
  }
  const { failures, tests, passes } = await new Promise<{ failures: number; tests: number; passes: number }>((resolve) => {
    const runner = mocha.run((n) => resolve({ failures: n, tests: runner.stats?.tests ?? 0, passes: runner.stats?.passes ?? 0 }));
  });
  await handOverToRunner(tests, passes, failures);
  if (failures > 0) throw new Error(`mocha reported ${failures} failure(s)`);
  // A grep that selects nothing must not pass as a green run.
  if (tests === 0) throw new Error(`no test was run${grep ? ` (grep: ${grep})` : ''}`);
}
