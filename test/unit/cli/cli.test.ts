// The real CLI (the built bundle), as a user or a container runtime calls it: exit codes, which stream
// a message goes to, colour, and where the profile comes from. Hermetic: no test runs `run` or `plan`
// with a valid profile, so nothing reads or changes this machine's network. As a second guard every
// run/plan call gets PATH=/nonexistent (no ip, no dnsmasq, no qemu) and a private run directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { HELP } from '../../../src/cli/args.ts';
import { BUILTIN_PROFILE, findProfile, MOUNTED_PROFILE, ProfileNotFoundError } from '../../../src/profile/find.ts';
import { fixture, root, startvm } from '../../helpers/paths.ts';

const ANSI = /\x1b\[/;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
const schema = JSON.parse(readFileSync(`${root}schemas/profile.schema.json`, 'utf8')) as { 'x-env': { name: string }[] };
const FIVE_MISTAKES = fixture('lint/five-mistakes.yaml');
const MISSING = `${root}test/fixtures/no-such-profile.yaml`;

const scratch = mkdtempSync(`${tmpdir()}/startvm-cli-test-`);
/** Environment for run and plan: nothing to execute, state only in a scratch directory. */
const sealed = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: '/nonexistent', STARTVM_RUN_DIR: `${scratch}/run`, ...env });
// Valid but harmless should a check ever let it through: no stage, so run would change nothing.
const NO_STAGES = `${scratch}/no-stages.yaml`;
writeFileSync(NO_STAGES, 'version: 1\nstages: []\n');

/** A usage error: exit 2, one message on stderr, nothing on stdout. */
async function usageError(args: string[], message: RegExp) {
  const result = await startvm(args, { env: sealed() });
  assert.is(result.exitCode, 2, `${args.join(' ')}: exit code`);
  assert.is(result.stdout, '', `${args.join(' ')}: stdout`);
  assert.match(result.stderr, message);
  assert.ok(result.stderr.startsWith('startvm: '), `${args.join(' ')}: the message says who speaks: ${result.stderr}`);
  assert.not.match(result.stderr, /internal error|\n\s+at /, 'a usage error is not a crash');
}

test('--help prints the usage on stdout and exits 0', async () => {
  for (const flag of ['--help', '-h']) {
    const result = await startvm([flag]);
    assert.is(result.exitCode, 0);
    assert.is(result.stdout, HELP.trimEnd());
    assert.match(result.stdout, /^Usage:$/m);
    assert.is(result.stderr, '');
  }
});

test('--version prints the version from package.json', async () => {
  for (const flag of ['--version', '-v']) {
    const result = await startvm([flag]);
    assert.is(result.exitCode, 0);
    assert.is(result.stdout, pkg.version);
    assert.is(result.stderr, '');
  }
});

test('schema prints JSON equal to schemas/profile.schema.json', async () => {
  const result = await startvm(['schema']);
  assert.is(result.exitCode, 0);
  assert.equal(JSON.parse(result.stdout), schema);
  assert.is(result.stderr, '');
});

test('env lists every variable of the schema\'s x-env table, one per line with its description', async () => {
  const result = await startvm(['env']);
  assert.is(result.exitCode, 0);
  const lines = result.stdout.split('\n');
  assert.equal(lines.map((l) => l.split(/\s+/)[0]), schema['x-env'].map((v) => v.name));
  for (const name of ['NO_DHCP', 'STARTVM_CPUS', 'STARTVM_MEMORY', 'STARTVM_PROFILE']) assert.ok(lines.some((l) => l.startsWith(`${name} `)), name);
  for (const line of lines) assert.match(line, /^[A-Z_]+ +\S.{9,}$/, 'each name comes with a description');
  assert.is(result.stderr, '');
});

test('lint passes every shipped profile silently (exit 0, no output)', async () => {
  const files = readdirSync(`${root}profiles`).filter((f) => f.endsWith('.yaml')).map((f) => `profiles/${f}`);
  assert.ok(files.length >= 3, 'the shipped profiles are found');
  const together = await startvm(['lint', ...files]);
  assert.equal([together.exitCode, together.stdout, together.stderr], [0, '', '']);
  for (const file of files) {
    const alone = await startvm(['lint', file]);
    assert.equal([alone.exitCode, alone.stdout, alone.stderr], [0, '', ''], file);
  }
});

