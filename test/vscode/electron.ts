// Runs the same in-VS-Code suite (test/vscode/suite) through @vscode/test-electron, the
// ecosystem's standard runner: it downloads a desktop VS Code build (cached in
// .vscode-test/) and starts it with the extension under development. For machines that
// can reach Microsoft's download service; where that is out of reach (CI here), use
// test/vscode/run.ts (`npm run test:vscode`), which needs only npm and apt.
//
//   node --import tsx test/vscode/electron.ts [--vscode-version stable|insiders|1.100.3]
//                                             [--vscode-executable PATH] [--grep PATTERN]
//
// On Linux without a display, run it under `xvfb-run -a`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { buildExtension, buildTests, repoRoot } from '../../scripts/vscode/build-tests';
import { makeWorkspace } from './workspace';

const { values: args } = parseArgs({
  options: {
    // The oldest VS Code package.json `engines` allows is worth testing too: --vscode-version 1.100.3
    'vscode-version': { type: 'string', default: 'stable' },
    'vscode-executable': { type: 'string' },
    grep: { type: 'string' },
  },
});

async function main(): Promise<number> {
  for (const missing of buildExtension()) console.warn(`warning: ${missing} does not exist, the extension cannot work`);
  const testEntry = await buildTests();
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.warn('warning: no display; VS Code (Electron) needs one: run this under `xvfb-run -a`');
  }

  const tmp = mkdtempSync(join(tmpdir(), 'tcptrace-electron-'));
  const workspace = join(tmp, 'workspace');
  mkdirSync(workspace);
  makeWorkspace(workspace);
  try {
    return await runTests({
      ...(args['vscode-executable']
        ? { vscodeExecutablePath: args['vscode-executable'] }
        : { version: args['vscode-version'] }),
      cachePath: join(repoRoot, '.vscode-test'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: testEntry,
      extensionTestsEnv: args.grep ? { TCPTRACE_VSCODE_GREP: args.grep } : {},
      launchArgs: [
        workspace,
        // Fresh profile and no other extensions: only the one under test runs.
        `--user-data-dir=${join(tmp, 'user-data')}`,
        `--extensions-dir=${join(tmp, 'extensions')}`,
        '--disable-extensions',
      ],
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof TestRunFailedError) {
      console.error(`test:electron: ${err.message}`);
      process.exit(err.code ?? 1);
    }
    const text = String((err as Error)?.stack ?? err);
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|Failed to get JSON|Error downloading|update\.code\.visualstudio\.com/i.test(text)) {
      console.error(
        'test:electron: could not download VS Code (Microsoft\'s update service is out of reach from this machine).\n' +
          '  Run the same tests in the VS Code server instead: npm run setup:vscode && npm run test:vscode\n' +
          '  or point this runner at an installed VS Code: --vscode-executable /path/to/code\n' +
          `  cause: ${(err as Error)?.message ?? text}`,
      );
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
