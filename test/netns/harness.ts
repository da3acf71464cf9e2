/**
 * Network-namespace harness for startvm's tests.
 *
 * Builds throwaway "Docker hosts", "containers" and "VMs" out of real kernel
 * network namespaces, veth pairs and bridges, wired the way `docker run` (or
 * Calico) wires them, so tests exercise the kernel instead of mocks.
 *
 * Safety rules, enforced in code and not only documented:
 * - every configuring command goes through `ip -n NS` or `ip netns exec NS`
 *   with an NS this module created (`assertOwned`); nothing here configures
 *   the initial namespace (sysctls are written from inside `ip netns exec`);
 * - dnsmasq and udhcpc only ever run inside our namespaces;
 * - processes are killed by recorded PID, checked against the start time read
 *   when it was recorded (so a reused PID is never hit), never by name;
 * - `cleanupAll()` also runs on 'exit', SIGINT and SIGTERM.
 *
 * Tools: iproute2, dnsmasq-base, busybox (udhcpc, ping, sed), util-linux
 * (unshare); `ensureTools()` installs what is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync,
  readdirSync, rmSync, rmdirSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import type { Options, ResultPromise } from 'execa';

// ---------------------------------------------------------------------------
// Types

export interface HostOptions {
  /** Bridge name; Docker's default. */
  bridge?: string;
  /** Bridge address (the containers' gateway); default 172.17.0.1. */
  address?: string;
  /** Default 16. */
  prefix?: number;
  /** MTU of the bridge and default MTU of the containers' veths; default 1500. */
  mtu?: number;
  /**
   * A veth to a separate "outside" namespace plus default routes both ways.
   * Needed for Calico-style containers: proxy ARP answers for 169.254.1.1
   * only when the host has a route to it through another interface.
   */
  uplink?: boolean | UplinkOptions;
}

export interface UplinkOptions {
  /** Default 198.18.0.1 (benchmarking range, never routed anywhere real). */
  hostAddress?: string;
  /** Default 198.18.0.2. */
  outsideAddress?: string;
  /** Default 30. */
  prefix?: number;
}

export interface Uplink {
  /** The "outside" namespace (the rest of the world, as far as tests go). */
  ns: string;
  /** Interface name in the host namespace; the outside end is `eth0`. */
  hostIfname: string;
  hostAddress: string;
  outsideAddress: string;
  prefix: number;
}

export interface Host {
  ns: string;
  bridge: string;
  address: string;
  prefix: number;
  mtu: number;
  uplink?: Uplink;
}

export interface NicOptions {
  /** Name inside the container; default eth0, eth1, ... in attach order. */
  ifname?: string;
  /**
   * 'bridge' (Docker): host end enslaved to the host bridge.
   * 'routed' (Calico): host end not bridged, proxy_arp=1, MAC ee:ee:ee:ee:ee:ee,
   * a /32 host route to the container; the container's gateway is 169.254.1.1.
   */
  mode?: 'bridge' | 'routed';
  /** IPv4 address; omit for an unconfigured NIC (e.g. a DHCP client). */
  address?: string;
  /** Default: the host's prefix ('bridge') or 32 ('routed'). */
  prefix?: number;
  /** Default: Docker's 02:42:<IPv4 bytes>, or random locally administered. */
  mac?: string;
  /** Default: the host's MTU. */
  mtu?: number;
  /**
   * Default route. Default: via the host bridge address ('bridge') or via
   * 169.254.1.1 on-link ('routed'), for the first NIC only; null for none.
   */
  gateway?: string | null;
}

export interface ContainerOptions extends NicOptions {
  /** Default: the namespace name (Docker defaults to the container id). */
  hostname?: string;
  /** resolv.conf contents; the file is always written so the real one never leaks in. */
  nameservers?: string[];
  search?: string[];
  options?: string[];
  /** Extra /etc/hosts lines, after Docker's usual ones. */
  hosts?: string[];
}

export interface Nic {
  ifname: string;
  /** The veth end in the host namespace. */
  hostIfname: string;
  host: Host;
  mode: 'bridge' | 'routed';
  mac: string;
  mtu: number;
  address?: string;
  prefix?: number;
  gateway?: string;
}

export interface Container {
  ns: string;
  hostname: string;
  nics: Nic[];
}

export interface VmPortOptions {
  /** Name of the end that stays in the container (startvm bridges it); default vmport0. */
  port?: string;
  /** MAC of the VM's eth0; default the container's first NIC's MAC, as the VM would have. */
  mac?: string;
  /** Default: the container's first NIC's MTU. */
  mtu?: number;
  /** Bring the container end up (as a tap usually is); default true. */
  up?: boolean;
}

export interface VmPort {
  /** The "vm" namespace (the guest's side). */
  ns: string;
  /** Always eth0, inside `ns`. */
  ifname: string;
  /** The end inside the container namespace. */
  port: string;
  mac: string;
  mtu: number;
  container: Container;
}

