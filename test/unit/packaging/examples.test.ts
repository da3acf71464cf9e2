// Everything under examples/ is meant to be copied, so it is held to what startvm accepts: every
// YAML file parses, every profile (files and the one inside the Kubernetes ConfigMap) is lint-clean
// with its schema line for editors, the environment overrides the examples set are valid for the
// profile they mount, and the Docker, Compose and Kubernetes examples give the container what the
// stages need (NET_ADMIN, /dev/kvm, /dev/net/tun, the profile at /etc/startvm/profile.yaml, the disk
// on a volume). Each checker is also shown to complain about an example broken on purpose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Script } from 'node:vm';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { checkProfile } from '../../../src/profile/check.ts';
import { envVariables } from '../../../src/profile/env.ts';
import { MOUNTED_PROFILE } from '../../../src/profile/find.ts';
import type { Profile } from '../../../src/profile/types.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { root } from '../../helpers/paths.ts';

// Parsed YAML is checked field by field below; `any` keeps that readable.
type Obj = Record<string, any>;

const { catalog } = builtinRegistry();
const examplesDir = `${root}examples`;
const RUN_DIR = '/run/startvm';
const DISKS = '/var/lib/startvm';
const declared = new Set(envVariables.map((v) => v.name));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
const files = walk(examplesDir).sort();
const rel = (file: string): string => relative(root, file);
const CLOUD_INIT = new Set(['user-data', 'meta-data', 'network-config']);
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f) || CLOUD_INIT.has(basename(f)));

/** Every document of a YAML text, or the syntax errors. */
function parseYaml(text: string): { docs: Obj[]; errors: string[] } {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) return { docs: [], errors: [] };
  const errors = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message.split('\n')[0]!));
  return { docs: errors.length ? [] : docs.map((d) => d.toJS() as Obj).filter((d) => d !== null), errors };
}

type Kind = 'kubernetes' | 'compose' | 'workflow' | 'cloud-init' | 'profile';
/** What a YAML file is; anything not recognised is taken for a profile, so that lint sees it. */
function kindOf(file: string, docs: Obj[]): Kind {
  if (CLOUD_INIT.has(basename(file))) return 'cloud-init';
  if (docs.length > 0 && docs.every((d) => typeof d.apiVersion === 'string' && typeof d.kind === 'string')) return 'kubernetes';
  if (docs.length === 1 && typeof docs[0]!.services === 'object') return 'compose';
  if (docs.length === 1 && typeof docs[0]!.jobs === 'object' && 'on' in docs[0]!) return 'workflow';
  return 'profile';
}

const parsed = yamlFiles.map((file) => {
  const text = readFileSync(file, 'utf8');
  const { docs, errors } = parseYaml(text);
  return { file, text, docs, errors, kind: kindOf(file, docs) };
});
const ofKind = (kind: Kind) => parsed.filter((p) => p.kind === kind);
const manifests = ofKind('kubernetes').flatMap((p) => p.docs.map((doc) => ({ file: p.file, doc })));

// ---------------------------------------------------------------------------------------------
// Profiles.

interface ProfileSource {
  name: string;
  /** For relative paths in the profile and the $schema line. */
  file: string;
  text: string;
}

function profileSources(): ProfileSource[] {
  const own = ofKind('profile').map((p) => ({ name: rel(p.file), file: p.file, text: p.text }));
  const embedded = manifests
    .filter(({ doc }) => doc.kind === 'ConfigMap')
    .flatMap(({ file, doc }) =>
      Object.entries((doc.data ?? {}) as Record<string, string>)
        .filter(([key]) => /\.ya?ml$/.test(key))
        .map(([key, text]) => ({ name: `${rel(file)} (ConfigMap ${doc.metadata?.name}, ${key})`, file, text })),
    );
  return [...own, ...embedded];
}

function profileProblems(source: ProfileSource, env: NodeJS.ProcessEnv = {}): string[] {
  const problems: string[] = [];
  const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(source.text);
  if (!modeline) problems.push('the first line is not "# yaml-language-server: $schema=..." (editors validate with it)');
  else if (!modeline[1]!.endsWith('profile.schema.json')) problems.push(`the $schema line names ${modeline[1]}, not the profile schema`);
  else if (!/^https?:/.test(modeline[1]!) && !existsSync(resolve(dirname(source.file), modeline[1]!))) problems.push(`the $schema line names ${modeline[1]}, which does not exist next to ${rel(source.file)}`);
  for (const p of checkProfile(source.text, source.file, { env, catalog }).problems) problems.push(`${p.line}:${p.column} ${p.message} (${p.ruleId})`);
  return problems;
}

