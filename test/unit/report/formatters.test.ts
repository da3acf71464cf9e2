// `startvm lint --format X` on one profile with five mistakes: every format reports the same five
// problems at the same line:column, checked against one table. Plus the formatters on their own:
// GitHub's escaping rules, problems without a position, colour only when asked for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { FileReport } from '../../../src/report/problem.ts';
import { github } from '../../../src/report/formatters/github.ts';
import { stylish } from '../../../src/report/formatters/stylish.ts';
import { json } from '../../../src/report/formatters/json.ts';
import { sarif } from '../../../src/report/formatters/sarif.ts';
import { root, startvm } from '../../helpers/paths.ts';

// Relative to the repository root, where startvm() runs, so every format names the file this way.
const FILE = 'test/fixtures/lint/five-mistakes.yaml';
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

/** The truth every format is checked against: where each mistake is, which rule finds it, and the text there. */
const EXPECTED = [
  { line: 5, column: 9, ruleId: 'schema', token: 'two' }, // wrong type: vm.cpus
  { line: 8, column: 5, ruleId: 'unknown-key', token: 'modle' }, // misspelled key in vm.nic
  { line: 11, column: 5, ruleId: 'unknown-stage', token: 'brigde' }, // unknown stage, a typo of bridge
  { line: 15, column: 12, ruleId: 'schema', token: 'forwrd' }, // dhcp option dns out of its enum
  { line: 16, column: 18, ruleId: 'schema', token: '90%' }, // dhcp option leaseTime does not match its pattern
] as const;
const RULES = [...new Set(EXPECTED.map((e) => e.ruleId))].sort();

const lint = async (format: string) => {
  const result = await startvm(['lint', '--format', format, FILE]);
  assert.is(result.exitCode, 1, `lint --format ${format} exits 1 when it finds problems`);
  assert.is(result.stderr, '', `lint --format ${format} writes nothing on stderr`);
  return result.stdout;
};

test('the expected table points at the five mistakes in the fixture', () => {
  const lines = readFileSync(`${root}${FILE}`, 'utf8').split('\n');
  for (const { line, column, token } of EXPECTED) {
    assert.is(lines[line - 1]?.slice(column - 1, column - 1 + token.length), token, `${line}:${column}`);
  }
});

