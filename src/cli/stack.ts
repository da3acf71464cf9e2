// Internal errors print their stack. The bundle is minified, and node --enable-source-maps does not
// map code that bin/startvm compiles through vm.Script: frames in the bundle are mapped back to the
// sources here, through the source map the build writes next to it.
import { readFileSync } from 'node:fs';
import type { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';

// Loaded only for an internal error: node:module loads Node's ES module loader with it (~0.5 ms).
const sourceMapOf = (payload: unknown): SourceMap => new (process.getBuiltinModule('node:module').SourceMap)(payload as never);

/** The stack with bundle frames mapped; as it was if anything about the map is amiss (it must never throw). */
export function readableStack(stack: string): string {
  try {
    return mapFrames(stack);
  } catch {
    return stack;
  }
}

function mapFrames(stack: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (bundle: string): SourceMap | undefined => {
    if (!maps.has(bundle)) {
      try {
        maps.set(bundle, sourceMapOf(JSON.parse(readFileSync(`${bundle}.map`, 'utf8'))));
      } catch {
        maps.set(bundle, undefined); // no map (or not ours): the frame stays as it is
      }
    }
    return maps.get(bundle);
  };
  return stack.replace(/(\/[^\s():]*\.cjs):(\d+):(\d+)/g, (frame, bundle: string, line: string, column: string) => {
    const entry = mapOf(bundle)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry) || typeof entry.originalSource !== 'string') return frame;
    return `${resolve(dirname(bundle), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}
