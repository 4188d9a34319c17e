#!/usr/bin/env node
// The command's entry point, committed so that `pnpm install` can link it before anything is
// built; the program itself is dist/main.js (`pnpm build`).
import '../dist/main.js';
