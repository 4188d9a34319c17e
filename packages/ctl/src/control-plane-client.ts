import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createApiClient, type ApiClient } from './api-client.js';
import { configPath, loadConfig, type ControlPlaneConfig } from './config-file.js';
import { currentControlPlane } from './control-planes.js';
import { ConfigError } from './errors.js';
import type { CliIo } from './io.js';
import { meshctlVersion } from './version.js';

/** Options every meshctl command accepts (declared on the root program). */
export interface GlobalOptions {
  configFile?: string;
  verbose?: boolean;
}

export interface Session {
  client: ApiClient;
  controlPlane: ControlPlaneConfig;
  configPath: string;
}

/** A client for the active control plane of the config the command was pointed at. */
export async function openSession(cmd: Command, io: CliIo): Promise<Session> {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const path = configPath(io.env, globals.configFile);
  const controlPlane = currentControlPlane(await loadConfig(path, globals.configFile === undefined ? undefined : '--config-file'));
  return { client: await clientFor(controlPlane), controlPlane, configPath: path };
}

export async function clientFor(plane: ControlPlaneConfig): Promise<ApiClient> {
  const api = plane.coordinates.apiServer;
  const read = async (field: string, file: string | undefined) => {
    if (file === undefined || file === '') return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${field} ${file} of control plane "${plane.name}": ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const tls = {
    rejectUnauthorized: api.skipVerify !== true,
    ...definedOnly({
      cert: await read('client-cert-file', api.clientCertFile),
      key: await read('client-key-file', api.clientKeyFile),
      ca: await read('ca-cert-file', api.caCertFile),
    }),
  };
  return createApiClient({
    url: api.url,
    tls,
    userAgent: `meshctl/${meshctlVersion()}`,
    ...(api.authConf?.token !== undefined ? { token: api.authConf.token } : {}),
  });
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