function loadProfile(text: string, file: string, env: NodeJS.ProcessEnv): { profile?: Profile; problems: string[] } {
  const { profile, problems } = checkProfile(text, file, { env, catalog });
  return { profile, problems: problems.map((p) => `${p.message} (${p.ruleId})`) };
}

/** Files a profile names that must be in the container: disks, CD-ROM, kernel, initrd. */
const profileFiles = (profile: Profile): string[] => [...profile.vm.disks.map((d) => d.path), profile.vm.cdrom, profile.vm.kernel, profile.vm.initrd].filter((p): p is string => p !== undefined);

/** Variables set for startvm: declared ones only, and their values as strings. */
function envProblems(entries: [string, unknown][], where: string): string[] {
  return entries.flatMap(([name, value]) => [
    ...((name.startsWith('STARTVM_') || name === 'NO_DHCP') && !declared.has(name) ? [`${where}: ${name} is not a variable startvm reads (startvm env lists them)`] : []),
    ...(typeof value !== 'string' ? [`${where}: the value of ${name} must be a string, not ${JSON.stringify(value)} (quote it)`] : []),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes.

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Pod']);

function podOf(doc: Obj): { spec: Obj; labels: Obj } {
  return doc.kind === 'Pod' ? { spec: doc.spec ?? {}, labels: doc.metadata?.labels ?? {} } : { spec: doc.spec?.template?.spec ?? {}, labels: doc.spec?.template?.metadata?.labels ?? {} };
}

function mebibytes(quantity: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(String(quantity ?? ''));
  if (!m) return undefined;
  const n = Number(m[1]);
  return { Mi: n, Gi: n * 1024, M: (n * 1e6) / 2 ** 20, G: (n * 1e9) / 2 ** 20 }[m[2] ?? ''] ?? n / 2 ** 20;
}

/** The VM containers: those that keep the image's entrypoint (startvm). */
const vmContainers = (spec: Obj): Obj[] => ((spec.containers ?? []) as Obj[]).filter((c) => c.command === undefined);

const containerEnv = (c: Obj): [string, unknown][] => ((c.env ?? []) as Obj[]).map((e) => [e.name as string, e.value]);

function kubernetesProblems(docs: { file: string; doc: Obj }[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(docs.filter(({ doc }) => doc.kind === 'ConfigMap').map(({ doc }) => [doc.metadata?.name as string, (doc.data ?? {}) as Record<string, string>]));
  const claims = new Set(docs.filter(({ doc }) => doc.kind === 'PersistentVolumeClaim').map(({ doc }) => doc.metadata?.name as string));
  const workloads = docs.filter(({ doc }) => WORKLOADS.has(doc.kind));
  const services = docs.filter(({ doc }) => doc.kind === 'Service');
  if (workloads.length === 0) problems.push('no workload (Deployment or Pod) runs the VM');
  for (const { file, doc } of workloads) {
    const where = `${rel(file)} ${doc.kind} ${doc.metadata?.name}`;
    const { spec, labels } = podOf(doc);
    const volumes = new Map(((spec.volumes ?? []) as Obj[]).map((v) => [v.name as string, v]));
    for (const v of volumes.values()) {
      if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName)) problems.push(`${where}: volume ${v.name} claims ${v.persistentVolumeClaim.claimName}, which no PersistentVolumeClaim here defines`);
    }
    if (!services.some(({ doc: s }) => Object.entries(s.spec?.selector ?? {}).every(([k, v]) => labels[k] === v) && Object.keys(s.spec?.selector ?? {}).length > 0)) problems.push(`${where}: no Service selects its pods`);
    const containers = vmContainers(spec);
    if (containers.length === 0) problems.push(`${where}: no container runs the image's entrypoint (startvm)`);
    for (const c of containers) {
      const at = `${where} container ${c.name}`;
      if (!((c.securityContext?.capabilities?.add ?? []) as string[]).includes('NET_ADMIN')) problems.push(`${at}: no NET_ADMIN capability (securityContext.capabilities.add)`);
      if (c.securityContext?.privileged) problems.push(`${at}: privileged; NET_ADMIN and the devices are enough`);
      const mounts = (c.volumeMounts ?? []) as Obj[];
      const mountOf = (path: string) => mounts.find((m) => m.mountPath === path);
      const hostDevice = (path: string): boolean => {
        const volume = volumes.get(mountOf(path)?.name);
        return volume?.hostPath?.path === path && volume.hostPath.type === 'CharDevice';
      };
      const limits = Object.keys(c.resources?.limits ?? {});
      if (!hostDevice('/dev/kvm') && !limits.some((l) => /\/kvm$/.test(l))) problems.push(`${at}: no /dev/kvm (a device plugin resource such as squat.ai/kvm in limits, or a hostPath CharDevice)`);
      if (!hostDevice('/dev/net/tun') && !limits.some((l) => /\/tun$/.test(l))) problems.push(`${at}: no /dev/net/tun (a hostPath CharDevice, or a device plugin resource)`);
      const env = containerEnv(c);
      problems.push(...envProblems(env, at));
      const runDir = (env.find(([n]) => n === 'STARTVM_RUN_DIR')?.[1] as string | undefined) ?? RUN_DIR;
      if (volumes.get(mountOf(runDir)?.name)?.emptyDir === undefined) problems.push(`${at}: the run directory ${runDir} is not an emptyDir, so a restarted container cannot recover the saved state`);
      const profileMount = mountOf(MOUNTED_PROFILE);
      if (!profileMount) {
        problems.push(`${at}: no profile mounted at ${MOUNTED_PROFILE}`);
        continue;
      }
      const configMapName = volumes.get(profileMount.name)?.configMap?.name as string | undefined;
      const data = configMapName === undefined ? undefined : configMaps.get(configMapName);
      const text = data?.[profileMount.subPath ?? ''];
      if (configMapName === undefined) problems.push(`${at}: ${MOUNTED_PROFILE} does not come from a ConfigMap volume`);
      else if (!data) problems.push(`${at}: ConfigMap ${configMapName} is not defined here`);
      else if (text === undefined) problems.push(`${at}: ${MOUNTED_PROFILE} mounts key "${profileMount.subPath}" (subPath), which ConfigMap ${configMapName} does not have`);
      if (text === undefined) continue;
      const { profile, problems: withEnv } = loadProfile(text, file, Object.fromEntries(env.map(([n, v]) => [n, String(v)])));
      problems.push(...withEnv.map((p) => `${at}: with its environment, the profile fails: ${p}`));
      if (!profile) continue;
      for (const path of profileFiles(profile)) {
        const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`) && !m.readOnly);
        const volume = volumes.get(mount?.name);
        if (!volume?.persistentVolumeClaim && !volume?.hostPath) problems.push(`${at}: the profile's ${path} is on no persistent volume`);
      }
      const limit = mebibytes(c.resources?.limits?.memory);
      if (limit === undefined || limit <= profile.vm.memory) problems.push(`${at}: memory limit ${c.resources?.limits?.memory ?? '(none)'} does not leave room above the guest's ${profile.vm.memory} MiB`);
    }
  }
  for (const { file, doc } of services) {
    const selector = Object.entries(doc.spec?.selector ?? {});
    if (!workloads.some(({ doc: w }) => selector.length > 0 && selector.every(([k, v]) => podOf(w).labels[k] === v))) problems.push(`${rel(file)} Service ${doc.metadata?.name}: its selector matches no workload's pods`);
  }
  return problems;
}

/** Workloads that switch startvm's DHCP off for a network with its own DHCP and IPAM. */
function externalIpamVariants(docs: { file: string; doc: Obj }[]): string[] {
  const configMaps = new Map(docs.filter(({ doc }) => doc.kind === 'ConfigMap').map(({ doc }) => [doc.metadata?.name as string, (doc.data ?? {}) as Record<string, string>]));
  return docs
    .filter(({ doc }) => WORKLOADS.has(doc.kind))
    .filter(({ file, doc }) => {
      const { spec } = podOf(doc);
      return vmContainers(spec).some((c) => {
        const env = Object.fromEntries(containerEnv(c).map(([n, v]) => [n, String(v)]));
        if (env.NO_DHCP === undefined) return false;
        const mount = ((c.volumeMounts ?? []) as Obj[]).find((m) => m.mountPath === MOUNTED_PROFILE);
        const volume = ((spec.volumes ?? []) as Obj[]).find((v) => v.name === mount?.name);
        const text = configMaps.get(volume?.configMap?.name)?.[mount?.subPath];
        const profile = text === undefined ? undefined : loadProfile(text, file, env).profile;
        return profile?.stages.find((s) => s.stage === 'dhcp')?.enabled === false;
      });
    })
    .map(({ file }) => rel(file));
}

// ---------------------------------------------------------------------------------------------
// Docker: compose.yaml and the docker run line of run.sh.

interface ContainerSpec {
  where: string;
  dir: string;
  devices: string[];
  caps: string[];
  /** [host source, container target, mode] */
  volumes: [string, string, string][];
  ports: string[];
  env: [string, unknown][];
}

function containerProblems(c: ContainerSpec): string[] {
  const problems: string[] = [];
  for (const device of ['/dev/kvm', '/dev/net/tun']) if (!c.devices.includes(device)) problems.push(`${c.where}: no device ${device}`);
  if (!c.caps.includes('NET_ADMIN')) problems.push(`${c.where}: no NET_ADMIN capability`);
  problems.push(...envProblems(c.env, c.where));
  const profileVolume = c.volumes.find(([, target]) => target === MOUNTED_PROFILE);
  if (!c.volumes.some(([, target]) => target === DISKS)) problems.push(`${c.where}: no volume at ${DISKS} for the disks`);
  if (!profileVolume) return [...problems, `${c.where}: no profile mounted at ${MOUNTED_PROFILE}`];
  const [source, , mode] = profileVolume;
  if (mode !== 'ro') problems.push(`${c.where}: mount the profile read-only (:ro)`);
  const host = resolve(c.dir, source);
  if (!existsSync(host)) return [...problems, `${c.where}: the profile ${source} does not exist (${rel(host)})`];
  const { profile, problems: withEnv } = loadProfile(readFileSync(host, 'utf8'), MOUNTED_PROFILE, Object.fromEntries(c.env.map(([n, v]) => [n, String(v)])));
  problems.push(...withEnv.map((p) => `${c.where}: with its environment, the profile fails: ${p}`));
  for (const path of profile ? profileFiles(profile) : []) {
    if (!c.volumes.some(([, target]) => path.startsWith(`${target}/`))) problems.push(`${c.where}: the profile's ${path} is on no volume`);
  }
  return problems;
}

function composeSpecs(doc: Obj, file: string): { specs: ContainerSpec[]; problems: string[] } {
  const problems: string[] = [];
  const specs = Object.entries((doc.services ?? {}) as Record<string, Obj>).map(([name, s]) => {
    const where = `${rel(file)} service ${name}`;
    const context = typeof s.build === 'string' ? s.build : s.build?.context;
    if (context === undefined && s.image === undefined) problems.push(`${where}: neither build nor image`);
    if (context !== undefined && !existsSync(join(resolve(dirname(file), context), s.build?.dockerfile ?? 'Dockerfile'))) problems.push(`${where}: the build context ${context} has no Dockerfile`);
    const env: [string, unknown][] = Array.isArray(s.environment)
      ? (s.environment as string[]).map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')])
      : Object.entries(s.environment ?? {});
    return {
      where,
      dir: dirname(file),
      devices: ((s.devices ?? []) as string[]).map((d) => d.split(':')[0]!),
      caps: (s.cap_add ?? []) as string[],
      volumes: ((s.volumes ?? []) as (string | Obj)[]).map((v): [string, string, string] => (typeof v === 'string' ? ((([a, b, m]) => [a ?? '', b ?? '', m ?? ''])(v.split(':')) as [string, string, string]) : [v.source ?? '', v.target ?? '', v.read_only ? 'ro' : ''])),
      ports: ((s.ports ?? []) as unknown[]).map(String),
      env,
    };
  });
  return { specs, problems };
}

/** The `docker run` line of a shell script, as words (double quotes removed, $PWD = the script's folder, which the script cd's into). */
function dockerRun(text: string, file: string): { spec?: ContainerSpec; problems: string[] } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\s*(exec\s+)?docker run\b/.test(l));
  if (start < 0) return { problems: [`${rel(file)}: no docker run line`] };
  let command = '';
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    command += line.replace(/\\\s*$/, ' ');
    if (!/\\\s*$/.test(line)) break;
  }
  const problems: string[] = [];
  if (!/cd "\$\(dirname "\$0"\)"/.test(text)) problems.push(`${rel(file)}: does not cd to its folder, so $PWD and ./ do not name the example's files`);
  const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replace(/\$PWD|\$\{PWD\}/g, dirname(file)));
  const value = (flag: string[]) => words.flatMap((w, i) => (flag.includes(w) && words[i + 1] !== undefined ? [words[i + 1]!] : []));
  const spec: ContainerSpec = {
    where: `${rel(file)} docker run`,
    dir: dirname(file),
    devices: value(['--device']).map((d) => d.split(':')[0]!),
    caps: value(['--cap-add']),
    volumes: value(['-v', '--volume']).map((v) => (([a, b, m]) => [a ?? '', b ?? '', m ?? ''])(v.split(':')) as [string, string, string]),
    ports: value(['-p', '--publish']),
    env: value(['-e', '--env']).map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')]),
  };
  return { spec, problems };
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions and the Node snippets the examples run.