export interface DhcpClientOptions {
  /** udhcpc -t (discover attempts, 1 s apart); default 3. */
  tries?: number;
  /** Also configure address, MTU and routes with `ip` inside the namespace. */
  apply?: boolean;
  /** Kill udhcpc after this long; default (tries + 5) s. */
  timeoutMs?: number;
  /** Appended to udhcpc's arguments (e.g. ['-x', 'hostname:web1']). */
  extraArgs?: string[];
}

/** Keys of udhcpc's environment that the event script records. */
export const LEASE_KEYS = [
  'interface', 'ip', 'subnet', 'mask', 'broadcast', 'router', 'dns', 'domain',
  'search', 'hostname', 'mtu', 'staticroutes', 'serverid', 'lease', 'siaddr',
] as const;

/** What udhcpc passed to its script, verbatim (strings, lists space-separated). */
export type DhcpLease = Partial<Record<(typeof LEASE_KEYS)[number], string>>;

export interface DhcpResult {
  /** The last bound/renew environment; null means no lease. */
  received: DhcpLease | null;
  exitCode: number;
  /** Script events in order: deconfig, bound, leasefail, ... */
  events: string[];
  /** `ip` commands that failed while applying (apply: true). */
  applyErrors: string[];
  stdout: string;
  stderr: string;
}

export interface Dnsmasq {
  ns: string;
  pid: number;
  /** Private directory holding the pid, lease and log files. */
  dir: string;
  leaseFile: string;
  logFile: string;
  /** Current log file contents ('' if logging elsewhere). */
  log(): string;
  /** SIGTERM (then SIGKILL) this instance now instead of at cleanup. */
  stop(): void;
}

export interface LinkState {
  name: string;
  kind?: string;
  slaveKind?: string;
  mac?: string;
  mtu?: number;
  master?: string;
  /** Peer name, when the peer is in the same namespace. */
  link?: string;
  /** Interface flags minus the ones that follow carrier on their own. */
  flags: string[];
}

export interface Snapshot {
  links: LinkState[];
  addresses: Record<string, unknown>[];
  routes: Record<string, unknown>[];
  rules: Record<string, unknown>[];
  /** "PID comm" of processes in the namespace not started by this harness. */
  processes: string[];
}

// ---------------------------------------------------------------------------
// Tools

const REQUIRED_TOOLS = ['ip', 'dnsmasq', 'busybox', 'unshare', 'sh'] as const;
const PACKAGES = ['iproute2', 'dnsmasq-base', 'busybox-static', 'util-linux'];
// sbin directories too: a non-login root PATH may lack them.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const toolPaths = new Map<string, string>();
let aptUpdated = false;

function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

/** Absolute path of a tool, so `ip netns exec` and scripts never depend on PATH. */
function tool(name: string): string {
  let path = toolPaths.get(name);
  if (path === undefined) {
    path = findTool(name);
    if (path === undefined) throw new Error(`${name} not found: call ensureTools() first`);
    toolPaths.set(name, path);
  }
  return path;
}

function missingTools(): string[] {
  const missing: string[] = REQUIRED_TOOLS.filter((name) => findTool(name) === undefined);
  const busybox = findTool('busybox');
  if (busybox !== undefined) {
    const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout ?? '';
    for (const applet of ['udhcpc', 'ping', 'sed', 'hostname']) {
      if (!list.split('\n').includes(applet)) missing.push(`busybox ${applet}`);
    }
  }
  return missing;
}

/**
 * Checks ip, dnsmasq, busybox (udhcpc, ping, sed, hostname applets), unshare;
 * installs the Debian packages when something is missing (apt-get update once).
 */
