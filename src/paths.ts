// Files shipped with startvm (profiles, templates, schemas). This module sits one level below the
// package root both in src/ and as the bundle in dist/, so one relative URL works for both.
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../', import.meta.url));
export const packagePath = (relative: string): string => `${packageRoot}${relative}`;
