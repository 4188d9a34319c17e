#!/usr/bin/env node
import { Command } from 'commander';
import { adminTokenHint, createLogger, loadConfig, meshauthVersion, runUntilSignal } from '@meshauth/core';
import { startZoneControlPlane } from './zone-control-plane.js';

const program = new Command('zone-cp')
  .description('meshauth zone control plane: authenticates locally, issues dataplane tokens, mirrors keys and revocations from global')
  .version(meshauthVersion)
  .option('-c, --config <file>', 'YAML config file (MESHAUTH_* env vars win over it)')
  .addHelpText(
    'after',
    '\nExample:\n  MESHAUTH_MULTIZONE_ZONE_NAME=zone-1 MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS=grpc://global:5685 \\\n' +
      '  MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE=/etc/meshauth/zone-token MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS=public zone-cp\n',
  )
  .action(async (opts: { config?: string }) => {
    let config;
    try {
      config = loadConfig(opts.config ? { file: opts.config } : {});
    } catch (error) {
      process.stderr.write(`zone-cp: ${(error as Error).message}\n`);
      process.exit(1);
    }
    const logger = createLogger({ name: 'zone-cp', level: config.logLevel, format: config.logFormat as 'json' | 'text' });
    await runUntilSignal(
      'zone-cp',
      async () => {
        const cp = await startZoneControlPlane({ config, logger });
        const adminToken = cp.adminTokenStored ? adminTokenHint(config, cp.httpPort) : undefined;
        logger.info(
          {
            zone: cp.ctx.zoneName,
            httpPort: cp.httpPort,
            httpsPort: cp.httpsPort,
            dpServerPort: cp.dpServerPort,
            diagnosticsPort: cp.diagnosticsPort,
            instance: cp.ctx.instance,
            store: cp.ctx.store.location,
            ...(adminToken ? { adminToken } : {}),
          },
          'zone-cp ready',
        );
        return cp;
      },
      logger,
    );
  });

await program.parseAsync();
