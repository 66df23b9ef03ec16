/**
 * The teaching examples and the classic-mistake files are executable
 * documentation: each declares, in a `# diagnostics:` comment near the top,
 * exactly what the checker must report (code@1-based-line, every severity).
 * This test holds the checker and the files to that contract, through the
 * library and through the built CLI.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { check, CODES } from '../../src/core';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const MISTAKES = join(EXAMPLES, 'mistakes');
const CLI = join(ROOT, 'bin', 'tcptrace-cli.js');
const LANGUAGE_DOC = join(ROOT, 'docs', 'language.md');

/**
 * Mistakes whose diagnostic is a warning by the spec's severity table
 * (TT207 and TT400 are warnings): they must report a warning, and the CLI
 * exits 0 for them because no error is involved.
 */
const WARNING_LESSONS = new Set(['time-wait-too-short.tcptrace', 'beyond-window.tcptrace']);

function traces(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tcptrace'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Reads the `# diagnostics:` line from the leading comment block. Returns the
 * sorted `CODE@LINE` entries, or throws with a message naming the file.
 */
function declaredDiagnostics(file: string, text: string): string[] {
  const name = relative(ROOT, file);
  let declared: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) break; // only the leading comment block counts
    const m = /^#\s*diagnostics:\s*(.*)$/i.exec(line);
    if (m) {
      if (declared !== undefined) throw new Error(`${name}: more than one '# diagnostics:' line`);
      declared = m[1].trim();
    }
  }
  if (declared === undefined) throw new Error(`${name}: no '# diagnostics:' line in the leading comment block`);
  if (declared.toLowerCase() === 'none') return [];
  return declared
    .split(',')
    .map((entry) => {
      const e = entry.trim();
      if (!/^TT\d{3}@[1-9]\d*$/.test(e)) throw new Error(`${name}: malformed entry '${e}' (write CODE@LINE, e.g. TT302@9)`);
      return e;
    })
    .sort();
}

interface Checked {
  file: string;
  declared: string[];
  actual: string[];
  severities: Map<string, number>;
  /** For failure messages: what the checker said, line by line. */
  details: string;
}

function checkFile(file: string): Checked {
  const text = readFileSync(file, 'utf8');
  const declared = declaredDiagnostics(file, text);
  const result = check(text);
  const severities = new Map<string, number>();
  for (const d of result.diagnostics) severities.set(d.severity, (severities.get(d.severity) ?? 0) + 1);
  const actual = result.diagnostics.map((d) => `${d.code}@${d.line + 1}`).sort();
  const details = result.diagnostics.map((d) => `  ${d.code}@${d.line + 1} ${d.severity}: ${d.message}`).join('\n');
  return { file, declared, actual, severities, details };
}

