// The programs startvm's stages run, with the Debian package that provides each. One list, read by
// `startvm doctor` and by the Dockerfile test (every required program must be installed by the image).

export interface ProgramRequirement {
  /** Name looked up in PATH (a profile may name another QEMU or dnsmasq; doctor checks the profile's). */
  program: string;
  debianPackage: string;
  /** What needs it, for doctor's message. */
  usedBy: string;
  /** Required for the default profile; optional ones are only needed by some options. */
  required: boolean;
}

export const PROGRAMS: readonly ProgramRequirement[] = [
  { program: 'ip', debianPackage: 'iproute2', usedBy: 'capture, bridge, readdress', required: true },
  { program: 'dnsmasq', debianPackage: 'dnsmasq-base', usedBy: 'dhcp (not needed with NO_DHCP=true)', required: true },
  { program: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86', usedBy: 'exec-kvm', required: true },
  { program: 'arping', debianPackage: 'iputils-arping', usedBy: 'readdress mode "subnet"', required: false },
];
