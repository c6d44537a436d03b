#!/usr/bin/env node
// The dlc command. Built sources live in dist/ (npm install builds them).
import { main } from '../dist/cli/main.js';

// A closed pipe (`dlc run … | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
