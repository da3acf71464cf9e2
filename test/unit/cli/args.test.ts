// The command-line parser reads argv as node:util's parseArgs does in strict mode (it replaced it on
// the start path): the same values and positionals for every form, the same errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs } from 'node:util';
import { OPTIONS, parseCommandLine, tokenize } from '../../../src/cli/args.ts';

const reference = (argv: string[]) => {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  return { values: { ...values }, positionals };
};
const outcome = (parse: () => unknown): unknown => {
  try {
    return parse();
  } catch (error) {
    return { error: (error as Error).message };
  }
};

const CASES: string[][] = [
  [],
  ['run', '--profile', 'p.yaml', '--run-dir', '/run/x', '--log-format', 'json'],
  ['--profile=p.yaml', '--run-dir=/r', 'plan', '--json'],
  ['-p', 'p.yaml', '-h', '-v'],
  ['-pp.yaml'],
  ['-hv'],
  ['-hp', 'p.yaml'],
  ['-hpp.yaml'],
  ['lint', 'a.yaml', 'b.yaml', '-f', 'json', '--cache'],
  ['lint', '--', '--odd-name.yaml', '-p'],
  ['lint', '-', 'x'],
  ['--profile', 'a', '--profile', 'b'],
  ['--profile='],
  ['-p', '-'],
  ['--profile', '-'],
  ['-p=x'],
  ['--profile=a=b'],
  ['-hpv'],
  [''],
  ['--timeout', '-1'],
  ['--timeout', '30', 'powerdown'],
  // mistakes
  ['--bogus'],
  ['--bogus=1'],
  ['--log-format'],
  ['-x'],
  ['-hx'],
  ['--json=yes'],
  ['--help=x'],
  ['--=x'],
  ['--='],
  ['--profile'],
  ['-p'],
  ['--profile', '--json'],
  ['-p', '-h'],
];

test('every form reads as parseArgs reads it, mistakes included', () => {
  for (const argv of CASES) assert.equal(outcome(() => tokenize(argv)), outcome(() => reference(argv)), argv.join(' '));
});

test('one difference, on purpose: a dash inside a group of short options is a mistake, not the end of the options', () => {
  assert.throws(() => tokenize(['-h-p', 'x']), /Unknown option '--'/);
});

test('the parsed command line: command, files, options with their defaults', () => {
  assert.equal(parseCommandLine(['lint', 'a.yaml', '--format', 'json']), { command: 'lint', files: ['a.yaml'], profile: undefined, logFormat: undefined, runDir: undefined, timeout: undefined, format: 'json', json: false, cache: false, help: false, version: false });
  assert.is(parseCommandLine([]).command, 'run');
  assert.throws(() => parseCommandLine(['--bogus']), /Unknown option '--bogus'[\s\S]*Run startvm --help for usage\./);
  assert.throws(() => parseCommandLine(['launch']), /unknown command "launch"/);
});

test.run();
