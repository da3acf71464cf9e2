// Prints the profile reference generated from the schema; --write puts it into README.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { profileReference, withReference } from '../src/docs/reference.ts';

const readme = new URL('../README.md', import.meta.url);
if (process.argv.includes('--write')) writeFileSync(readme, withReference(readFileSync(readme, 'utf8')));
else process.stdout.write(profileReference());
