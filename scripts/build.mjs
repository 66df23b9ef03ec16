// Builds every bundle a run needs: the CLI, the language server, the extension
// client, the preview's worker and its browser scripts. `npm ci` runs this via `prepare`.
import { build } from 'esbuild';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');

/** Node bundles: entry point -> output file. */
const nodeBundles = [
  { entry: 'src/cli/main.ts', out: 'dist/cli.js', external: ['playwright-core'] },
  // `tcptrace-cli import` checks the traces of large captures on this worker thread (src/cli/check-pool.ts).
  { entry: 'src/cli/check-worker.ts', out: 'dist/check-worker.js' },
  { entry: 'src/server/server.ts', out: 'dist/server.js' },
  { entry: 'src/client/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  // The preview checks and lays out traces in a worker thread, off the extension host's main thread.
  { entry: 'src/client/preview/worker.ts', out: 'dist/preview-worker.js' },
];

/**
 * Browser bundles (the preview webview, the Markdown preview script, the command
 * line's SVG renderer). Mermaid is its own file, shared by all three; it is
 * rebuilt only when the installed Mermaid is newer than the bundle (5 MB, ~2 s).
 */
const browserBundles = [
  { entry: 'src/webview/preview.ts', out: 'media/dist/preview.js' },
  { entry: 'src/webview/markdown.ts', out: 'media/dist/markdown.js' },
  { entry: 'src/webview/standalone.ts', out: 'media/dist/render.js' },
  { entry: 'src/webview/mermaid-global.mts', out: 'media/dist/mermaid.js', minify: true, cacheFrom: 'node_modules/mermaid/package.json' },
];

function upToDate(out, from) {
  try {
    return statSync(join(root, out)).mtimeMs >= statSync(join(root, from)).mtimeMs;
  } catch {
    return false;
  }
}

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
  ...browserBundles
    .filter((b) => existsSync(join(root, b.entry)) && !(b.cacheFrom && upToDate(b.out, b.cacheFrom)))
    .map((b) =>
      build({
        absWorkingDir: root,
        entryPoints: [b.entry],
        outfile: b.out,
        bundle: true,
        platform: 'browser',
        target: 'chrome120',
        format: 'iife',
        sourcemap: !production && !b.minify,
        minify: production || b.minify === true,
        logLevel: 'warning',
      }),
    ),
);
console.log(`built in ${Date.now() - started} ms`);
