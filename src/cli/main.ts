#!/usr/bin/env node
// startvm's entry point: parse the command line, dispatch, map errors to exit codes.
import { HELP, parseCommandLine } from './args.ts';
import { UserError } from '../engine/errors.ts';
import { version } from './version.ts';

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

try {
  process.exitCode = await main(process.argv.slice(2), process.env);
} catch (error) {
  if (error instanceof UserError) {
    process.stderr.write(`startvm: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`startvm: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  }
}
