// Writes docs/errors.md from the error catalogue in packages/core/src/errors.ts.

import { writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../packages/core/src/errors.ts';

const rows = Object.entries(ERROR_CODES).map(
  ([code, { status, doc }]) => `| \`${code}\` | ${status} | ${doc} |`,
);
writeFileSync(
  'docs/errors.md',
  `# Error codes\n\nEvery error answer is \`{ "error": { "code", "message", "details"? } }\`. The code is stable and\nmachine-readable; the message is for people. Generated from \`packages/core/src/errors.ts\` by\n\`node scripts/gen-errors-doc.ts\`; a test fails when a code is missing here.\n\n| code | HTTP status | meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`,
);
