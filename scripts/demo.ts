// The demo: on a fresh Debian machine, as root, shows startvm handing a container's network
// identity to a real guest, in throwaway namespaces that look like a Docker host and a container.
// It installs missing Debian packages (saying so), builds the tiny test guest, runs startvm with the
// shipped profiles/test-guest.yaml, shows each stage, shows the guest answering at the container's
// address from another container, and removes everything it made (also on Ctrl-C).
//
//   npm run demo            run once and clean up
//   npm run demo -- --keep  keep it running until Ctrl-C
//
// It reuses the test harness (test/netns/harness.ts): the same code that keeps the tests from
// touching anything outside their own namespaces.
import { cleanupAll, createContainer, createHost, ensureTools, execInNamespace } from '../test/netns/harness.ts';
import { bootGuest, buildGuest, ensureE2eTools, GUEST_PROFILE } from '../test/e2e/guest.ts';

const keep = process.argv.includes('--keep');
const say = (text: string): void => void process.stdout.write(`\n==> ${text}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write('the demo creates network namespaces: run it as root (sudo npm run demo)\n');
  process.exit(2);
}

try {
  say('checking tools (iproute2, dnsmasq, busybox, qemu, nftables, curl); missing Debian packages are installed');
  await ensureTools();
  await ensureE2eTools();
  say('building the tiny guest (Debian kernel + busybox initramfs, cached in .cache/guest)');
  await buildGuest();

  say('creating a "Docker host" namespace with bridge docker0 (172.17.0.1/16)');
  const host = await createHost();
  say('creating a "container" namespace on a veth: eth0 172.17.0.2/16, gateway 172.17.0.1, hostname demo-vm');
  const container = await createContainer(host, { address: '172.17.0.2', hostname: 'demo-vm', nameservers: ['192.0.2.53'], search: ['demo.example'] });

  say(`running startvm inside the container with ${GUEST_PROFILE} (stage progress on stderr, then the guest's serial console)`);
  const guest = await bootGuest(container, {}, 90_000, (text) => process.stdout.write(text.replace(/^(?=.)/gm, '   ')));
  say(`QEMU now runs as the container's main process (PID ${guest.pid}, the PID startvm had); the guest reports:`);
  for (const report of guest.nics.values()) process.stdout.write(`   ${Object.entries(report).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);

  say('another container on the same bridge (172.17.0.3) fetches http://172.17.0.2/');
  const neighbour = await createContainer(host, { address: '172.17.0.3' });
  const page = await execInNamespace(neighbour, 'curl', ['-sS', '--max-time', '15', 'http://172.17.0.2/'], { reject: false });
  process.stdout.write(`   ${String(page.stdout).trim() || `no answer: ${String(page.stderr)}`}\n`);
  if (!String(page.stdout).includes('ip=172.17.0.2')) throw new Error('the guest did not answer at the container address');
  say('the guest answers at the container\'s address: it has taken over the container\'s network identity');

  if (keep) {
    say('running; press Ctrl-C to stop and remove everything');
    await new Promise(() => {}); // the harness's SIGINT handler cleans up and exits
  }
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  if (!keep || process.exitCode) {
    cleanupAll();
    say('removed the namespaces and stopped QEMU and dnsmasq');
  }
}
