// The README stays true: its profile reference is the one generated from the schema, and its test
// command is the one CI runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { withReference } from '../../src/docs/reference.ts';
import { root } from '../helpers/paths.ts';

const readme = readFileSync(`${root}README.md`, 'utf8');

test('the README profile reference matches the schema (run: node scripts/reference.ts --write)', () => {
  assert.fixture(readme, withReference(readme));
});

test('every property of the schema and every env variable appears in the README', () => {
  const schema = JSON.parse(readFileSync(`${root}schemas/profile.schema.json`, 'utf8'));
  for (const name of Object.keys(schema.definitions.vm.properties)) assert.ok(readme.includes(`\`vm.${name}\``), name);
  for (const v of schema['x-env']) assert.ok(readme.includes(`\`${v.name}\``), v.name);
});

test('CI runs the test command the README gives', () => {
  assert.ok(readme.includes('\nnpm test    #'));
  assert.match(readFileSync(`${root}.ci/run`, 'utf8'), /^npm test 2>&1 \| tee/m);
});

test('the README demo command is the one the demo test runs', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  assert.ok(readme.includes('`npm run demo`'));
  assert.is(pkg.scripts.demo, 'node scripts/demo.ts');
  assert.match(readFileSync(`${root}test/e2e/demo.test.ts`, 'utf8'), /scripts\/demo\.ts/);
});

test.run();
