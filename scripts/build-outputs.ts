// Where the build puts its output, for the build itself and for the Dockerfile test.
/** The bundle's folder: the entry point and its chunks, relative to the package root. */
export const BUNDLE_DIR = 'dist';
/** The entry point bin/startvm imports. */
export const BUNDLE_ENTRY = `${BUNDLE_DIR}/startvm.mjs`;
/** The source the bundle starts from. */
export const BUNDLE_SOURCE = 'src/cli/main.ts';
