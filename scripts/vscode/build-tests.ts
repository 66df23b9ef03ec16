// Bundles the in-VS-Code test suite (test/vscode/suite) for the extension host:
// one CommonJS file per test file plus the mocha entry point `index.js`, so that
// mocha loads each file on its own and `--grep`/file order behave as usual.
// `vscode` is provided by the extension host and `mocha` is required from the
// project's node_modules, so that the runner and the test files share one instance.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
const suiteDir = join(repoRoot, 'test', 'vscode', 'suite');
/**
 * Where the bundles go, one folder per build (runs side by side must not delete each
 * other's); `out/` is ignored by git. Inside the work tree, so that the bundles resolve
 * `mocha` from the project's node_modules.
 */
export const testBundleDir = join(repoRoot, 'out', 'test', 'vscode');

/**
 * Builds the extension's own bundles (scripts/build.mjs): the tests exercise what VS Code
 * loads (package.json `main` and the server), so a stale dist/ would test old code.
 * Returns the bundles that are still missing afterwards.
 */
export function buildExtension(): string[] {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the extension (scripts/build.mjs) failed');
  return ['dist/extension.js', 'dist/server.js'].filter((bundle) => !existsSync(join(repoRoot, bundle)));
}

/**
 * Bundles the suite into `outDir` (emptied first: stale bundles of deleted tests would still
 * run) and returns the module VS Code loads as `extensionTestsPath`.
 */
export async function buildTests(outDir = join(testBundleDir, 'suite')): Promise<string> {
  const testFiles = readdirSync(suiteDir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(suiteDir, f));
  rmSync(outDir, { recursive: true, force: true });
  await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(suiteDir, 'index.ts'), ...testFiles],
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return join(outDir, 'index.js');
}

if (require.main === module) {
  const started = Date.now();
  buildTests().then(
    (entry) => console.log(`test bundles: ${entry} (${Date.now() - started} ms)`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