test('stylish: one "  L:C  error  message  ruleId" line per mistake, then the summary', async () => {
  const out = await lint('stylish');
  const lines = out.split('\n');
  assert.is(lines[0], FILE, 'the file name heads its problems');
  const problems = lines.filter((l) => l.startsWith('  '));
  assert.is(problems.length, EXPECTED.length);
  problems.forEach((text, i) => {
    const match = /^ {2}(\d+):(\d+) +error {2}(.+) {2}(\S+)$/.exec(text);
    assert.ok(match, `not a stylish problem line: ${JSON.stringify(text)}`);
    const [, line, column, message, ruleId] = match;
    const want = EXPECTED[i]!;
    assert.equal([Number(line), Number(column), ruleId], [want.line, want.column, want.ruleId], text);
    assert.ok(message!.includes(`"${want.token}"`), `the message quotes the mistaken text: ${message}`);
  });
  assert.ok(lines.includes('5 problems (5 errors, 0 warnings)'), 'the summary line counts five errors');
  assert.not.match(out, /\x1b\[/, 'no colour when stdout is not a terminal');
});

test('json: one file object with errorCount 5 and the five messages at their positions', async () => {
  const reports = JSON.parse(await lint('json')) as { filePath: string; errorCount: number; warningCount: number; messages: { line: number; column: number; ruleId: string; severity: string; message: string }[] }[];
  assert.is(reports.length, 1);
  const [report] = reports;
  assert.is(report!.filePath, FILE);
  assert.is(report!.errorCount, 5);
  assert.is(report!.warningCount, 0);
  assert.equal(
    report!.messages.map(({ line, column, ruleId, severity }) => ({ line, column, ruleId, severity })),
    EXPECTED.map(({ line, column, ruleId }) => ({ line, column, ruleId, severity: 'error' })),
  );
  report!.messages.forEach((m, i) => assert.ok(m.message.includes(`"${EXPECTED[i]!.token}"`), m.message));
});

test('github: one ::error annotation per mistake with file, line and col; % in the message is escaped', async () => {
  const out = await lint('github'); // execa strips the final newline
  const lines = out.split('\n');
  assert.is(lines.length, EXPECTED.length);
  lines.forEach((text, i) => {
    const match = /^::error ([^:]*)::(.*)$/.exec(text);
    assert.ok(match, `not a workflow command: ${text}`);
    const props = Object.fromEntries(match[1]!.split(',').map((p) => p.split('=') as [string, string]));
    const want = EXPECTED[i]!;
    assert.is(props.file, FILE);
    assert.is(props.line, String(want.line), text);
    assert.is(props.col, String(want.column), text);
    assert.is(props.title, `startvm ${want.ruleId}`);
    assert.ok(match[2]!.includes(`"${want.token.replace(/%/g, '%25')}"`), `message with the mistaken text, escaped: ${match[2]}`);
  });
  assert.not.ok(out.includes('90%"'), 'a raw % would start an escape sequence in the runner');
});

test('sarif: version 2.1.0, the rules listed, five results with their regions and rules', async () => {
  const log = JSON.parse(await lint('sarif')) as {
    version: string;
    runs: {
      tool: { driver: { name: string; version: string; rules: { id: string }[] } };
      results: { ruleId: string; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[] }[];
    }[];
  };
  assert.is(log.version, '2.1.0');
  assert.is(log.runs.length, 1);
  const [run] = log.runs;
  assert.is(run!.tool.driver.name, 'startvm');
  assert.is(run!.tool.driver.version, version);
  assert.equal(run!.tool.driver.rules.map((r) => r.id), RULES);
  assert.equal(
    run!.results.map((r) => {
      const { artifactLocation, region } = r.locations[0]!.physicalLocation;
      return { uri: artifactLocation.uri, line: region.startLine, column: region.startColumn, ruleId: r.ruleId, level: r.level };
    }),
    EXPECTED.map(({ line, column, ruleId }) => ({ uri: FILE, line, column, ruleId, level: 'error' })),
  );
  run!.results.forEach((r, i) => assert.ok(r.message.text.includes(`"${EXPECTED[i]!.token}"`), r.message.text));
});

// The formatters on their own, with problems the fixture cannot produce.
const problem = (over: Partial<FileReport['problems'][number]> = {}): FileReport['problems'][number] => ({ severity: 'error', ruleId: 'schema', message: 'vm.cpus must be an integer', path: 'vm.cpus', line: 3, column: 7, ...over });

test('github escapes %, CR and LF in the message, and also : and , in property values', () => {
  const out = github([{ file: 'C:\\ci,work\\50%.yaml', problems: [problem({ ruleId: 'a:b,c', message: '100% wrong: see a, b\r\nnext line' })] }]);
  assert.is(out, '::error file=C%3A\\ci%2Cwork\\50%25.yaml,line=3,col=7,title=startvm a%3Ab%2Cc::100%25 wrong: see a, b%0D%0Anext line\n');
});

test('github: a warning is ::warning, a problem without a position has no line or col, an end column only on one line', () => {
  const out = github([
    {
      file: 'p.yaml',
      problems: [
        problem({ severity: 'warning', line: 2, column: 3, endLine: 2, endColumn: 9 }),
        problem({ line: 2, column: 3, endLine: 4, endColumn: 1 }),
        problem({ ruleId: 'env', message: 'NO_DHCP="maybe" is not a boolean', line: 0, column: 0 }),
      ],
    },
  ]);
  assert.equal(out.split('\n'), [
    '::warning file=p.yaml,line=2,col=3,endLine=2,endColumn=9,title=startvm schema::vm.cpus must be an integer',
    '::error file=p.yaml,line=2,col=3,endLine=4,title=startvm schema::vm.cpus must be an integer',
    '::error file=p.yaml,title=startvm env::NO_DHCP="maybe" is not a boolean',
    '',
  ]);
});

test('sarif leaves out the region of a problem without a position', () => {
  const log = JSON.parse(sarif([{ file: 'p.yaml', problems: [problem({ ruleId: 'env', line: 0, column: 0 })] }], '1.2.3'));
  assert.is(log.runs[0].tool.driver.version, '1.2.3');
  assert.equal(log.runs[0].results[0].locations[0].physicalLocation, { artifactLocation: { uri: 'p.yaml' } });
});

test('stylish paints only when asked, and says nothing about clean files', () => {
  const reports: FileReport[] = [{ file: 'p.yaml', problems: [problem()] }];
  assert.match(stylish(reports, true), /\x1b\[31merror\x1b\[0m/);
  assert.not.match(stylish(reports, false), /\x1b\[/);
  assert.is(stylish([{ file: 'p.yaml', problems: [] }]), '');
});

test('stylish labels a problem from an environment variable "env" and any other positionless problem "-"', () => {
  const out = stylish([
    { file: 'p.yaml', problems: [problem({ ruleId: 'env', message: 'NO_DHCP="maybe" is not a boolean', line: 0, column: 0 })] },
    { file: 'gone.yaml', problems: [problem({ ruleId: 'io', message: 'file not found', line: 0, column: 0 })] },
  ]);
  assert.ok(out.includes('\n  env     error  NO_DHCP="maybe" is not a boolean  env\n'), out);
  assert.ok(out.includes('\n  -       error  file not found  io\n'), out);
});

test('json keeps errors and warnings apart per file', () => {
  const out = JSON.parse(json([{ file: 'p.yaml', problems: [problem(), problem({ severity: 'warning' })] }, { file: 'q.yaml', problems: [] }]));
  assert.equal(out.map((r: { filePath: string; errorCount: number; warningCount: number }) => [r.filePath, r.errorCount, r.warningCount]), [['p.yaml', 1, 1], ['q.yaml', 0, 0]]);
});

test.run();
