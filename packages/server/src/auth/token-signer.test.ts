// TokenSigner: tokens verify (again from the cache), tampering and other secrets are refused, and
// a remembered token still expires on time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TokenSigner } from './token-signer.ts';

const claims = { userId: 'u1', deviceId: 'd1', role: 'user' as const };

test('a signed token verifies, twice, to the same claims', async () => {
  const s = new TokenSigner(randomBytes(32), 60);
  const token = await s.sign(claims);
  assert.deepEqual(await s.verify(token), claims);
  assert.deepEqual(await s.verify(token), claims);
});

test('a tampered token or one signed with another secret is refused', async () => {
  const s = new TokenSigner(randomBytes(32), 60);
  const token = await s.sign(claims);
  await s.verify(token); // remembered: tampering must still not pass
  const [h, p, sig] = token.split('.');
  const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
  forged.role = 'admin';
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
  await assert.rejects(s.verify(tampered), /invalid access token/);
  const other = await new TokenSigner(randomBytes(32), 60).sign(claims);
  await assert.rejects(s.verify(other), /invalid access token/);
});

test('a remembered token expires on time', async () => {
  // Expiry is in whole seconds: a 1 s lifetime signed at x.999 s is already over at x+1.001 s.
  const s = new TokenSigner(randomBytes(32), 2);
  const token = await s.sign(claims);
  assert.deepEqual(await s.verify(token), claims);
  await new Promise((r) => setTimeout(r, 3100));
  await assert.rejects(s.verify(token), /expired/);
});
