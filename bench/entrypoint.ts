// The benchmark starts startvm the way the image does: with the Node options of the Dockerfile's
// ENTRYPOINT (["node", ...options, ".../bin/startvm"]), read from there so that the two cannot differ.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../Dockerfile', import.meta.url));

/**
 * An exec-form ENTRYPOINT's parts: ["node", ...options, script, ...] with options in the --name=value
 * form (a word that does not start with "-" is the script), or [script, ...].
 */
export function entrypointParts(exec: readonly string[]): { node: boolean; nodeOptions: string[]; script: string | undefined } {
  if (!/(^|\/)node$/.test(exec[0] ?? '')) return { node: false, nodeOptions: [], script: exec[0] };
  const at = exec.findIndex((word, i) => i > 0 && !word.startsWith('-'));
  return at < 0 ? { node: true, nodeOptions: exec.slice(1), script: undefined } : { node: true, nodeOptions: exec.slice(1, at), script: exec[at] };
}

/** The Node options of the Dockerfile's exec-form ENTRYPOINT (the last one); throws on any other shape. */
export function entrypointNodeOptions(dockerfile: string): string[] {
  const line = dockerfile.split('\n').findLast((l) => /^ENTRYPOINT\s/i.test(l));
  if (!line) throw new Error('the Dockerfile has no ENTRYPOINT');
  let exec: unknown;
  try {
    exec = JSON.parse(line.replace(/^ENTRYPOINT\s+/i, ''));
  } catch {
    exec = undefined;
  }
  const parts = Array.isArray(exec) && exec.every((word) => typeof word === 'string') ? entrypointParts(exec) : undefined;
  if (!parts?.node || !parts.script?.endsWith('/bin/startvm')) {
    throw new Error(`the Dockerfile's ENTRYPOINT is not ["node", ...options, ".../bin/startvm"]: ${line}`);
  }
  return parts.nodeOptions;
}

/** The image's Node options for startvm, from the repository's Dockerfile. */
export const imageNodeOptions = (): string[] => entrypointNodeOptions(readFileSync(DOCKERFILE, 'utf8'));