test('lint exits 1 on a broken profile, and still on a broken one listed after a good one', async () => {
  const broken = await startvm(['lint', fixture('invalid/syntax-error.yaml')]);
  assert.is(broken.exitCode, 1);
  assert.match(broken.stdout, /4:3 +error {2}Flow sequence/);
  assert.is(broken.stderr, '');
  const mixed = await startvm(['lint', 'profiles/default.yaml', fixture('invalid/unknown-key.yaml')]);
  assert.is(mixed.exitCode, 1);
  assert.match(mixed.stdout, /3:3 +error {2}unknown key "cpuz"/);
});

test('lint of a missing file exits 1 and says the file was not found', async () => {
  const result = await startvm(['lint', MISSING]);
  assert.is(result.exitCode, 1);
  assert.is(result.stdout.split('\n')[0], MISSING, 'the report names the file');
  assert.match(result.stdout, /^ {2}- +error {2}file not found {2}io$/m);
  assert.not.match(result.stdout, /\benv\b/, 'a file that is not there has nothing to do with an environment variable');
  assert.is(result.stderr, '');
});

test('usage errors exit 2 with a message on stderr and nothing on stdout', async () => {
  await usageError(['bogus'], /unknown command "bogus" \(commands: run, plan, lint, schema, env, doctor, powerdown\)/);
  await usageError(['--bogus'], /Unknown option '--bogus'[\s\S]*Run startvm --help for usage\./);
  await usageError(['lint', '--format', 'xml', FIVE_MISTAKES], /unknown format "xml" \(formats: stylish, json, github, sarif\)/);
  await usageError(['lint'], /lint needs at least one file/);
  await usageError(['plan', 'profile.yaml'], /"plan" takes no file arguments \(use --profile FILE\)/);
  await usageError(['--profile'], /--profile/);
});

test('--log-format other than text or json is a usage error (exit 2)', async () => {
  // An invalid profile as well: whatever is checked first, nothing can run.
  await usageError(['--log-format', 'xml', '--profile', FIVE_MISTAKES], /log format must be text or json, not "xml"/);
  const fromEnv = await startvm(['plan', '--profile', FIVE_MISTAKES], { env: sealed({ STARTVM_LOG_FORMAT: 'yaml' }) });
  assert.is(fromEnv.exitCode, 2);
  assert.match(fromEnv.stderr, /log format must be text or json, not "yaml"/);
});

test('run --profile with an invalid profile exits 1, lists each problem with line:col on stderr, and says nothing was changed', async () => {
  const result = await startvm(['run', '--profile', FIVE_MISTAKES], { env: sealed() });
  assert.is(result.exitCode, 1);
  assert.is(result.stdout, '');
  for (const [where, text] of [['5:9', 'vm.cpus must be an integer'], ['8:5', 'unknown key "modle"'], ['11:5', 'unknown stage "brigde"'], ['15:12', '"forwrd"'], ['16:18', '"90%"']] as const) {
    assert.ok(result.stderr.split('\n').some((line) => line.startsWith(`  ${where} `) && line.includes(text)), `${where} ${text} in:\n${result.stderr}`);
  }
  assert.match(result.stderr, /5 problems \(5 errors, 0 warnings\)/);
  assert.match(result.stderr, new RegExp(`startvm: profile ${FIVE_MISTAKES} has problems; nothing was changed`));
});

test('run --profile with a missing file exits 1 naming the file and --profile', async () => {
  const result = await startvm(['run', '--profile', MISSING], { env: sealed() });
  assert.is(result.exitCode, 1);
  assert.is(result.stdout, '');
  assert.is(result.stderr, `startvm: profile ${MISSING} (from --profile) does not exist`);
});

test('run with NO_DHCP=maybe exits 1 and the message names NO_DHCP and "maybe"', async () => {
  const result = await startvm(['run', '--profile', NO_STAGES], { env: sealed({ NO_DHCP: 'maybe' }) });
  assert.is(result.exitCode, 1);
  assert.is(result.stdout, '');
  assert.match(result.stderr, /NO_DHCP="maybe" is not a boolean/);
  assert.match(result.stderr, /nothing was changed/);
});

test('plan with STARTVM_PROFILE naming a missing file fails naming STARTVM_PROFILE, with no fallback', async () => {
  const result = await startvm(['plan'], { env: sealed({ STARTVM_PROFILE: MISSING }) });
  assert.is(result.exitCode, 1);
  assert.is(result.stdout, '');
  assert.is(result.stderr, `startvm: profile ${MISSING} (from STARTVM_PROFILE) does not exist`);
});

