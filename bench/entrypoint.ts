// The benchmark starts startvm the way the image does: with the Node options of the Dockerfile's
// ENTRYPOINT (["node", ...options, ".../bin/startvm"]), read from there so that the two cannot differ.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../Dockerfile', import.meta.url));

/** The options between "node" and the script in an exec-form ENTRYPOINT; throws on any other shape. */
export function entrypointNodeOptions(dockerfile: string): string[] {
  const line = dockerfile.split('\n').findLast((l) => /^ENTRYPOINT\s/i.test(l));
  if (!line) throw new Error('the Dockerfile has no ENTRYPOINT');
  let exec: unknown;
  try {
    exec = JSON.parse(line.replace(/^ENTRYPOINT\s+/i, ''));
  } catch {
    exec = undefined;
  }
  if (!Array.isArray(exec) || exec[0] !== 'node' || !String(exec.at(-1)).endsWith('/bin/startvm')) {
    throw new Error(`the Dockerfile's ENTRYPOINT is not ["node", ...options, ".../bin/startvm"]: ${line}`);
  }
  return exec.slice(1, -1) as string[];
}

/** The image's Node options for startvm, from the repository's Dockerfile. */
export const imageNodeOptions = (): string[] => entrypointNodeOptions(readFileSync(DOCKERFILE, 'utf8'));
