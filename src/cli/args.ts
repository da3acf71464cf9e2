// Command-line parsing: one table of options, so --help and the parser cannot disagree.
import { parseArgs } from 'node:util';
import { UserError } from '../engine/errors.ts';

export const COMMANDS = ['run', 'plan', 'lint', 'schema', 'env', 'doctor', 'powerdown'] as const;
export type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  profile: { type: 'string', short: 'p' },
  'log-format': { type: 'string' },
  'run-dir': { type: 'string' },
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  cache: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

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
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
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
  const v = parsed.values;
  return {
    command,
    files,
    profile: v.profile,
    logFormat: v['log-format'],
    runDir: v['run-dir'],
    timeout: v.timeout,
    format: v.format,
    json: v.json ?? false,
    cache: v.cache ?? false,
    help: v.help ?? false,
    version: v.version ?? false,
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
