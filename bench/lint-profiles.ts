// Generated profiles for the lint throughput section: realistic valid ones (sizes like the shipped
// profiles, varied values, stage options, disks, kernel boot) and invalid ones carrying one of the
// mistakes of test/fixtures/invalid. Deterministic (seeded), so every run lints the same files.
import { mkdirSync, writeFileSync } from 'node:fs';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validProfile(rand: () => number, i: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const cpus = pick([1, 2, 4, 8]);
  const memory = pick([256, 512, 1024, 2048, 4096]);
  const lines = ['# yaml-language-server: $schema=../schemas/profile.schema.json', `# generated profile ${i}`, 'version: 1', 'vm:', `  cpus: ${cpus}`, `  memory: ${memory}`, `  accel: ${pick(['auto', 'kvm', 'tcg'])}`, `  machine: ${pick(['q35', 'pc'])}`];
  if (rand() < 0.5) {
    lines.push('  disks:');
    for (let d = 0; d < 1 + Math.floor(rand() * 3); d++) {
      lines.push(`    - path: /var/lib/startvm/disk${d}.${pick(['qcow2', 'raw'])}`, `      format: ${pick(['qcow2', 'raw'])}`, `      interface: ${pick(['virtio', 'scsi', 'sata', 'nvme'])}`, `      cache: ${pick(['none', 'writeback'])}`);
    }
  } else {
    lines.push('  kernel: /var/lib/startvm/vmlinuz', '  initrd: /var/lib/startvm/initrd.gz', `  append: console=ttyS0 panic=-1${rand() < 0.5 ? ' quiet' : ''}`);
  }
  lines.push(`  display: ${rand() < 0.8 ? 'none' : '{ vnc: "0.0.0.0:0" }'}`);
  if (rand() < 0.5) lines.push('  nic:', `    model: ${pick(['virtio-net-pci', 'e1000'])}`, `    vhost: ${pick(['auto', 'on', 'off'])}`, `    multiqueue: ${rand() < 0.5}`);
  if (rand() < 0.4) lines.push('  args:', '    - -smbios', '    - type=1,serial={{hostname}}-{{nics.0.address}}');
  lines.push('network:', `  interfaces: ${rand() < 0.7 ? 'auto' : '[eth0, eth1]'}`);
  switch (Math.floor(rand() * 3)) {
    case 0:
      lines.push('stages: [capture, bridge, readdress, dhcp, exec-kvm]');
      break;
    case 1:
      lines.push('stages:', '  - capture', '  - bridge', '  - readdress', '  - stage: dhcp', `    enabled: ${rand() < 0.5}`, '  - exec-kvm');
      break;
    default:
      lines.push(
        'stages:',
        '  - stage: capture',
        '    options: { resolvConf: /etc/resolv.conf }',
        '  - stage: bridge',
        '    options: { bridgeName: "vmbr{{index}}", tapName: "vmtap{{index}}" }',
        '  - stage: readdress',
        `    options: { mode: ${pick(['link-local', 'subnet'])} }`,
        '  - stage: dhcp',
        `    options: { dns: ${pick(['auto', 'forward', 'direct'])}, leaseTime: ${pick(['infinite', '12h'])} }`,
        '  - stage: exec-kvm',
        `    options: { qmp: ${rand() < 0.5} }`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** One mistake each, as in test/fixtures/invalid: [name, edit of a valid profile]. */
const MISTAKES: [string, (text: string) => string][] = [
  ['unknown-key', (t) => t.replace(/^ {2}cpus:/m, '  cpuz:')],
  ['unknown-stage', (t) => t.replace(/bridge(?=[,\n])/, 'brigde')],
  ['wrong-type', (t) => t.replace(/^ {2}memory: \d+/m, '  memory: lots')],
  ['syntax-error', (t) => t.replace(/^ {2}cpus: (\d+)/m, '  cpus: [$1, 2')],
  ['wrong-version', (t) => t.replace('version: 1', 'version: 2')],
  ['duplicate-key', (t) => t.replace(/^( {2}cpus: \d+)$/m, '$1\n$1')],
  ['exec-not-last', (t) => `${t.replace(/^stages:[\s\S]*$/m, '')}stages: [capture, exec-kvm, bridge]\n`],
  ['initrd-without-kernel', (t) => `${t.replace(/^ {2}(kernel|initrd|append):.*\n/gm, '').replace(/^ {2}disks:\n(?: {4}.*\n)+/m, '').replace('vm:\n', 'vm:\n  initrd: /boot/initrd.gz\n')}`],
  ['bad-stage-option', (t) => `${t.replace(/^stages:[\s\S]*$/m, '')}stages:\n  - capture\n  - bridge\n  - stage: readdress\n    options:\n      mode: subnett\n  - exec-kvm\n`],
  ['unknown-template-variable', (t) => t.replace('vm:\n', 'vm:\n  args: ["-smbios", "type=1,serial={{nics.0.adress}}"]\n').replace(/^ {2}args:\n(?: {4}- .*\n)+/m, '')],
];

export interface GeneratedProfiles {
  files: string[];
  valid: number;
  invalid: number;
}

/** COUNT profiles in DIR, every other one invalid (the mistakes in turn). */
export function generateProfiles(dir: string, count: number, seed = 20250101): GeneratedProfiles {
  mkdirSync(dir, { recursive: true });
  const rand = prng(seed);
  const files: string[] = [];
  let invalid = 0;
  for (let i = 0; i < count; i++) {
    let text = validProfile(rand, i);
    let name = 'valid';
    if (i % 2 === 1) {
      const [mistake, edit] = MISTAKES[((i - 1) / 2) % MISTAKES.length]!;
      const edited = edit(text);
      if (edited === text) throw new Error(`generator: mistake ${mistake} did not apply to profile ${i}`);
      text = edited;
      name = mistake;
      invalid++;
    }
    const file = `${dir}/p${String(i).padStart(4, '0')}-${name}.yaml`;
    writeFileSync(file, text);
    files.push(file);
  }
  return { files, valid: count - invalid, invalid };
}
