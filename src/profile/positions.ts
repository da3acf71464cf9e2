// Paths in the profile (as ajv reports them, as problems name them) and the spans of the YAML
// source they point at (src/profile/locate.ts finds them). No YAML library here: the check of a
// known parse (check-data.ts) needs the paths only.

export type Segment = string | number;

export interface Span { line: number; column: number; endLine: number; endColumn: number }

export const NO_SPAN: Span = { line: 0, column: 0, endLine: 0, endColumn: 0 };

/** JSON Pointer (ajv's instancePath) to segments: unescape ~1 then ~0. */
export function pointerToSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export const segmentsToPath = (segments: readonly Segment[]): string => segments.join('.');
