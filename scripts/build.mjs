// Builds every bundle a run needs: the CLI, the language server, the extension
// client (and, once they exist, the webview scripts). `npm ci` runs this via `prepare`.
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');

/** Node bundles: entry point -> output file. */
const nodeBundles = [
  { entry: 'src/cli/main.ts', out: 'dist/cli.js' },
  { entry: 'src/server/server.ts', out: 'dist/server.js' },
  { entry: 'src/client/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
];

mkdirSync(join(root, 'dist'), { recursive: true });
const started = Date.now();
await Promise.all(
  nodeBundles
    .filter((b) => existsSync(join(root, b.entry)))
    .map((b) =>
      build({
        absWorkingDir: root,
        entryPoints: [b.entry],
        outfile: b.out,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        sourcemap: !production,
        minify: production,
        external: b.external ?? [],
        logLevel: 'warning',
      }),
    ),
);
console.log(`built in ${Date.now() - started} ms`);
