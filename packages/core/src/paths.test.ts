import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from './errors.ts';
import { ancestors, conflictCopyPath, isConflictCopy, isWithin, normalizePath, parentPath } from './paths.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as FerryError).code;
  }
  return 'OK';
};

test('normalizePath: canonical form', () => {
  assert.equal(normalizePath('/a/b/'), '/a/b');
  assert.equal(normalizePath('/a//b'), '/a/b');
  assert.equal(normalizePath('/', { allowRoot: true }), '/');
  // NFD "é" (e + combining acute) becomes NFC.
  assert.equal(normalizePath('/cafe\u0301.txt'), '/caf\u00e9.txt');
});

test('normalizePath: refuses bad paths with INVALID_PATH or INVALID_NAME', () => {
  const cases: [unknown, string][] = [
    ['', 'INVALID_PATH'],
    [undefined, 'INVALID_PATH'],
    ['relative/x', 'INVALID_PATH'],
    ['/a/../b', 'INVALID_PATH'],
    ['/a/./b', 'INVALID_PATH'],
    ['/', 'INVALID_PATH'],
    ['/a\u0000b', 'INVALID_NAME'],
    ['/a\nb', 'INVALID_NAME'],
    ['/a\\b', 'INVALID_NAME'],
    ['/CON', 'INVALID_NAME'],
    ['/nul.txt', 'INVALID_NAME'],
    ['/trailing.', 'INVALID_NAME'],
    ['/' + 'x'.repeat(256), 'INVALID_NAME'],
    ['/' + 'é'.repeat(128), 'INVALID_NAME'], // 256 bytes in UTF-8
    ['/' + Array(1000).fill('abcd').join('/'), 'INVALID_PATH'],
  ];
  for (const [input, expected] of cases)
    assert.equal(
      code(() => normalizePath(input)),
      expected,
      JSON.stringify(input),
    );
  assert.equal(
    code(() => normalizePath('/' + 'x'.repeat(255))),
    'OK',
  );
});

test('path helpers', () => {
  assert.equal(parentPath('/a/b/c'), '/a/b');
  assert.equal(parentPath('/a'), '/');
  assert.deepEqual(ancestors('/a/b/c.txt'), ['/a', '/a/b']);
  assert.ok(isWithin('/a/b', '/a'));
  assert.ok(!isWithin('/ab', '/a'));
});

test('conflict copy names follow SPEC: name (conflict from DEVICE YYYY-MM-DD HHMMSS).ext in UTC', () => {
  const at = new Date(Date.UTC(2026, 0, 5, 7, 8, 9));
  assert.equal(
    conflictCopyPath('/docs/report.final.pdf', 'laptop', at),
    '/docs/report.final (conflict from laptop 2026-01-05 070809).pdf',
  );
  assert.equal(conflictCopyPath('/Makefile', 'pi', at), '/Makefile (conflict from pi 2026-01-05 070809)');
  assert.equal(conflictCopyPath('/.bashrc', 'pi', at), '/.bashrc (conflict from pi 2026-01-05 070809)');
  assert.equal(
    conflictCopyPath('/a.txt', 'my/phone', at),
    '/a (conflict from my_phone 2026-01-05 070809).txt',
  );
  assert.ok(isConflictCopy('/docs/report (conflict from laptop 2026-01-05 070809).pdf'));
  assert.ok(!isConflictCopy('/docs/report.pdf'));
  // The name is itself valid.
  assert.doesNotThrow(() => normalizePath(conflictCopyPath('/x.txt', 'dev', at)));
});
