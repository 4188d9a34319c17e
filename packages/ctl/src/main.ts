#!/usr/bin/env node
import { runCli } from './cli.js';
import { processIo } from './io.js';

// `meshctl … | head` closes the pipe before meshctl is done writing: the reader has what it
// wanted, so stop quietly instead of crashing with an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv, processIo());
