#!/usr/bin/env node
import { Command } from 'commander';
import { adminTokenHint, createLogger, loadConfig, meshauthVersion, runUntilSignal } from '@meshauth/core';
import { startGlobalControlPlane } from './global-control-plane.js';

const program = new Command('global-cp')
  .description('meshauth global control plane: owns signing keys and revocations, issues tokens, syncs zones')
  .version(meshauthVersion)
  .option('-c, --config <file>', 'YAML config file (MESHAUTH_* env vars win over it)')
  .addHelpText('after', '\nExample:\n  MESHAUTH_STORE_SQLITE_PATH=/var/lib/meshauth/global.db global-cp --config global.yaml\n')
  .action(async (opts: { config?: string }) => {
    let config;
    try {
      config = loadConfig(opts.config ? { file: opts.config } : {});
    } catch (error) {
      process.stderr.write(`global-cp: ${(error as Error).message}\n`);
      process.exit(1);
    }
    const logger = createLogger({ name: 'global-cp', level: config.logLevel, format: config.logFormat as 'json' | 'text' });
    await runUntilSignal(
      'global-cp',
      async () => {
        const cp = await startGlobalControlPlane({ config, logger });
        const adminToken = cp.adminTokenStored ? adminTokenHint(config, cp.httpPort) : undefined;
        logger.info(
          { httpPort: cp.httpPort, httpsPort: cp.httpsPort, syncPort: cp.syncPort, diagnosticsPort: cp.diagnosticsPort, instance: cp.ctx.instance, store: cp.ctx.store.location, ...(adminToken ? { adminToken } : {}) },
          'global-cp ready',
        );
        return cp;
      },
      logger,
    );
  });

await program.parseAsync();