function workflowProblems(doc: Obj, file: string): string[] {
  const problems: string[] = [];
  const steps = Object.values((doc.jobs ?? {}) as Record<string, Obj>).flatMap((j) => (j.steps ?? []) as Obj[]);
  const lint = steps.findIndex((s) => /\bnpx\b[^\n]*\bstartvm lint\b/.test(s.run ?? ''));
  if (lint < 0) problems.push(`${rel(file)}: no step runs npx startvm lint`);
  else {
    if (!/--format github\b/.test(steps[lint]!.run)) problems.push(`${rel(file)}: the lint step does not use --format github (annotations on the lines)`);
    if (!steps.slice(0, lint).some((s) => /\bnpm (ci|install)\b/.test(s.run ?? ''))) problems.push(`${rel(file)}: nothing installs startvm before npx runs it (npm ci)`);
  }
  const setup = steps.find((s) => /^actions\/setup-node@/.test(s.uses ?? ''));
  const major = Number(/^(\d+)/.exec(String(setup?.with?.['node-version'] ?? ''))?.[1] ?? 0);
  if (major < 22) problems.push(`${rel(file)}: no actions/setup-node with Node 22 or later (startvm needs 22.15+), got ${setup?.with?.['node-version'] ?? 'none'}`);
  return problems;
}

