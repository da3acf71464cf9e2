// exec-kvm: checks everything that could still fail, then QEMU replaces startvm (same PID: PID 1 in
// a container). dnsmasq keeps serving; nothing of Node remains.
import { defineStage } from '../engine/stage.ts';
import type { ExecKvmOptions } from '../profile/types.ts';
import { buildQemuCommand, checkHost, shellQuote } from '../qemu/command.ts';
import { hostProbes } from '../qemu/probes.ts';

export default defineStage<ExecKvmOptions>({
  name: 'exec-kvm',
  description: 'build the QEMU command and exec it as the container main process',
  after: ['capture', 'bridge', 'readdress', 'dhcp'],
  last: true,
  async preflight(ctx) {
    // NICs come from the bridge stage; whether there will be any is known from the profile.
    const bridge = ctx.profile.stages.find((s) => s.stage === 'bridge' && s.enabled);
    if (bridge?.options.vmPorts) throw new Error('bridge.options.vmPorts gives the VM existing links instead of taps, and QEMU can only attach to taps: drop vmPorts or the exec-kvm stage');
    const withNics = bridge !== undefined;
    checkHost(ctx.profile, hostProbes, withNics);
  },
  async apply(ctx) {
    const command = buildQemuCommand({ profile: ctx.profile, nics: ctx.state.nics ?? [], captured: ctx.state.captured, runDir: ctx.runDir, qmp: ctx.options.qmp, probes: hostProbes });
    for (const note of command.notes) ctx.log.info(note);
    for (const warning of command.warnings) ctx.log.warn(warning);
    ctx.log.info(`exec ${command.file} ${shellQuote(command.args)}`);
    ctx.handOver(command.file, command.args, ctx.env);
  },
  async plan(ctx) {
    const command = buildQemuCommand({ profile: ctx.profile, nics: ctx.state.nics ?? [], captured: ctx.state.captured, runDir: ctx.runDir, qmp: ctx.options.qmp, probes: hostProbes });
    ctx.state.qemu = { file: command.file, args: command.args };
    return [...command.notes, ...command.warnings.map((w) => `warning: ${w}`), `exec ${command.file} ${shellQuote(command.args)}`];
  },
});
