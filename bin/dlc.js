#!/usr/bin/env node
// The dlc command. Built sources live in dist/ (npm install builds them).
import { main } from '../dist/cli/main.js';

process.exitCode = main(process.argv.slice(2));
