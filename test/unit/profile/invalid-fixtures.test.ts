// Every broken profile in test/fixtures/invalid gives exactly the problems listed in expected.json:
// position, rule and message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { checkProfile } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { fixture } from '../../helpers/paths.ts';

const expected = JSON.parse(readFileSync(fixture('invalid/expected.json'), 'utf8')) as Record<string, { line: number; column: number; ruleId: string; message: string }[]>;
const files = readdirSync(fixture('invalid')).filter((f) => f.endsWith('.yaml'));
const { catalog } = builtinRegistry();

test('every fixture has its expectation', () => {
  assert.equal(files.sort(), Object.keys(expected).sort());
});

for (const file of files) {
  test(`${file}: exact positions and messages`, () => {
    const result = checkProfile(readFileSync(fixture(`invalid/${file}`), 'utf8'), fixture(`invalid/${file}`), { env: {}, catalog });
    assert.is(result.profile, undefined, 'an invalid profile yields no profile');
    assert.equal(
      result.problems.map(({ line, column, ruleId, message }) => ({ line, column, ruleId, message })),
      expected[file],
    );
  });
}

test.run();
