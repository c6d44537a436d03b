#!/usr/bin/env node
// The dlc command. Built sources live in dist/ (npm install builds them).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DawnNoticeFilter, mayUseWebGpu } from '../dist/cli/dawn-notices.js';
import { main } from '../dist/cli/main.js';

// A closed pipe (`dlc run … | head`) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const argv = process.argv.slice(2);
if (mayUseWebGpu(argv) && process.env.DLC_STDERR_FILTERED !== '1') {
  // Dawn prints two limit notices straight to fd 2 when it creates an adapter
  // (src/cli/dawn-notices.ts): run the command in a child and drop exactly those lines.
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, DLC_STDERR_FILTERED: '1' },
  });
  const filter = new DawnNoticeFilter();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => process.stderr.write(filter.push(chunk)));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    process.stderr.write(filter.end());
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
} else {
  Promise.resolve(main(argv)).then((code) => {
    process.exitCode = code;
  });
}