/** The code of every `node -e` the examples run: Kubernetes commands and shell scripts. */
function nodeSnippets(): { where: string; code: string }[] {
  const fromYaml = manifests.flatMap(({ file, doc }) => {
    const spec = WORKLOADS.has(doc.kind) ? podOf(doc).spec : {};
    const containers = [...((spec.initContainers ?? []) as Obj[]), ...((spec.containers ?? []) as Obj[])];
    return containers.flatMap((c) =>
      [c.command, c.lifecycle?.preStop?.exec?.command, c.lifecycle?.postStart?.exec?.command]
        .filter((cmd): cmd is string[] => Array.isArray(cmd) && cmd[0] === 'node' && cmd[1] === '-e')
        .map((cmd) => ({ where: `${rel(file)} container ${c.name}`, code: cmd[2]! })),
    );
  });
  const fromShell = files
    .filter((f) => f.endsWith('.sh'))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bnode -e '([^']*)'/g)].map((m) => ({ where: rel(f), code: m[1]! })));
  return [...fromYaml, ...fromShell];
}

function snippetProblems(snippet: { where: string; code: string }): string[] {
  try {
    new Script(snippet.code, { filename: snippet.where });
    return [];
  } catch (error) {
    return [`${snippet.where}: ${(error as Error).message}`];
  }
}

