// Paths into the profile: JSON Pointers (ajv's instancePath, the x-env targets) and the dotted
// form problems show. Apart from positions.ts so that judging a profile never loads the YAML parser.
export type Segment = string | number;

/** JSON Pointer to segments: unescape ~1 then ~0. */
export function pointerToSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export const segmentsToPath = (segments: readonly Segment[]): string => segments.join('.');
