// The image's entrypoint runs Node with --no-rehash-snapshot (a fixed string-hash seed, ~4 ms off a
// start). lint, the command for profiles from anyone, starts Node again without it; the command
// line it starts with keeps everything else.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { commandLineWithRandomSeed } from '../../../src/cli/hash-seed.ts';
import { root, testCacheDir } from '../../helpers/paths.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-hash-seed-test-`);
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('the command line without the options that fixed the seed, everything else as it was', () => {
  const argv = ['/usr/bin/node', '/opt/startvm/bin/startvm', 'lint', '--no-rehash-snapshot', 'a.yaml'];
  assert.equal(commandLineWithRandomSeed(['--no-rehash-snapshot'], '/usr/bin/node', ['--no-rehash-snapshot', '--max-old-space-size=64'], argv), ['/usr/bin/node', '--max-old-space-size=64', '/opt/startvm/bin/startvm', 'lint', '--no-rehash-snapshot', 'a.yaml']);
  assert.equal(commandLineWithRandomSeed(['--no_rehash_snapshot'], '/n', ['--no_rehash_snapshot'], ['/n', 's', 'lint']), ['/n', 's', 'lint']);
  assert.is(commandLineWithRandomSeed([], '/usr/bin/node', [], argv), undefined, 'a random seed already: nothing to start again');
});

test('lint under --no-rehash-snapshot reads its profiles in a Node started again without the option', async () => {
  // A FIFO for the profile: the open below returns once the process that lints opens it, and at that
  // moment /proc shows that process's command line (an exec keeps the PID).
  const profile = `${scratch}/profile.yaml`;
  execFileSync('mkfifo', [profile]);
  const child = execa(process.execPath, ['--no-rehash-snapshot', `${root}bin/startvm`, 'lint', profile], {
    reject: false,
    env: { NO_COLOR: '1', STARTVM_CODE_CACHE: `${testCacheDir}/startvm.codecache` },
    extendEnv: false,
  });
  const ended = child.then((r) => {
    throw new Error(`lint ended before it read the profile: exit ${r.exitCode}\n${r.stderr}`);
  });
  const writer = await Promise.race([open(profile, 'w'), ended]).catch(async (error: Error) => {
    (await open(profile, 'r+')).close(); // lets go of the writer's open, still waiting in the thread pool
    throw error;
  });
  const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  await writer.writeFile('version: 1\nstages: []\n');
  await writer.close();
  const result = await child;
  assert.is(result.exitCode, 0, result.stderr);
  assert.is(result.stderr, '', 'no warning (DEP0111 included)');
  assert.equal(commandLine, [process.execPath, `${root}bin/startvm`, 'lint', profile]);
});

test.run();