export async function ensureTools(): Promise<void> {
  let missing = missingTools();
  if (missing.length === 0) return;
  process.stderr.write(`netns harness: missing ${missing.join(', ')}; installing ${PACKAGES.join(' ')}\n`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await execa('apt-get', ['update'], { env });
    aptUpdated = true;
  }
  await execa('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { env });
  toolPaths.clear();
  missing = missingTools();
  if (missing.length > 0) throw new Error(`still missing after apt-get install: ${missing.join(', ')}`);
}

// ---------------------------------------------------------------------------
// Registry: everything we create, so cleanup can undo it and nothing else.

interface Tracked {
  pid: number;
  /** /proc/PID/stat field 22: tells a reused PID apart. */
  start: string;
  what: string;
}

const PID36 = process.pid.toString(36).padStart(5, '0');
/** Prefix of every namespace this process creates. */
export const namePrefix = `sv${PID36}`;
// sv + 5-char base-36 PID + role letter + counter: fixed-width PID keeps
// names from different processes distinct; short enough for IFNAMSIZ too.
const NAME_RE = /^sv([0-9a-z]{5})[a-z][0-9a-z]+$/;
const namespaces: string[] = [];
const tracked = new Map<number, Tracked>();
const tmpDirs: string[] = [];
let counter = 0;
let vethCounter = 0;
let createdEtcNetns = false;
let hooksInstalled = false;

/** A unique short name: `sv<pid36><role letter><counter36>`, e.g. sv002p6c3. */
export function newNamespaceName(role: string): string {
  const letter = (/[a-z]/i.exec(role)?.[0] ?? 'x').toLowerCase();
  for (;;) {
    const name = `${namePrefix}${letter}${(counter++).toString(36)}`;
    if (!existsSync(`/run/netns/${name}`)) return name;
  }
}

function assertOwned(ns: string): void {
  if (!namespaces.includes(ns)) {
    throw new Error(`netns harness: refusing to touch namespace "${ns}": not created by this harness (or already cleaned up)`);
  }
}

function nsOf(target: string | { ns: string }): string {
  const ns = typeof target === 'string' ? target : target.ns;
  assertOwned(ns);
  return ns;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const quietly = (): void => {
    try {
      cleanupAll();
    } catch (error) {
      process.stderr.write(`netns harness: cleanup failed: ${String(error)}\n`);
    }
  };
  process.on('exit', quietly);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      quietly();
      process.exit(code);
    });
  }
}

async function addNamespace(role: string): Promise<string> {
  installHooks();
  const name = newNamespaceName(role);
  await execa(tool('ip'), ['netns', 'add', name]);
  namespaces.push(name);
  await ipNs(name, ['link', 'set', 'dev', 'lo', 'up']);
  return name;
}

function makeTmpDir(what: string): string {
  installHooks();
  const dir = mkdtempSync(join(tmpdir(), `${namePrefix}-${what}-`));
  tmpDirs.push(dir);
  return dir;
}

