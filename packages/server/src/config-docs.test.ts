// Keeps README.md honest: its configuration table must list every setting in CONFIG_DOCS with the
// same flag and default, every FERRY_* variable the server and CLI read must be mentioned, and every
// `ferry` command must appear in its CLI section. A failure prints the rows to paste.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DOCS } from './config.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Cells of a markdown table row, with `\|` kept inside a cell and backticks removed. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.replaceAll('\\|', '|').replaceAll('`', '').trim());
}

/** README table rows keyed by their first cell. */
function tableRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of README.split('\n')) {
    if (!line.trim().startsWith('|')) continue;
    const c = cells(line);
    if (c.length >= 3 && !rows.has(c[0])) rows.set(c[0], c);
  }
  return rows;
}

/** The row CONFIG_DOCS asks for, formatted like README's configuration table. */
function expectedRow(d: (typeof CONFIG_DOCS)[number]): string {
  const code = (s: string) => '`' + s.replaceAll('|', '\\|') + '`';
  return `| ${code(d.env)} | ${d.flag ? code(d.flag) : ''} | ${code(d.default)} | ${d.doc.replaceAll('|', '\\|')} |`;
}

describe('README.md documents the configuration', () => {
  const rows = tableRows();

  test('every CONFIG_DOCS setting has a row with its flag and default', () => {
    const wrong = CONFIG_DOCS.filter((d) => {
      const r = rows.get(d.env);
      return !r || r[1] !== (d.flag ?? '') || !r[2].startsWith(d.default);
    });
    assert.deepEqual(
      wrong.map((d) => d.env),
      [],
      `README.md's configuration table is missing or out of date for these rows:\n${wrong.map(expectedRow).join('\n')}`,
    );
  });

  test('every FERRY_* variable the server and CLI read is mentioned', () => {
    const files = globSync('packages/{server,cli}/src/**/*.ts', { cwd: ROOT }).filter(
      (f) => !/\.(int\.)?test\.ts$|\.contract\.ts$/.test(f),
    );
    const read = new Set<string>();
    for (const f of files) {
      const src = readFileSync(join(ROOT, f), 'utf8');
      for (const m of src.matchAll(/\benv\.(FERRY_[A-Z0-9_]+)/g)) read.add(m[1]);
    }
    assert.ok(read.has('FERRY_PORT'), 'the scan should find the variables config.ts reads');
    const undocumented = [...read].filter((v) => !README.includes('`' + v + '`')).sort();
    assert.deepEqual(undocumented, [], `README.md does not mention: ${undocumented.join(', ')}`);
  });
});

describe('README.md documents the CLI', () => {
  test('every command of `ferry --help` appears as `ferry <command>`', () => {
    const help = execFileSync(process.execPath, [join(ROOT, 'packages/cli/src/main.ts'), '--help'], {
      encoding: 'utf8',
    });
    const commands = help
      .split('Commands:')[1]
      .split('\n')
      .map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1])
      .filter((c): c is string => !!c && c !== 'help');
    assert.ok(commands.length > 5, `could not read the commands from:\n${help}`);
    const missing = commands.filter((c) => !README.includes('`ferry ' + c));
    assert.deepEqual(missing, [], `README.md's CLI section lacks: ${missing.join(', ')}`);
  });
});
