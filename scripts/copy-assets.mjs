// After `tsc -p tsconfig.build.json`: embeds the .dl standard library in src/ and dist/
// (scripts/embed-stdlib.mjs), so dist/ always holds the current src/stdlib/*.dl.
import { embedStdlib } from './embed-stdlib.mjs';
embedStdlib();
