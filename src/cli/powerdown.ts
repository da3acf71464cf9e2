// `startvm powerdown`: asks the guest to shut down through QMP (ACPI power button) and waits for
// QEMU to exit. For Kubernetes preStop hooks and `docker exec`, before the container is stopped.
import type { ParsedArgs } from './args.ts';
import { runDirOf } from './session.ts';
import { systemPowerdown } from '../qemu/qmp.ts';
import { UserError } from '../engine/errors.ts';

export async function powerdownCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const seconds = Number(args.timeout ?? '60');
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UserError(`--timeout must be a number of seconds, not "${args.timeout}"`, 2);
  const socket = `${runDirOf(args, env)}/qmp.sock`;
  let result;
  try {
    result = await systemPowerdown(socket, seconds * 1000);
  } catch (error) {
    throw new UserError((error as Error).message, 1);
  }
  if (!result.exited) {
    process.stderr.write(`startvm: the guest did not power down within ${seconds} s\n`);
    return 1;
  }
  process.stderr.write('startvm: the guest powered down\n');
  return 0;
}