function assertAsDeclared(c: Checked): void {
  assert.deepEqual(
    c.actual,
    c.declared,
    `${relative(ROOT, c.file)}: the checker's diagnostics differ from the '# diagnostics:' line\n` +
      `declared: ${c.declared.join(', ') || 'none'}\nactual:   ${c.actual.join(', ') || 'none'}\n${c.details}`,
  );
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface JsonReport {
  files: { file: string; diagnostics: { code: string; severity: string; line: number }[] }[];
}

const exampleFiles = traces(EXAMPLES);
const mistakeFiles = traces(MISTAKES);

describe('examples/', () => {
  it('holds at least 16 teaching examples', () => {
    assert.ok(exampleFiles.length >= 16, `only ${exampleFiles.length} examples`);
  });

  for (const file of exampleFiles) {
    it(`${relative(EXAMPLES, file)} reports exactly its declared diagnostics, and no error`, () => {
      const c = checkFile(file);
      assertAsDeclared(c);
      assert.equal(c.severities.get('error') ?? 0, 0, `${relative(ROOT, file)} has errors:\n${c.details}`);
    });
  }
});

describe('examples/mistakes/', () => {
  it('holds the classic mistakes', () => {
    assert.ok(mistakeFiles.length >= 16, `only ${mistakeFiles.length} mistake files`);
  });

  for (const file of mistakeFiles) {
    const name = relative(MISTAKES, file);
    it(`${name} reports exactly its declared diagnostics`, () => {
      const c = checkFile(file);
      assertAsDeclared(c);
      if (WARNING_LESSONS.has(name)) {
        assert.ok((c.severities.get('warning') ?? 0) >= 1, `${name} should report a warning:\n${c.details}`);
      } else {
        assert.ok((c.severities.get('error') ?? 0) >= 1, `${name} should report an error:\n${c.details}`);
      }
    });
  }
});

describe('tcptrace-cli check on the examples', () => {
  before(() => {
    // `npm test` builds first; a lone `node --test` run builds here if needed.
    if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
    }
  });

  it('exits 0 on all examples, with no error diagnostic and the declared ones in JSON', () => {
    const rel = exampleFiles.map((f) => relative(ROOT, f));
    const r = runCli(['check', '--format', 'json', ...rel]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr}\n${r.stdout.slice(0, 4000)}`);
    const report = JSON.parse(r.stdout) as JsonReport;
    assert.equal(report.files.length, rel.length);
    for (const f of report.files) {
      const errors = f.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors, [], `${f.file} has error diagnostics in the CLI output`);
      const file = resolve(ROOT, f.file);
      const declared = declaredDiagnostics(file, readFileSync(file, 'utf8'));
      const actual = f.diagnostics.map((d) => `${d.code}@${d.line}`).sort();
      assert.deepEqual(actual, declared, `${f.file}: CLI diagnostics (1-based lines) differ from the declared ones`);
    }
  });

  for (const file of mistakeFiles) {
    const name = relative(MISTAKES, file);
    const expected = WARNING_LESSONS.has(name) ? 0 : 1;
    it(`exits ${expected} on mistakes/${name}`, () => {
      const r = runCli(['check', relative(ROOT, file)]);
      assert.equal(r.status, expected, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    });
  }
});

/**
 * docs/language.md is where the language server links every diagnostic
 * (`docs/language.md#tt302`): each code needs its anchored section, and the
 * section's example must really produce that code.
 */
describe('docs/language.md', () => {
  const doc = readFileSync(LANGUAGE_DOC, 'utf8');
  /** Section text by code, from `### <a id="tt302"></a>TT302 ...` to the next heading. */
  const sections = new Map<string, string>();
  const heading = /^### <a id="(tt\d{3})"><\/a>(TT\d{3}) .*$/gm;
  const starts: { code: string; index: number }[] = [];
  for (let m = heading.exec(doc); m; m = heading.exec(doc)) {
    assert.equal(m[1], m[2].toLowerCase(), `anchor ${m[1]} does not match heading ${m[2]}`);
    starts.push({ code: m[2], index: m.index });
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : doc.indexOf('\n## ', s.index);
    sections.set(s.code, doc.slice(s.index, end < 0 ? undefined : end));
  });

  it('has an anchored section for every diagnostic code', () => {
    const missing = Object.keys(CODES).filter((c) => !sections.has(c));
    assert.deepEqual(missing, [], `codes without a '### <a id="ttNNN"></a>TTNNN' section`);
  });

  for (const code of Object.keys(CODES)) {
    it(`the example under ${code} produces ${code}`, () => {
      const section = sections.get(code);
      assert.ok(section, `no section for ${code}`);
      const block = /```tcptrace\n([\s\S]*?)```/.exec(section);
      assert.ok(block, `the ${code} section has no tcptrace example`);
      const codes = check(block[1]).diagnostics.map((d) => d.code);
      assert.ok(codes.includes(code), `the ${code} example reports ${codes.join(', ') || 'nothing'}`);
    });
  }

  it('keeps a Checker decisions section', () => {
    assert.match(doc, /^## Checker decisions$/m);
  });
});
