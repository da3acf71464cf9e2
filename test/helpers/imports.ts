// The files a module loads when it is loaded: its static imports (and requires), followed through
// the dependencies, as esbuild resolves them for the bundle. Dynamic import() is not followed: what
// it names loads only when that code runs.
import * as esbuild from 'esbuild';
import { root } from './paths.ts';

export async function staticImports(entry: string): Promise<string[]> {
  const { metafile } = await esbuild.build({ entryPoints: [entry], absWorkingDir: root, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent' });
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const imported of metafile.inputs[file]?.imports ?? []) {
      if (imported.external || imported.kind === 'dynamic-import' || seen.has(imported.path)) continue;
      seen.add(imported.path);
      queue.push(imported.path);
    }
  }
  return [...seen];
}
