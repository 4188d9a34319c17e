#!/usr/bin/env -S node --max-semi-space-size=2
// The command's entry point, committed so that `pnpm install` can link it before anything is
// built; the program itself is dist/main.js (`pnpm build`). The node arguments are the ones
// package.json declares (`meshauth.nodeArgs`), which every way of starting a zone passes: see
// README.md ("Memory").
import '../dist/main.js';
