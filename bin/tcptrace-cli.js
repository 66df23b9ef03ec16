#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run automatically by `npm ci`/`npm install`).
const path = require('path');
const fs = require('fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('tcptrace-cli: dist/cli.js is missing; run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
require(bundle).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
