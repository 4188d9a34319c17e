import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';

const require = createRequire(import.meta.url);
let loaded: typeof forgeModule | undefined;

/**
 * node-forge, loaded on first use: it adds about 12 MB to a process, and a plane needs it only
 * the first time it generates its server certificate (later starts read it from the store).
 */
export function loadForge(): typeof forgeModule {
  loaded ??= require('node-forge') as typeof forgeModule;
  return loaded;
}
