// Maps a path in the profile (as ajv reports it) back to the YAML source, so every problem has a
// line and a column.
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { NO_SPAN, type Segment, type Span } from './positions.ts';

interface Found { node: Node | null; keyNode: Node | null; depth: number }

/** Walks the YAML tree as far as the segments exist; remembers the key node of the last map step. */
function walk(doc: Document, segments: readonly Segment[]): Found {
  let node: unknown = doc.contents;
  let keyNode: Node | null = null;
  let depth = 0;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      keyNode = null;
      node = item;
    } else break;
    depth++;
  }
  return { node: (node as Node | null) ?? null, keyNode, depth };
}

function spanOf(node: Node | null, lineCounter: LineCounter): Span {
  const range = node?.range;
  if (!range) return NO_SPAN;
  const start = lineCounter.linePos(range[0]);
  const end = lineCounter.linePos(range[1]);
  return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col };
}

/**
 * Position of the value at `segments`, or of its key when `at` is 'key' (unknown keys, wrong key
 * names). When the path does not exist in the file (a default or an env value), the nearest
 * ancestor that does exist is used; line 0 when nothing does.
 */
export function locate(doc: Document, lineCounter: LineCounter, segments: readonly Segment[], at: 'value' | 'key' = 'value'): Span {
  const found = walk(doc, segments);
  const complete = found.depth === segments.length;
  if (at === 'key' && complete && found.keyNode) return spanOf(found.keyNode, lineCounter);
  if (!complete && found.depth === 0 && !doc.contents) return NO_SPAN;
  return spanOf(found.node ?? (doc.contents as Node | null), lineCounter);
}