// ---------------------------------------------------------------------------------------------
// The examples as they are.

const profiles = profileSources();
const compose = ofKind('compose');
const workflows = ofKind('workflow');
const scripts = files.filter((f) => f.endsWith('.sh'));

test('examples/ holds Docker, Compose, Kubernetes, CI and cloud-image examples', () => {
  const names = files.map(rel);
  for (const expected of ['examples/docker/run.sh', 'examples/docker/compose.yaml', 'examples/docker/profile.yaml', 'examples/ci/lint-profiles.yml', 'examples/cloud-image/profile.yaml']) {
    assert.ok(names.includes(expected), `${expected} is missing`);
  }
  assert.ok(manifests.length >= 4, 'the Kubernetes example needs a ConfigMap, a workload, a Service and a claim');
  assert.ok(profiles.some((p) => p.name.includes('ConfigMap')), 'no profile inside a ConfigMap');
});

for (const p of parsed) {
  test(`${rel(p.file)} parses as YAML`, () => {
    assert.equal(p.errors, []);
    assert.ok(p.docs.length > 0, 'no document');
  });
}

for (const source of profiles) {
  test(`${source.name} is lint-clean and declares the schema for editors`, () => {
    assert.equal(profileProblems(source), []);
  });
}

test('the Kubernetes workloads get NET_ADMIN, the devices, the profile from the ConfigMap, the disk on a volume and a Service', () => {
  assert.equal(kubernetesProblems(manifests), []);
});

