// Files shipped with startvm (profiles, templates, schemas). This module sits one level below the
// package root both in src/ and as the bundle in dist/, so one relative path works for both. The
// bundle gets its own __dirname for import.meta.dirname (scripts/build.ts): no file URL to build.
import { join } from 'node:path';

/** The package root, with a trailing slash. */
export const packageRoot = join(import.meta.dirname, '../');
export const packagePath = (relative: string): string => `${packageRoot}${relative}`;