function procStat(pid: number): { state: string; start: string; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    return { state: fields[0] ?? '?', start: fields[19] ?? '', comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** Same process as recorded, and not yet dead (a zombie counts as dead). */
function isRunning(t: Tracked): boolean {
  const s = procStat(t.pid);
  return s !== undefined && s.start === t.start && s.state !== 'Z' && s.state !== 'X';
}

function track(pid: number, what: string): Tracked | undefined {
  const s = procStat(pid);
  if (s === undefined) return undefined;
  const t = { pid, start: s.start, what };
  tracked.set(pid, t);
  return t;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** SIGTERM, wait up to 2 s, SIGKILL, wait up to 2 s; by PID, identity-checked. */
function terminate(list: Tracked[]): Tracked[] {
  const signalAll = (signal: NodeJS.Signals): void => {
    for (const t of list) {
      if (!isRunning(t)) continue;
      try { process.kill(t.pid, signal); } catch { /* gone */ }
    }
  };
  const waitAll = (ms: number): boolean => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; sleepSync(20)) {
      if (!list.some(isRunning)) return true;
    }
    return !list.some(isRunning);
  };
  signalAll('SIGTERM');
  if (waitAll(2000)) return [];
  signalAll('SIGKILL');
  waitAll(2000);
  return list.filter(isRunning);
}

function nsPids(ns: string): number[] {
  const r = spawnSync(tool('ip'), ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

function removeNamespace(ns: string, errors: string[]): void {
  if (existsSync(`/run/netns/${ns}`)) {
    // Processes keep a namespace (and its veths) alive after `ip netns delete`:
    // e.g. a daemon a tested program left behind. They live in our namespace, so
    // they are ours to kill, by PID.
    const leftovers = nsPids(ns).map((pid) => track(pid, `leftover in ${ns}`)).filter((t) => t !== undefined);
    const survivors = terminate(leftovers);
    for (const t of leftovers) tracked.delete(t.pid);
    if (survivors.length > 0) errors.push(`${ns}: could not kill ${survivors.map((t) => t.pid).join(', ')}`);
    const r = spawnSync(tool('ip'), ['netns', 'delete', ns], { encoding: 'utf8' });
    if (existsSync(`/run/netns/${ns}`)) errors.push(`${ns}: ip netns delete failed: ${r.stderr ?? ''}`.trim());
  }
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/**
 * Kills every process the harness started (SIGTERM, then SIGKILL; by PID),
 * then any process still inside our namespaces, deletes the namespaces
 * (newest first), their /etc/netns dirs and our temp dirs. Idempotent and
 * synchronous, so it also works from the 'exit' hook. Throws if something
 * could not be removed (after trying everything).
 */
export function cleanupAll(): void {
  const errors: string[] = [];
  const survivors = terminate([...tracked.values()].reverse());
  tracked.clear();
  for (const t of survivors) errors.push(`could not kill ${t.what} (pid ${t.pid})`);
  for (const ns of [...namespaces].reverse()) {
    const before = errors.length;
    try {
      removeNamespace(ns, errors);
    } catch (error) {
      errors.push(`${ns}: ${String(error)}`);
    }
    if (errors.length === before) namespaces.splice(namespaces.indexOf(ns), 1);
  }
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  if (createdEtcNetns && namespaces.length === 0) {
    try {
      rmdirSync('/etc/netns');
      createdEtcNetns = false;
    } catch { /* not empty: someone else uses it */ }
  }
  if (errors.length > 0) throw new Error(`netns harness cleanup incomplete:\n  ${errors.join('\n  ')}`);
}

/**
 * Removes namespaces left by harness processes that died without cleaning up
 * (SIGKILL): names matching ours whose creating PID no longer exists.
 * Returns the names removed.
 */
export function cleanupStale(): string[] {
  let entries: string[] = [];
  try { entries = readdirSync('/run/netns'); } catch { return []; }
  const removed: string[] = [];
  for (const ns of entries) {
    const m = NAME_RE.exec(ns);
    if (!m?.[1]) continue;
    const pid = parseInt(m[1], 36);
    if (pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    const errors: string[] = [];
    removeNamespace(ns, errors);
    if (errors.length === 0) removed.push(ns);
  }
  return removed;
}

// ---------------------------------------------------------------------------
// Commands inside our namespaces

/** `ip -n NS ARGS` in one of our namespaces; resolves to stdout. */
export async function ipNs(target: string | { ns: string }, args: readonly string[]): Promise<string> {
  const ns = nsOf(target);
  return (await execa(tool('ip'), ['-n', ns, ...args])).stdout;
}

function ipJsonSync(ns: string, args: readonly string[]): Record<string, unknown>[] {
  const out = execFileSync(tool('ip'), ['-n', ns, '-json', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const parsed: unknown = out.trim() === '' ? [] : JSON.parse(out);
  return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
}

/**
 * Writes /proc/sys/KEY inside the namespace (KEY in slash form, e.g.
 * net/ipv4/conf/veth0/proxy_arp, so interface names with dots work).
 * From inside `ip netns exec`: /proc/sys/net belongs to the writer's netns,
 * and a plain `sysctl` here would change the initial namespace.
 */
export async function setSysctl(target: string | { ns: string }, key: string, value: string): Promise<void> {
  const ns = nsOf(target);
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(key) || key.split('/').includes('..')) throw new Error(`bad sysctl key ${key}`);
  await execa(tool('ip'), ['netns', 'exec', ns, tool('sh'), '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', value, `/proc/sys/${key}`]);
}

function spawnIn<O extends Options>(
  ns: string, hostname: string | undefined, file: string, args: readonly string[], opts?: O,
): ResultPromise<O> {
  assertOwned(ns);
  const argv = ['netns', 'exec', ns];
  if (hostname !== undefined) {
    // A private UTS namespace per process: the container's hostname without
    // touching the machine's. `exec` keeps one PID from `ip` to FILE.
    argv.push(tool('unshare'), '--uts', tool('sh'), '-c', '"$1" hostname "$2" || exit 125; shift 2; exec "$@"',
      'sh', tool('busybox'), hostname);
  }
  argv.push(file, ...args);
  const sub = execa(tool('ip'), argv, opts) as unknown as ResultPromise<O>;
  if (sub.pid !== undefined) {
    const pid = sub.pid;
    const t = track(pid, `${file} in ${ns}`);
    // Forget it once reaped (the PID may be reused afterwards; the start-time
    // check covers the gap). The handler also keeps a rejection caused by
    // cleanupAll's kill from crashing the run; callers awaiting still see it.
    const forget = (): void => { if (tracked.get(pid) === t) tracked.delete(pid); };
    sub.then(forget, forget);
  } else {
    sub.catch(() => {});
  }
  return sub;
}

/**
 * Starts FILE ARGS in the container: its network namespace, hostname (own UTS
 * namespace) and /etc/resolv.conf + /etc/hosts (bind-mounted by ip netns exec).
 * An execa subprocess, killed by cleanupAll if still running.
 */
export function execInContainer<O extends Options = {}>(
  ctr: Container, file: string, args: readonly string[] = [], opts?: O,
): ResultPromise<O> {
  return spawnIn(ctr.ns, ctr.hostname, file, args, opts);
}

/** Like execInContainer for any of our namespaces (host, outside, vm): network only. */
export function execInNamespace<O extends Options = {}>(
  target: string | { ns: string }, file: string, args: readonly string[] = [], opts?: O,
): ResultPromise<O> {
  return spawnIn(nsOf(target), undefined, file, args, opts);
}

// ---------------------------------------------------------------------------
// Topology

/** A "Docker host": bridge with the gateway address, forwarding on, optional uplink. */
export async function createHost(opts: HostOptions = {}): Promise<Host> {
  const host: Host = {
    ns: await addNamespace('host'),
    bridge: opts.bridge ?? 'docker0',
    address: opts.address ?? '172.17.0.1',
    prefix: opts.prefix ?? 16,
    mtu: opts.mtu ?? 1500,
  };
  const { ns, bridge } = host;
  await setSysctl(ns, 'net/ipv4/ip_forward', '1');
  await ipNs(ns, ['link', 'add', 'name', bridge, 'mtu', String(host.mtu), 'type', 'bridge']);
  await ipNs(ns, ['addr', 'add', `${host.address}/${host.prefix}`, 'dev', bridge]);
  await ipNs(ns, ['link', 'set', 'dev', bridge, 'up']);
  if (opts.uplink) {
    const u = opts.uplink === true ? {} : opts.uplink;
    const uplink: Uplink = {
      ns: await addNamespace('outside'),
      hostIfname: 'uplink0',
      hostAddress: u.hostAddress ?? '198.18.0.1',
      outsideAddress: u.outsideAddress ?? '198.18.0.2',
      prefix: u.prefix ?? 30,
    };
    await ipNs(ns, ['link', 'add', 'name', uplink.hostIfname, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', uplink.ns]);
    await ipNs(ns, ['addr', 'add', `${uplink.hostAddress}/${uplink.prefix}`, 'dev', uplink.hostIfname]);
    await ipNs(uplink.ns, ['addr', 'add', `${uplink.outsideAddress}/${uplink.prefix}`, 'dev', 'eth0']);
    await ipNs(ns, ['link', 'set', 'dev', uplink.hostIfname, 'up']);
    await ipNs(uplink.ns, ['link', 'set', 'dev', 'eth0', 'up']);
    await ipNs(ns, ['route', 'add', 'default', 'via', uplink.outsideAddress, 'dev', uplink.hostIfname]);
    // Replies to containers' addresses (Calico /32s included) come back via the host.
    await ipNs(uplink.ns, ['route', 'add', 'default', 'via', uplink.hostAddress, 'dev', 'eth0']);
    host.uplink = uplink;
  }
  return host;
}

/** Docker's MAC scheme (02:42 + the IPv4 bytes), else random locally administered. */
function defaultMac(address: string | undefined): string {
  const bytes = address !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(address)
    ? [0x02, 0x42, ...address.split('.').map(Number)]
    : [0x02, ...randomBytes(5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A container namespace wired like `docker run` (or Calico), with its /etc files. */
export async function createContainer(host: Host, opts: ContainerOptions = {}): Promise<Container> {
  const ns = await addNamespace('container');
  const ctr: Container = { ns, hostname: opts.hostname ?? ns, nics: [] };
  await connectContainer(ctr, host, opts);
  writeEtcFiles(ctr, opts);
  return ctr;
}

/**
 * Attaches the container to (another) host/network, like `docker network
 * connect`: a veth pair whose container end is eth<N> (or opts.ifname).
 */
export async function connectContainer(ctr: Container, host: Host, opts: NicOptions = {}): Promise<Nic> {
  assertOwned(ctr.ns);
  assertOwned(host.ns);
  const mode = opts.mode ?? 'bridge';
  const ifname = opts.ifname ?? `eth${ctr.nics.length}`;
  const mtu = opts.mtu ?? host.mtu;
  const mac = opts.mac ?? defaultMac(opts.address);
  // Unique within this process, hence within any host namespace of ours.
  const hostIfname = `veth${(vethCounter++).toString(36)}`;
  const nic: Nic = { ifname, hostIfname, host, mode, mac, mtu };

  await ipNs(host.ns, ['link', 'add', 'name', hostIfname, 'mtu', String(mtu), 'type', 'veth',
    'peer', 'name', ifname, 'address', mac, 'mtu', String(mtu), 'netns', ctr.ns]);
  if (mode === 'bridge') {
    await ipNs(host.ns, ['link', 'set', 'dev', hostIfname, 'master', host.bridge]);
  } else {
    // Calico: every workload veth has this MAC; the host answers ARP for the
    // gateway by proxy, at once (proxy_delay defaults to up to 0.8 s).
    await ipNs(host.ns, ['link', 'set', 'dev', hostIfname, 'address', 'ee:ee:ee:ee:ee:ee']);
    await setSysctl(host.ns, `net/ipv4/conf/${hostIfname}/proxy_arp`, '1');
    await setSysctl(host.ns, `net/ipv4/neigh/${hostIfname}/proxy_delay`, '0');
  }
  await ipNs(host.ns, ['link', 'set', 'dev', hostIfname, 'up']);

  if (opts.address !== undefined) {
    nic.address = opts.address;
    nic.prefix = opts.prefix ?? (mode === 'bridge' ? host.prefix : 32);
    await ipNs(ctr.ns, ['addr', 'add', `${nic.address}/${nic.prefix}`, 'dev', ifname]);
  }
  await ipNs(ctr.ns, ['link', 'set', 'dev', ifname, 'up']);
  if (mode === 'routed' && nic.address !== undefined) {
    await ipNs(host.ns, ['route', 'add', `${nic.address}/32`, 'dev', hostIfname]);
  }

  const first = ctr.nics.length === 0;
  const gateway = opts.gateway === null ? undefined
    : opts.gateway ?? (first && nic.address !== undefined ? (mode === 'bridge' ? host.address : '169.254.1.1') : undefined);
  if (gateway !== undefined) {
    if (mode === 'routed') {
      // The gateway is in no subnet of ours: reach it on-link via a /32.
      await ipNs(ctr.ns, ['route', 'add', `${gateway}/32`, 'dev', ifname, 'scope', 'link']);
    }
    await ipNs(ctr.ns, ['route', 'add', 'default', 'via', gateway, 'dev', ifname]);
    nic.gateway = gateway;
  }
  ctr.nics.push(nic);
  return nic;
}

/** /etc/netns/<ns>/{resolv.conf,hosts}: `ip netns exec` bind-mounts them over /etc. */
function writeEtcFiles(ctr: Container, opts: ContainerOptions): void {
  if (!existsSync('/etc/netns')) {
    mkdirSync('/etc/netns');
    createdEtcNetns = true;
  }
  const dir = `/etc/netns/${ctr.ns}`;
  mkdirSync(dir, { recursive: true });
  const resolv = ['# written by test/netns/harness.ts'];
  for (const ns of opts.nameservers ?? []) resolv.push(`nameserver ${ns}`);
  if (opts.search?.length) resolv.push(`search ${opts.search.join(' ')}`);
  if (opts.options?.length) resolv.push(`options ${opts.options.join(' ')}`);
  writeFileSync(join(dir, 'resolv.conf'), `${resolv.join('\n')}\n`);
  const hosts = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  const address = ctr.nics.find((n) => n.address !== undefined)?.address;
  if (address !== undefined) hosts.push(`${address}\t${ctr.hostname}`);
  hosts.push(...(opts.hosts ?? []));
  writeFileSync(join(dir, 'hosts'), `${hosts.join('\n')}\n`);
}

/**
 * The VM's side without QEMU: a "vm" namespace whose eth0 (with the VM's MAC)
 * is a veth to PORT in the container, where startvm bridges it instead of a tap.
 */
export async function createVmPort(ctr: Container, opts: VmPortOptions = {}): Promise<VmPort> {
  assertOwned(ctr.ns);
  const nic = ctr.nics[0];
  const mac = opts.mac ?? nic?.mac;
  if (mac === undefined) throw new Error('createVmPort: no MAC given and the container has no NIC');
  const mtu = opts.mtu ?? nic?.mtu ?? 1500;
  const port = opts.port ?? 'vmport0';
  const ns = await addNamespace('vm');
  await ipNs(ns, ['link', 'add', 'name', 'eth0', 'address', mac, 'mtu', String(mtu), 'type', 'veth',
    'peer', 'name', port, 'mtu', String(mtu), 'netns', ctr.ns]);
  await ipNs(ns, ['link', 'set', 'dev', 'eth0', 'up']);
  if (opts.up ?? true) await ipNs(ctr.ns, ['link', 'set', 'dev', port, 'up']);
  return { ns, ifname: 'eth0', port, mac, mtu, container: ctr };
}

// ---------------------------------------------------------------------------
// Servers and clients

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function udhcpcScript(dir: string, apply: boolean): string {
  return `#!/bin/sh
# udhcpc event script written by test/netns/harness.ts. udhcpc runs inside the
# client's network namespace, so this does too. It records what the server
# sent; with APPLY=1 it also configures the interface with ip. It never sets
# the hostname or writes /etc/resolv.conf: those belong to the machine.
OUT=${shQuote(dir)}
IP=${shQuote(tool('ip'))}
BB=${shQuote(tool('busybox'))}
APPLY=${apply ? 1 : 0}
event="$1"
echo "$event" >> "$OUT/events"
esc() { printf '%s' "$1" | "$BB" sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' -e 's/\t/\\\\t/g'; }
record() {
  sep=''
  printf '{'
  for key in ${LEASE_KEYS.join(' ')}; do
    eval "isset=\\\${$key+1}"
    [ -n "$isset" ] || continue
    eval "val=\\\$$key"
    printf '%s"%s":"%s"' "$sep" "$key" "$(esc "$val")"
    sep=','
  done
  printf '}\\n'
}
run() { msg=$("$@" 2>&1) || printf '%s: %s\\n' "$*" "$msg" >> "$OUT/apply-errors"; }
case "$event" in
  deconfig)
    run "$IP" link set dev "$interface" up
    [ "$APPLY" = 1 ] && run "$IP" -4 addr flush dev "$interface"
    ;;
  bound|renew)
    record > "$OUT/lease.json.tmp" && "$BB" mv "$OUT/lease.json.tmp" "$OUT/lease.json"
    if [ "$APPLY" = 1 ]; then
      run "$IP" -4 addr flush dev "$interface"
      [ -n "$mtu" ] && run "$IP" link set dev "$interface" mtu "$mtu"
      run "$IP" addr add "$ip/\${mask:-32}" \${broadcast:+broadcast "$broadcast"} dev "$interface"
      if [ -n "$staticroutes" ]; then
        # RFC 3442: classless static routes replace the router option.
        set -- $staticroutes
        while [ $# -ge 2 ]; do
          if [ "$2" = 0.0.0.0 ]; then run "$IP" route replace "$1" dev "$interface"
          else run "$IP" route replace "$1" via "$2" dev "$interface"; fi
          shift 2
        done
      elif [ -n "$router" ]; then
        set -- $router
        run "$IP" route replace default via "$1" dev "$interface"
      fi
    fi
    ;;
esac
exit 0
`;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

/**
 * Runs `busybox udhcpc` on IFACE inside the namespace (never elsewhere) with a
 * recording script (always passed with -s: Debian's default path differs).
 * Resolves when udhcpc exits: with -q after a lease, with -n after giving up.
 */
export async function runDhcpClient(
  target: string | { ns: string }, iface: string, opts: DhcpClientOptions = {},
): Promise<DhcpResult> {
  const ns = nsOf(target);
  const dir = makeTmpDir('udhcpc');
  const script = join(dir, 'udhcpc.sh');
  writeFileSync(script, udhcpcScript(dir, opts.apply ?? false), { mode: 0o755 });
  await ipNs(ns, ['link', 'set', 'dev', iface, 'up']);
  const tries = opts.tries ?? 3;
  const requested = ['mtu', 'search', 'staticroutes', 'hostname', 'domain', 'dns', 'subnet', 'router'];
  const r = await spawnIn(ns, undefined, tool('busybox'), [
    'udhcpc', '-i', iface, '-s', script, '-f', '-q', '-n', '-t', String(tries), '-T', '1',
    ...requested.flatMap((o) => ['-O', o]), ...(opts.extraArgs ?? []),
  ], { reject: false, timeout: opts.timeoutMs ?? (tries + 5) * 1000 });
  const leasePath = join(dir, 'lease.json');
  return {
    received: existsSync(leasePath) ? (JSON.parse(readFileSync(leasePath, 'utf8')) as DhcpLease) : null,
    exitCode: r.exitCode ?? -1,
    events: readLines(join(dir, 'events')),
    applyErrors: readLines(join(dir, 'apply-errors')),
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

const DNSMASQ_EXIT: Record<number, string> = { 1: 'configuration', 2: 'network', 3: 'filesystem', 4: 'memory', 5: 'other' };

/**
 * Starts a test-side dnsmasq in the namespace: no /etc/dnsmasq.conf, a private
 * lease file (a reused one refuses addresses to new MACs), a log file.
 * Runs as a daemon: its parent exits only once sockets are bound (or with
 * 1 config, 2 network, 3 filesystem, ... errors), so when this resolves the
 * server is listening. The daemon's PID comes from its pid file.
 * Add '--no-ping' when a test takes addresses from a dhcp-range: dnsmasq
 * otherwise pings each candidate first and ignores DISCOVERs meanwhile
 * (about 2 s per lease). The daemon is reparented to PID 1, so after stop()
 * it may linger as a zombie until PID 1 reaps it.
 */
export async function startDnsmasq(target: string | { ns: string }, args: readonly string[]): Promise<Dnsmasq> {
  const ns = nsOf(target);
  const bad = args.find((a) => /^(-k|-d|--keep-in-foreground|--no-daemon|-x|--pid-file(=.*)?)$/.test(a));
  if (bad !== undefined) throw new Error(`startDnsmasq manages ${bad} itself`);
  const dir = makeTmpDir('dnsmasq');
  const pidFile = join(dir, 'dnsmasq.pid');
  const leaseFile = join(dir, 'dnsmasq.leases');
  const logFile = join(dir, 'dnsmasq.log');
  const full = ['--conf-file=/dev/null', `--pid-file=${pidFile}`];
  if (!args.some((a) => /^(--dhcp-leasefile|--leasefile-ro|-l$)/.test(a))) full.push(`--dhcp-leasefile=${leaseFile}`);
  if (!args.some((a) => /^(--log-facility|-8$)/.test(a))) full.push(`--log-facility=${logFile}`);
  full.push(...args);
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  const r = await spawnIn(ns, undefined, tool('dnsmasq'), full, { reject: false, timeout: 10_000 });
  if (r.exitCode !== 0) {
    const code = r.exitCode ?? -1;
    throw new Error(`dnsmasq in ${ns} failed to start (exit ${code}, ${DNSMASQ_EXIT[code] ?? 'unknown'} error): ${String(r.stderr)}\n${log()}`);
  }
  let pid = NaN;
  for (const deadline = Date.now() + 1000; Date.now() < deadline; await new Promise((res) => setTimeout(res, 20))) {
    pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    if (pid > 0) break;
  }
  const t = pid > 0 ? track(pid, `dnsmasq in ${ns}`) : undefined;
  if (t === undefined) throw new Error(`dnsmasq in ${ns} started but its pid file ${pidFile} names no process\n${log()}`);
  return {
    ns, pid, dir, leaseFile, logFile, log,
    stop: () => {
      terminate([t]);
      tracked.delete(pid);
    },
  };
}

// ---------------------------------------------------------------------------
// Snapshot

// Flags that follow carrier or the master by themselves.
const VOLATILE_LINK_FLAGS = new Set(['LOWER_UP', 'NO-CARRIER', 'DORMANT', 'M-DOWN']);
// Address attributes that change by themselves (DAD, lifetimes counting down).
const VOLATILE_ADDR_KEYS = new Set(['valid_life_time', 'preferred_life_time', 'tentative', 'optimistic']);
// Route attributes that change by themselves.
const VOLATILE_ROUTE_KEYS = new Set(['expires', 'cache']);
// Entries the kernel derives from addresses in table local.
const LOCAL_ROUTE_TYPES = new Set(['local', 'broadcast', 'multicast', 'anycast']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function omitUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function byJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A normalized, comparable picture of the namespace's network state, for
 * fault-injection tests: `assert.equal(snapshot(ns), before)`.
 * Links (no counters, ifindex, operstate or carrier flags), addresses (no
 * lifetimes, no kernel-made fe80:: link-locals, which come back with the link),
 * routes of all tables minus what the kernel derives in table local, policy
 * rules, and processes in the namespace not started by this harness.
 * Neighbour entries are left out: they come and go on their own.
 */
export function snapshot(target: string | { ns: string }): Snapshot {
  const ns = nsOf(target);
  const links: LinkState[] = ipJsonSync(ns, ['-details', 'link', 'show']).map((l) => {
    const info = (l['linkinfo'] ?? {}) as Record<string, unknown>;
    return omitUndefined({
      name: str(l['ifname']) ?? '?',
      kind: str(info['info_kind']),
      slaveKind: str(info['info_slave_kind']),
      mac: str(l['address']),
      mtu: typeof l['mtu'] === 'number' ? l['mtu'] : undefined,
      master: str(l['master']),
      link: str(l['link']),
      flags: ((l['flags'] ?? []) as string[]).filter((f) => !VOLATILE_LINK_FLAGS.has(f)).sort(),
    });
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const addresses: Record<string, unknown>[] = [];
  for (const l of ipJsonSync(ns, ['addr', 'show'])) {
    for (const a of (l['addr_info'] ?? []) as Record<string, unknown>[]) {
      const local = str(a['local']) ?? '';
      if (a['family'] === 'inet6' && a['scope'] === 'link' && /^fe[89ab]/i.test(local)) continue;
      const entry: Record<string, unknown> = { dev: l['ifname'] };
      for (const [k, v] of Object.entries(a)) if (!VOLATILE_ADDR_KEYS.has(k)) entry[k] = v;
      addresses.push(entry);
    }
  }
  addresses.sort(byJson);

  const routes: Record<string, unknown>[] = [];
  const rules: Record<string, unknown>[] = [];
  for (const family of ['inet', 'inet6'] as const) {
    const flag = family === 'inet' ? '-4' : '-6';
    for (const r of ipJsonSync(ns, [flag, 'route', 'show', 'table', 'all'])) {
      if (r['table'] === 'local' && LOCAL_ROUTE_TYPES.has(str(r['type']) ?? '')) continue;
      if (family === 'inet6' && r['dst'] === 'fe80::/64' && r['protocol'] === 'kernel') continue;
      const entry: Record<string, unknown> = { family };
      for (const [k, v] of Object.entries(r)) {
        if (VOLATILE_ROUTE_KEYS.has(k)) continue;
        entry[k] = k === 'flags' && Array.isArray(v) ? v.filter((f) => f !== 'linkdown').sort() : v;
      }
      routes.push(entry);
    }
    for (const r of ipJsonSync(ns, [flag, 'rule', 'show'])) rules.push({ family, ...r });
  }
  routes.sort(byJson);
  rules.sort(byJson);

  const processes = nsPids(ns)
    .filter((pid) => {
      const t = tracked.get(pid);
      return t === undefined || !isRunning(t);
    })
    .map((pid) => ({ pid, comm: procStat(pid)?.comm }))
    .filter((p) => p.comm !== undefined)
    .sort((a, b) => a.pid - b.pid)
    .map((p) => `${p.pid} ${p.comm}`);

  return { links, addresses, routes, rules, processes };
}
