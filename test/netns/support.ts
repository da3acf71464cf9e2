// Running startvm inside a harness container, the way a container runtime would start it.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execInContainer, type Container } from './harness.ts';
import { root } from '../helpers/paths.ts';

export const STAGE_MODULES = `${root}test/fixtures/stages`;

export interface StartvmRun {
  exitCode: number;
  stderr: string;
  stdout: string;
  runDir: string;
}

/** A profile file in a fresh temp dir, and a run dir next to it. */
export function writeProfile(text: string): { profile: string; runDir: string } {
  const dir = mkdtempSync(`${tmpdir()}/startvm-netns-`);
  writeFileSync(`${dir}/profile.yaml`, text);
  return { profile: `${dir}/profile.yaml`, runDir: `${dir}/run` };
}

/** Network stages up to dhcp, with a veth end (the VM port) instead of a tap unless vmPorts is null: no QEMU involved. */
export const networkProfile = (extra: { readdress?: string; dhcp?: string; stagesAfter?: string[]; vmPorts?: string[] | null; vm?: string } = {}): string => `version: 1
${extra.vm ? `vm: ${extra.vm}\n` : ''}stages:
  - capture
  - stage: bridge
    options: { ${extra.vmPorts === null ? '' : `vmPorts: [${(extra.vmPorts ?? ['vmport0']).join(', ')}]`} }
  - stage: readdress
    options: { ${extra.readdress ?? ''} }
  - stage: dhcp
    options: { ${extra.dhcp ?? ''} }
${(extra.stagesAfter ?? []).map((s) => `  - ${s}\n`).join('')}`;

export const failingStage = `{ stage: announce, module: ${STAGE_MODULES}/announce.mjs, options: { greeting: injected, fail: true } }`;
export const hangingStage = `{ stage: hang, module: ${STAGE_MODULES}/hang.mjs }`;

/** Resolves once the file exists (the hang stage's marker), polling briefly; the test's own timeout bounds it. */
export async function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function startStartvm(ctr: Container, profileText: string, env: NodeJS.ProcessEnv = {}, sameRunDir?: string) {
  const written = writeProfile(profileText);
  const profile = written.profile;
  const runDir = sameRunDir ?? written.runDir;
  const child = execInContainer(ctr, process.execPath, [`${root}bin/startvm`, 'run', '--profile', profile, '--run-dir', runDir], {
    reject: false,
    env: { NO_COLOR: '1', ...env },
  });
  return { child, runDir, profile };
}

export async function runStartvm(ctr: Container, profileText: string, env: NodeJS.ProcessEnv = {}, sameRunDir?: string): Promise<StartvmRun> {
  const { child, runDir } = startStartvm(ctr, profileText, env, sameRunDir);
  const result = await child;
  return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr), stdout: String(result.stdout), runDir };
}
