// The side channel between the suite (in VS Code's extension host) and test/vscode/run.ts.
// Only active under run.ts, which sets RUNNER_DIR_ENV in the VS Code server's environment;
// under @vscode/test-electron every function here is a no-op.
//
// Output: VS Code forwards the extension host's console to the workbench's log, mixed with
// the workbench's own messages; the marker lets the runner print the suite's lines only.
// Screenshots of failures: after a failed test the suite asks for one (SHOT_PREFIX files)
// and waits until the runner has taken it, so the picture shows the moment of failure.
// Workbench checks: after mocha finishes, the suite writes READY_FILE (results and the UI
// checks tests asked for) and waits for RELEASE_FILE, so that the runner can inspect and
// photograph the live workbench before VS Code shuts the extension host down.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNNER_DIR_ENV = 'TCPTRACE_VSCODE_RUNNER_DIR';
export const OUTPUT_MARKER = '\u2063tcptrace-test\u2063';
export const READY_FILE = 'tests-done.json';
export const RELEASE_FILE = 'release';
export const SHOT_PREFIX = 'shot-';

export interface ShotRequest {
  /** The failed test's full title. */
  title: string;
}

/** What the runner asserts in the workbench's DOM once the tests are done. */
export type WorkbenchCheck =
  /** An error squiggle is drawn in the visible editor. */
  | { kind: 'squiggle'; severity: 'error' | 'warning' }
  /** The Problems panel is visible and lists an entry containing `text`. */
  | { kind: 'problem'; text: string }
  /** The status bar has an item containing `text`. */
  | { kind: 'statusbar'; text: string };

export interface ReadyReport {
  tests: number;
  passes: number;
  failures: number;
  workbenchChecks: WorkbenchCheck[];
}

/** Test files are separate bundles: share the requested checks through the global object. */
const registry = globalThis as { __tcptraceWorkbenchChecks?: WorkbenchCheck[] };

export function runnerDir(): string | undefined {
  return process.env[RUNNER_DIR_ENV] || undefined;
}

/** Asks the runner to check the live workbench after the run (no-op outside run.ts). */
export function requestWorkbenchChecks(...checks: WorkbenchCheck[]): void {
  (registry.__tcptraceWorkbenchChecks ??= []).push(...checks);
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let shots = 0;

/** Asks the runner for a screenshot of the workbench as it is now, and waits (bounded) for it. */
export async function requestScreenshot(title: string): Promise<void> {
  const dir = runnerDir();
  if (!dir) return;
  const name = `${SHOT_PREFIX}${++shots}`;
  const request: ShotRequest = { title };
  // Written under a temporary name and renamed, so the runner never reads half a file.
  writeFileSync(join(dir, `${name}.tmp`), JSON.stringify(request));
  renameSync(join(dir, `${name}.tmp`), join(dir, `${name}.json`));
  await waitForFile(join(dir, `${name}.done`), 20_000);
}

/** Tells the runner the tests are done and waits (bounded) until it has looked at the workbench. */
export async function handOverToRunner(tests: number, passes: number, failures: number): Promise<void> {
  const dir = runnerDir();
  if (!dir) return;
  const report: ReadyReport = { tests, passes, failures, workbenchChecks: registry.__tcptraceWorkbenchChecks ?? [] };
  writeFileSync(join(dir, `${READY_FILE}.tmp`), JSON.stringify(report));
  renameSync(join(dir, `${READY_FILE}.tmp`), join(dir, READY_FILE));
  await waitForFile(join(dir, RELEASE_FILE), 60_000);
}
