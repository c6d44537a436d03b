// Copies non-TypeScript sources the compiler reads at run time (the .dl standard library) to dist/.
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/stdlib', { recursive: true });
cpSync('src/stdlib', 'dist/stdlib', { recursive: true });
