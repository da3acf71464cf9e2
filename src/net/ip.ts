// The iproute2 calls the stages share: one `ip -json -batch` to read, one `ip -batch` to write. A
// start's runner comes with one long-lived ip for all of them (ip-session.ts); other runners (plan,
// tests, the simulated start) spawn one per call.
import type { CommandRunner } from '../engine/command.ts';
import type { IpSession } from './ip-session.ts';

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
  broadcast?: string;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address?: string;
  link_type?: string;
  master?: string;
  operstate?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_data?: { multi_queue?: boolean } };
  addr_info?: IpAddrInfo[];
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags?: string[];
  type?: string;
}

export interface NetworkView {
  links: IpLink[];
  routes: IpRoute[];
}

/** ip in batch mode with JSON output: commands on stdin, one line of JSON per `show`. */
export const JSON_BATCH = ['-json', '-details', '-batch', '-'] as const;
export const READ = 'addr show\nroute show table main\n';

/** The two JSON arrays `addr show` and `route show` print in a -json batch (writes print nothing). */
export function parseView(output: string | readonly string[]): NetworkView {
  const [links, routes] = (typeof output === 'string' ? output.split('\n') : output)
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as unknown[]);
  return { links: (links ?? []) as IpLink[], routes: (routes ?? []) as IpRoute[] };
}

const sessions = new WeakMap<CommandRunner, IpSession>();

/** A runner whose ip reads and batches go to `session` while it is usable. */
export function withIpSession(run: CommandRunner, session: IpSession): CommandRunner {
  const withSession: CommandRunner = (file, args, options) => {
    if (file === 'ip') session.forgetFirstRead(); // it may change what the first read saw
    return run(file, args, options);
  };
  sessions.set(withSession, session);
  return withSession;
}

const sessionOf = (run: CommandRunner): IpSession | undefined => {
  const session = sessions.get(run);
  return session?.usable ? session : undefined;
};

/** Links with their addresses and the main routing table, in one child process. */
export async function readNetwork(run: CommandRunner, signal?: AbortSignal): Promise<NetworkView> {
  const session = sessionOf(run);
  if (session) return session.batch([], signal);
  const { stdout } = await run('ip', JSON_BATCH, { input: READ, signal });
  return parseView(stdout);
}

/**
 * The network as the last read or write of this pipeline run left it, keyed by the run's state
 * object: a stage need not spawn `ip` to read what the previous stage just wrote. Only stages that
 * apply changes within one run use it; rollbacks always read afresh.
 */
const lastKnown = new WeakMap<object, NetworkView>();

export async function knownNetwork(run: CommandRunner, key: object, signal?: AbortSignal): Promise<NetworkView> {
  const known = lastKnown.get(key);
  if (known) return known;
  const view = await readNetwork(run, signal);
  lastKnown.set(key, view);
  return view;
}

/**
 * Applies iproute2 commands (one per line, without the leading `ip`) in one child process. -force
 * is not used: the first failing command stops the batch, so a failure leaves a known prefix done.
 * With `rememberFor`, the same child process also reads the result for the next stage.
 */
export async function applyBatch(run: CommandRunner, commands: readonly string[], signal?: AbortSignal, rememberFor?: object): Promise<void> {
  if (rememberFor) lastKnown.delete(rememberFor);
  if (commands.length === 0) return;
  const session = sessionOf(run);
  if (session) {
    const view = await session.batch(commands, signal);
    if (rememberFor) lastKnown.set(rememberFor, view);
    return;
  }
  if (!rememberFor) {
    await run('ip', ['-batch', '-'], { input: `${commands.join('\n')}\n`, signal });
    return;
  }
  const { stdout } = await run('ip', JSON_BATCH, { input: `${commands.join('\n')}\n${READ}`, signal });
  lastKnown.set(rememberFor, parseView(stdout));
}

/** After a change made outside applyBatch (rollback), the remembered view is stale. */
export const forgetNetwork = (key: object): void => void lastKnown.delete(key);

/** Runs each command on its own and ignores failures: for rollback, where every step must be tried. */
export async function applyEach(run: CommandRunner, commands: readonly string[], staleFor?: object): Promise<string[]> {
  if (staleFor) forgetNetwork(staleFor);
  const failures: string[] = [];
  for (const command of commands) {
    const result = await run('ip', command.split(' '), { allowFailure: true });
    if (result.exitCode !== 0) failures.push(`ip ${command}: ${result.stderr.trim()}`);
  }
  return failures;
}

export const routeSpec = (route: { dst: string; gateway?: string; onlink?: boolean; scope?: string; src?: string; metric?: number; protocol?: string }, dev: string): string =>
  [
    route.dst,
    route.gateway ? `via ${route.gateway}` : '',
    `dev ${dev}`,
    route.onlink ? 'onlink' : '',
    route.scope && route.scope !== 'global' && !route.gateway ? `scope ${route.scope}` : '',
    route.src ? `src ${route.src}` : '',
    route.metric !== undefined ? `metric ${route.metric}` : '',
    route.protocol && route.protocol !== 'kernel' && route.protocol !== 'boot' ? `proto ${route.protocol}` : '',
  ]
    .filter(Boolean)
    .join(' ');