test('a Kubernetes variant for external IPAM switches DHCP off with NO_DHCP=true', () => {
  assert.equal(externalIpamVariants(manifests), ['examples/kubernetes/deployment-external-ipam.yaml']);
});

test('the compose file gives the service the devices, NET_ADMIN, the profile and the disk volume', () => {
  assert.is(compose.length, 1);
  for (const c of compose) {
    const { specs, problems } = composeSpecs(c.docs[0]!, c.file);
    assert.equal(problems, []);
    assert.ok(specs.length > 0);
    assert.equal(specs.flatMap(containerProblems), []);
    assert.ok(specs.some((s) => s.ports.includes('2222:22')));
  }
});

test('run.sh starts the container with the devices, NET_ADMIN, the read-only profile, the disks, a port and env overrides', () => {
  const run = `${examplesDir}/docker/run.sh`;
  const { spec, problems } = dockerRun(readFileSync(run, 'utf8'), run);
  assert.equal(problems, []);
  assert.equal(containerProblems(spec!), []);
  assert.ok(spec!.ports.includes('2222:22'));
  assert.ok(spec!.env.some(([name, value]) => name === 'STARTVM_MEMORY' && value === '2048'));
});

test('the shell scripts are valid bash and executable', async () => {
  assert.ok(scripts.length >= 2);
  for (const script of scripts) {
    const { exitCode, stderr } = await execa('bash', ['-n', script], { reject: false });
    assert.is(exitCode, 0, `${rel(script)}: ${stderr}`);
    assert.ok((statSync(script).mode & 0o111) !== 0, `${rel(script)} is not executable`);
  }
});

test('the CI workflow installs startvm and lints with GitHub annotations on Node 22', () => {
  assert.is(workflows.length, 1);
  for (const w of workflows) assert.equal(workflowProblems(w.docs[0]!, w.file), []);
});

test('the cloud-image profile boots a qcow2 virtio disk and a cloud-init seed with 2 vCPUs and 2048 MiB', () => {
  const file = `${examplesDir}/cloud-image/profile.yaml`;
  const { profile } = loadProfile(readFileSync(file, 'utf8'), file, {});
  assert.ok(profile);
  assert.is(profile.vm.cpus, 2);
  assert.is(profile.vm.memory, 2048);
  assert.equal(profile.vm.disks.map((d) => [d.format, d.interface]), [['qcow2', 'virtio']]);
  assert.match(profile.vm.cdrom ?? '', /seed\.iso$/);
  assert.ok(existsSync(`${examplesDir}/cloud-image/user-data`) && readFileSync(`${examplesDir}/cloud-image/user-data`, 'utf8').startsWith('#cloud-config\n'), 'user-data must start with #cloud-config');
});

test('the Node snippets the examples run (preStop, init container, stop.sh) compile', () => {
  const snippets = nodeSnippets();
  assert.ok(snippets.length >= 3, `found ${snippets.length}`);
  assert.equal(snippets.flatMap(snippetProblems), []);
});

// ---------------------------------------------------------------------------------------------
// The checkers complain about broken examples.