test('no ANSI colour when NO_COLOR is set or the output is not a terminal', async () => {
  for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: undefined }]) {
    const lint = await startvm(['lint', FIVE_MISTAKES], { env });
    assert.is(lint.exitCode, 1);
    assert.not.match(lint.stdout, ANSI, `lint stdout with ${JSON.stringify(env)}`);
    const run = await startvm(['run', '--profile', FIVE_MISTAKES], { env: sealed(env) });
    assert.is(run.exitCode, 1);
    assert.not.match(run.stderr, ANSI, `run stderr with ${JSON.stringify(env)}`);
  }
});

// The counterpart, so the test above can fail: on a terminal startvm does paint, unless NO_COLOR is set.
// `script` (util-linux) gives the CLI a pseudo-terminal.
test('on a terminal lint output is coloured, and NO_COLOR switches that off', async () => {
  const onTerminal = (env: NodeJS.ProcessEnv) =>
    execa('script', ['-qec', `'${process.execPath}' '${root}bin/startvm' lint '${FIVE_MISTAKES}'`, '/dev/null'], { reject: false, env: { PATH: process.env.PATH, ...env }, extendEnv: false });
  const coloured = await onTerminal({});
  assert.is(coloured.exitCode, 1);
  assert.match(coloured.stdout, /\x1b\[31merror\x1b\[0m/);
  const plain = await onTerminal({ NO_COLOR: '1' });
  assert.is(plain.exitCode, 1);
  assert.match(plain.stdout, /5:9 +error/);
  assert.not.match(plain.stdout, ANSI);
});

// Profile discovery, with an injected file check: --profile > STARTVM_PROFILE > mounted > built-in.
const only = (...present: string[]) => {
  const asked: string[] = [];
  const exists = (path: string) => (asked.push(path), present.includes(path));
  return { exists, asked };
};

test('findProfile: --profile wins over STARTVM_PROFILE and the mounted profile', () => {
  const fs = only('/a.yaml', '/env.yaml', MOUNTED_PROFILE);
  assert.equal(findProfile('/a.yaml', { STARTVM_PROFILE: '/env.yaml' }, fs.exists), { path: '/a.yaml', source: '--profile' });
  assert.equal(fs.asked, ['/a.yaml']);
});

test('findProfile: a missing --profile file is an error even when others exist (no silent fallback)', () => {
  const fs = only('/env.yaml', MOUNTED_PROFILE);
  assert.throws(() => findProfile('/a.yaml', { STARTVM_PROFILE: '/env.yaml' }, fs.exists), (e: unknown) => e instanceof ProfileNotFoundError && e.message === 'profile /a.yaml (from --profile) does not exist');
});

test('findProfile: STARTVM_PROFILE comes next, before the mounted profile', () => {
  const fs = only('/env.yaml', MOUNTED_PROFILE);
  assert.equal(findProfile(undefined, { STARTVM_PROFILE: '/env.yaml' }, fs.exists), { path: '/env.yaml', source: 'STARTVM_PROFILE' });
  assert.equal(fs.asked, ['/env.yaml']);
});

test('findProfile: a missing STARTVM_PROFILE file is an error naming the variable, even when a profile is mounted', () => {
  assert.throws(() => findProfile(undefined, { STARTVM_PROFILE: '/env.yaml' }, only(MOUNTED_PROFILE).exists), (e: unknown) => e instanceof ProfileNotFoundError && e.message === 'profile /env.yaml (from STARTVM_PROFILE) does not exist');
});

test('findProfile: an empty STARTVM_PROFILE counts as unset', () => {
  assert.equal(findProfile(undefined, { STARTVM_PROFILE: '' }, only(MOUNTED_PROFILE).exists), { path: '/etc/startvm/profile.yaml', source: 'mounted' });
});

test('findProfile: then /etc/startvm/profile.yaml, then the built-in default', () => {
  assert.is(MOUNTED_PROFILE, '/etc/startvm/profile.yaml');
  assert.equal(findProfile(undefined, {}, only(MOUNTED_PROFILE).exists), { path: MOUNTED_PROFILE, source: 'mounted' });
  const fs = only();
  assert.equal(findProfile(undefined, {}, fs.exists), { path: `${root}profiles/default.yaml`, source: 'built-in' });
  assert.equal(fs.asked, [MOUNTED_PROFILE], 'the built-in profile is used without asking');
  assert.is(BUILTIN_PROFILE, `${root}profiles/default.yaml`);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
