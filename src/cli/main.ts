#!/usr/bin/env node
// startvm's entry point: parse the command line, dispatch, map errors to exit codes.
import { HELP, parseCommandLine } from './args.ts';
import { UserError } from '../engine/errors.ts';
import { version } from './version.ts';
import { readableStack } from './stack.ts';
import { restartWithRandomHashSeed } from './hash-seed.ts';
import { flushLogs, isoTime } from '../engine/logger.ts';

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandLine(argv);
  if (args.help) return process.stdout.write(HELP), 0;
  if (args.version) return process.stdout.write(`${version}\n`), 0;
  switch (args.command) {
    case 'schema':
      process.stdout.write(`${JSON.stringify((await import('../../schemas/profile.schema.json', { with: { type: 'json' } })).default, null, 2)}\n`);
      return 0;
    case 'env':
      for (const v of (await import('../profile/env.ts')).envVariables) process.stdout.write(`${v.name.padEnd(20)} ${v.description}\n`);
      return 0;
    case 'lint':
      restartWithRandomHashSeed(); // profiles from anyone: see hash-seed.ts
      return (await import('./lint.ts')).lintCommand(args, env);
    case 'plan':
      return (await import('./plan.ts')).planCommand(args, env);
    case 'run':
      return (await import('./run.ts')).runCommand(args, env);
    case 'powerdown':
      return (await import('./powerdown.ts')).powerdownCommand(args, env);
    case 'doctor':
      return (await import('./doctor.ts')).doctorCommand(args, env);
  }
}

/** Fatal errors follow --log-format too, so a log collector gets one JSON object per line. */
function fatal(message: string, argv: readonly string[], env: NodeJS.ProcessEnv): void {
  flushLogs(); // what was logged before comes first
  const flag = argv.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  const format = flag < 0 ? env.STARTVM_LOG_FORMAT : argv[flag]!.includes('=') ? argv[flag]!.split('=')[1] : argv[flag + 1];
  if (format === 'json') process.stderr.write(`${JSON.stringify({ time: isoTime(Date.now()), level: 'error', msg: message })}\n`);
  else process.stderr.write(`startvm: ${message}\n`);
}

const argv = process.argv.slice(2);
main(argv, process.env).then(
  (code) => void (process.exitCode = code),
  (error: unknown) => {
    if (error instanceof UserError) {
      fatal(error.message, argv, process.env);
      process.exitCode = error.exitCode;
    } else {
      fatal(`internal error: ${error instanceof Error ? (error.stack ? readableStack(error.stack) : error.message) : String(error)}`, argv, process.env);
      process.exitCode = 2;
    }
  },
);
