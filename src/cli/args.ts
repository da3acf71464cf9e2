// Command-line parsing: one table of options, so --help and the parser cannot disagree.
import { UserError } from '../engine/errors.ts';

export const COMMANDS = ['run', 'plan', 'lint', 'schema', 'env', 'doctor', 'powerdown'] as const;
export type Command = (typeof COMMANDS)[number];

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export const OPTIONS = {
  profile: { type: 'string', short: 'p' },
  'log-format': { type: 'string' },
  'run-dir': { type: 'string' },
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  cache: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;
type Values = Partial<Record<OptionName, string | boolean>>;

/**
 * The command line as node:util's parseArgs reads it in strict mode (--name value, --name=value,
 * -p value, -pvalue, -hv, -- ends the options; the last of a repeated option wins), without its
 * cost: parseArgs loads two modules and takes ~0.7 ms on its first call, on every VM start. One
 * difference: a '-' inside a group of short options (-h-p) is an unknown option here, where
 * parseArgs would end the options there.
 */
export function tokenize(argv: readonly string[]): { values: Values; positionals: string[] } {
  const values: Values = {};
  const positionals: string[] = [];
  const shorts = new Map<string, OptionName>(Object.entries(OPTIONS).flatMap(([name, spec]) => ('short' in spec ? [[spec.short, name as OptionName] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    // --name[=value], or a group of short options whose last may take the rest as its value.
    const long = arg.startsWith('--');
    const equals = long ? arg.indexOf('=', 3) : -1; // '--=x' is an unknown option named '=x', as parseArgs has it
    const names = long ? [arg.slice(2, equals < 0 ? undefined : equals)] : [...arg.slice(1)];
    for (let k = 0; k < names.length; k++) {
      const name = (long ? names[k] : shorts.get(names[k]!)) as OptionName | undefined;
      const shown = long ? `--${names[k]}` : `-${names[k]}`;
      if (name === undefined || !Object.hasOwn(OPTIONS, name)) {
        throw new Error(`Unknown option '${shown}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${shown}"`);
      }
      const spec: OptionSpec = OPTIONS[name];
      const both = `${spec.short ? `-${spec.short}, ` : ''}--${name}`;
      if (spec.type === 'boolean') {
        if (equals >= 0) throw new Error(`Option '${both}' does not take an argument`);
        values[name] = true;
        continue;
      }
      // A string option: the rest of this argument, or the next one.
      let value = long ? (equals >= 0 ? arg.slice(equals + 1) : undefined) : names.slice(k + 1).join('') || undefined;
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new Error(`Option '${both} <value>' argument missing`);
        if (value.length > 1 && value.startsWith('-')) throw new Error(`Option '${shown}' argument is ambiguous.\nDid you forget to specify the option argument for '${shown}'?\nTo specify an option argument starting with a dash use '--${name}=-XYZ'${long ? '' : ` or '${shown}-XYZ'`}.`);
      }
      values[name] = value;
      break;
    }
  }
  return { values, positionals };
}

export interface ParsedArgs {
  command: Command;
  files: string[];
  profile?: string;
  logFormat?: string;
  runDir?: string;
  timeout?: string;
  format?: string;
  json: boolean;
  /** lint: train the code cache with a simulated start of each clean profile (image builds). */
  cache: boolean;
  help: boolean;
  version: boolean;
}

export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = tokenize(argv);
  } catch (error) {
    throw new UserError(`${(error as Error).message}\nRun startvm --help for usage.`, 2);
  }
  const [first, ...rest] = parsed.positionals;
  let command: Command = 'run';
  let files = parsed.positionals;
  if (first !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(first)) throw new UserError(`unknown command "${first}" (commands: ${COMMANDS.join(', ')})`, 2);
    command = first as Command;
    files = rest;
  }
  if (command !== 'lint' && files.length > 0) throw new UserError(`"${command}" takes no file arguments (use --profile FILE)`, 2);
  const text = (name: OptionName): string | undefined => parsed.values[name] as string | undefined;
  const flag = (name: OptionName): boolean => parsed.values[name] === true;
  return {
    command,
    files,
    profile: text('profile'),
    logFormat: text('log-format'),
    runDir: text('run-dir'),
    timeout: text('timeout'),
    format: text('format'),
    json: flag('json'),
    cache: flag('cache'),
    help: flag('help'),
    version: flag('version'),
  };
}

export const HELP = `startvm: hands a container's network identity to a QEMU/KVM guest, then execs QEMU as PID 1.

Usage:
  startvm [run] [--profile FILE]     set up the network stages and exec the VM (default command)
  startvm plan [--profile FILE] [--json]
                                     validate, read the current network without changing it,
                                     print every step and the final QEMU command
  startvm lint FILE... [--format stylish|json|github|sarif] [--cache]
                                     check profiles (exit 1 when a problem is found)
  startvm schema                     print the profile JSON Schema
  startvm env                        list the environment variables startvm reads
  startvm doctor [--profile FILE] [--json]
                                     check the host for this profile: devices, capabilities,
                                     programs, Node.js; each problem with its fix (exit 1 on an error)
  startvm powerdown [--run-dir DIR] [--timeout SECONDS]
                                     ask the running guest to shut down (ACPI, through QMP) and
                                     wait for QEMU to exit: use it before stopping the container

Options:
  -p, --profile FILE     profile to use (else $STARTVM_PROFILE, /etc/startvm/profile.yaml, built-in default)
      --log-format F     text (default) or json, for progress lines on stderr
      --run-dir DIR      private run directory (default /run/startvm)
  -f, --format F         lint output format
      --json             plan, doctor: machine-readable output
      --cache            lint, at image build: train the code cache that makes starts fast
                         (a simulated start of each clean profile; see bin/startvm)
      --timeout S        powerdown: seconds to wait for the guest (default 60)
  -h, --help             this help
  -v, --version          print the version

Exit codes: 0 fine, 1 problems found or a stage failed, 2 usage or internal error,
128+N interrupted by signal N before the hand-over (after a full rollback).
`;