const docOf = (name: string, kind: string): Obj => structuredClone(manifests.find(({ file, doc }) => file.endsWith(name) && doc.kind === kind)!.doc);
const deploymentFile = `${examplesDir}/kubernetes/deployment.yaml`;
/** The Kubernetes example with its Deployment changed by `change`. */
function brokenKubernetes(change: (deployment: Obj, container: Obj) => void, extra: (docs: { file: string; doc: Obj }[]) => void = () => {}): string[] {
  const docs = manifests.filter(({ file }) => !/deployment-/.test(file)).map(({ file, doc }) => ({ file, doc: structuredClone(doc) }));
  const deployment = docs.find(({ doc }) => doc.kind === 'Deployment')!.doc;
  change(deployment, deployment.spec.template.spec.containers[0]);
  extra(docs);
  return kubernetesProblems(docs);
}
const has = (problems: string[], expected: RegExp): void => assert.ok(problems.some((p) => expected.test(p)), `expected ${expected}, got:\n${problems.join('\n') || '(none)'}`);

test('a profile with a mistake or without its schema line is reported', () => {
  const file = `${examplesDir}/docker/profile.yaml`;
  const text = readFileSync(file, 'utf8');
  has(profileProblems({ name: 'x', file, text: text.replace('cpus:', 'cpuz:') }), /unknown key "cpuz"/);
  has(profileProblems({ name: 'x', file, text: text.replace(/^# yaml-language-server.*\n/, '') }), /first line is not "# yaml-language-server/);
  has(profileProblems({ name: 'x', file, text: text.replace('../../schemas/', '../schemas/') }), /does not exist next to/);
  assert.equal(kindOf('x.yaml', [{ versoin: 1 }]), 'profile', 'unrecognised YAML must be linted as a profile');
});

test('a YAML syntax error or a duplicate key is reported', () => {
  assert.ok(parseYaml('a: [1, 2\n').errors.length > 0);
  assert.ok(parseYaml('a: 1\na: 2\n').errors.length > 0);
});

test('a Kubernetes workload without NET_ADMIN, devices, profile mount or run directory is reported', () => {
  has(brokenKubernetes((_, c) => void (c.securityContext.capabilities.add = [])), /no NET_ADMIN capability/);
  has(brokenKubernetes((_, c) => void delete c.resources.limits['squat.ai/kvm']), /no \/dev\/kvm/);
  has(brokenKubernetes((_, c) => void (c.volumeMounts = c.volumeMounts.filter((m: Obj) => m.mountPath !== '/dev/net/tun'))), /no \/dev\/net\/tun/);
  has(brokenKubernetes((_, c) => void (c.volumeMounts = c.volumeMounts.filter((m: Obj) => m.mountPath !== MOUNTED_PROFILE))), /no profile mounted at \/etc\/startvm\/profile\.yaml/);
  has(brokenKubernetes((_, c) => void (c.volumeMounts = c.volumeMounts.filter((m: Obj) => m.mountPath !== RUN_DIR))), /run directory \/run\/startvm is not an emptyDir/);
  has(brokenKubernetes((_, c) => void (c.securityContext.privileged = true)), /privileged/);
});

test('a Kubernetes profile mount without its ConfigMap key, a bad override or a disk off the volume is reported', () => {
  has(brokenKubernetes((_, c) => void (c.volumeMounts.find((m: Obj) => m.mountPath === MOUNTED_PROFILE).subPath = 'vm.yaml')), /mounts key "vm\.yaml"/);
  has(brokenKubernetes((_, c) => void c.env.push({ name: 'STARTVM_MEMORY', value: 'lots' })), /profile fails: STARTVM_MEMORY="lots" is not a whole number/);
  has(brokenKubernetes((_, c) => void c.env.push({ name: 'NO_DHCP', value: true })), /value of NO_DHCP must be a string/);
  has(brokenKubernetes((_, c) => void c.env.push({ name: 'STARTVM_MEMROY', value: '1' })), /STARTVM_MEMROY is not a variable startvm reads/);
  has(brokenKubernetes((_, c) => void (c.volumeMounts.find((m: Obj) => m.mountPath === DISKS).mountPath = '/srv')), /\/var\/lib\/startvm\/disk\.qcow2 is on no persistent volume/);
  has(brokenKubernetes((_, c) => void (c.resources.limits.memory = '2Gi')), /memory limit 2Gi does not leave room above the guest's 2048 MiB/);
  has(brokenKubernetes(() => {}, (docs) => docs.splice(docs.findIndex(({ doc }) => doc.kind === 'PersistentVolumeClaim'), 1)), /claims startvm-disks, which no PersistentVolumeClaim/);
});

test('a Service that selects no VM pods is reported', () => {
  has(brokenKubernetes((d) => void (d.spec.template.metadata.labels = { app: 'other' })), /no Service selects its pods/);
  has(brokenKubernetes((d) => void (d.spec.template.metadata.labels = { app: 'other' })), /selector matches no workload's pods/);
});

test('without NO_DHCP=true no external-IPAM variant is found', () => {
  const docs = manifests.map(({ file, doc }) => ({ file, doc: structuredClone(doc) }));
  for (const { doc } of docs.filter(({ doc }) => doc.kind === 'Deployment')) {
    const c = doc.spec.template.spec.containers[0];
    c.env = (c.env as Obj[]).filter((e) => e.name !== 'NO_DHCP');
  }
  assert.equal(externalIpamVariants(docs), []);
  assert.ok(docOf('deployment-external-ipam.yaml', 'Deployment'));
});

test('a compose service or docker run line without devices, NET_ADMIN or the profile is reported', () => {
  const c = compose[0]!;
  const broken = structuredClone(c.docs[0]!);
  const service = Object.values(broken.services as Record<string, Obj>)[0]!;
  service.devices = ['/dev/kvm'];
  service.cap_add = [];
  service.volumes = (service.volumes as string[]).map((v) => v.replace('./profile.yaml', './missing.yaml'));
  service.build = { context: '..' };
  const { specs, problems } = composeSpecs(broken, c.file);
  has(problems, /build context \.\. has no Dockerfile/);
  const found = specs.flatMap(containerProblems);
  has(found, /no device \/dev\/net\/tun/);
  has(found, /no NET_ADMIN capability/);
  has(found, /the profile \.\/missing\.yaml does not exist/);

  const run = `${examplesDir}/docker/run.sh`;
  const text = readFileSync(run, 'utf8');
  /** The problems of run.sh with one change to its docker run line (which must apply). */
  const runProblems = (from: string, to: string) => {
    const at = text.indexOf('\ndocker run');
    const changed = text.slice(0, at) + text.slice(at).replace(from, to);
    assert.ok(changed !== text, `run.sh's docker run line has no ${from}`);
    const { spec, problems: p } = dockerRun(changed, run);
    return [...p, ...(spec ? containerProblems(spec) : [])];
  };
  has(runProblems('  --cap-add NET_ADMIN \\\n', ''), /no NET_ADMIN capability/);
  has(runProblems('  --device /dev/kvm \\\n', ''), /no device \/dev\/kvm/);
  has(runProblems('STARTVM_MEMORY=2048', 'STARTVM_MEMORY=2GB'), /STARTVM_MEMORY="2GB" is not a whole number/);
  has(runProblems('/etc/startvm/profile.yaml:ro', '/etc/startvm/profile.yaml'), /read-only/);
  has(runProblems(':/var/lib/startvm', ':/srv'), /no volume at \/var\/lib\/startvm/);
  has(runProblems('docker run', 'podman run'), /no docker run line/);
});

test('a workflow without annotations, install or Node 22 is reported', () => {
  const w = workflows[0]!;
  const broken = structuredClone(w.docs[0]!);
  const steps = Object.values(broken.jobs as Record<string, Obj>)[0]!.steps as Obj[];
  steps.find((s) => /startvm lint/.test(s.run ?? ''))!.run = 'npx --no startvm lint profiles/*.yaml';
  steps.find((s) => /setup-node/.test(s.uses ?? ''))!.with['node-version'] = 20;
  steps.splice(steps.findIndex((s) => s.run === 'npm ci'), 1);
  const problems = workflowProblems(broken, w.file);
  has(problems, /does not use --format github/);
  has(problems, /nothing installs startvm/);
  has(problems, /no actions\/setup-node with Node 22 or later .* got 20/);
});

test('a Node snippet with a syntax error is reported', () => {
  has(snippetProblems({ where: 'x', code: 'socket.on("close", () => process.exit(0);' }), /^x: /);
});

test.run();
