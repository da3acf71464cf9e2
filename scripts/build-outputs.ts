// Where the build puts its output, for the build itself and for the Dockerfile test.
/** The bundle's folder, relative to the package root. */
export const BUNDLE_DIR = 'dist';
/** The bundle bin/startvm loads: one CommonJS file. */
export const BUNDLE_ENTRY = `${BUNDLE_DIR}/startvm.cjs`;
/** The source the bundle starts from. */
export const BUNDLE_SOURCE = 'src/cli/main.ts';
