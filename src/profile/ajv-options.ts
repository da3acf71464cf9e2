// The options the profile validator is generated with (scripts/build.ts), and that external stage
// modules' option schemas are compiled with at run time, so both behave alike.
export const ajvOptions = {
  allErrors: true,
  useDefaults: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  // Errors carry their schema, so messages can list the allowed keys and suggest the nearest one.
  verbose: true,
} as const;
