// The workspace both runners (run.ts, electron.ts) open: a fresh temporary copy of the
// fixtures, with examples/ beside them, so tests may edit and create files freely.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/vscode/build-tests';

export function makeWorkspace(dir: string): void {
  cpSync(join(repoRoot, 'test', 'vscode', 'fixtures'), dir, { recursive: true });
  if (existsSync(join(repoRoot, 'examples'))) cpSync(join(repoRoot, 'examples'), join(dir, 'examples'), { recursive: true });
  // Captures and their expected traces for the import tests: tests read the workspace's copy, since a
  // packaged .vsix (tested with --vsix) does not ship test fixtures.
  const captures = join(repoRoot, 'test', 'fixtures', 'captures');
  if (existsSync(captures)) cpSync(captures, join(dir, 'captures'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  mkdirSync(join(dir, 'scratch'), { recursive: true });
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  // Keep the workbench quiet and deterministic: no welcome page, tips or recommendations.
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'files.autoSave': 'off',
  };
  writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}
