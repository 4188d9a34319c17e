import { ConfigError } from './errors.js';
import type { ControlPlaneConfig, MeshctlConfig } from './config-file.js';

/**
 * Used when no control plane has been configured at all, so that `meshctl` works out of the
 * box against a control plane on this machine (like kumactl's implicit "local").
 * It is never written to the config file.
 */
export const LOCAL_CONTROL_PLANE: ControlPlaneConfig = Object.freeze({
  name: 'local',
  coordinates: { apiServer: { url: 'http://localhost:5681' } },
});

/**
 * Adds (or with `overwrite` replaces) a control plane and makes it the active one,
 * as `kumactl config control-planes add` does.
 */
export function addControlPlane(
  config: MeshctlConfig,
  plane: ControlPlaneConfig,
  options: { overwrite: boolean },
): MeshctlConfig {
  const exists = config.controlPlanes.some((p) => p.name === plane.name);
  if (exists && !options.overwrite) {
    throw new ConfigError(`control plane "${plane.name}" already exists; use --overwrite to replace it`);
  }
  const controlPlanes = exists
    ? config.controlPlanes.map((p) => (p.name === plane.name ? plane : p))
    : [...config.controlPlanes, plane];
  return { controlPlanes, currentContext: plane.name };
}

export function switchControlPlane(config: MeshctlConfig, name: string): MeshctlConfig {
  findControlPlane(config, name);
  return { ...config, currentContext: name };
}

/**
 * Removes a control plane. Removing the active one leaves none active rather than silently
 * pointing meshctl at another (possibly production) control plane.
 */
export function removeControlPlane(config: MeshctlConfig, name: string): MeshctlConfig {
  findControlPlane(config, name);
  return {
    controlPlanes: config.controlPlanes.filter((p) => p.name !== name),
    currentContext: config.currentContext === name ? '' : config.currentContext,
  };
}

/** The control plane every command talks to. */
export function currentControlPlane(config: MeshctlConfig): ControlPlaneConfig {
  if (config.controlPlanes.length === 0) return LOCAL_CONTROL_PLANE;
  if (config.currentContext === '') {
    throw new ConfigError(
      `no active control plane; choose one with "meshctl config control-planes switch --name NAME" (known: ${names(config)})`,
    );
  }
  return findControlPlane(config, config.currentContext);
}

function findControlPlane(config: MeshctlConfig, name: string): ControlPlaneConfig {
  const plane = config.controlPlanes.find((p) => p.name === name);
  if (plane === undefined) {
    const known = config.controlPlanes.length === 0 ? 'none configured' : `known: ${names(config)}`;
    throw new ConfigError(`no control plane named "${name}" (${known})`);
  }
  return plane;
}

function names(config: MeshctlConfig): string {
  return config.controlPlanes.map((p) => p.name).join(', ');
}
