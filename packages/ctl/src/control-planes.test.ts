import { describe, expect, it } from 'vitest';
import { emptyConfig, type ControlPlaneConfig } from './config-file.js';
import {
  addControlPlane,
  currentControlPlane,
  LOCAL_CONTROL_PLANE,
  removeControlPlane,
  switchControlPlane,
} from './control-planes.js';

const plane = (name: string, url = `http://${name}:5681`): ControlPlaneConfig => ({
  name,
  coordinates: { apiServer: { url } },
});

describe('control planes', () => {
  it('makes the first added control plane current, and switches to each one added after', () => {
    const one = addControlPlane(emptyConfig(), plane('a'), { overwrite: false });
    expect(one.currentContext).toBe('a');
    const two = addControlPlane(one, plane('b'), { overwrite: false });
    expect(two.currentContext).toBe('b');
    expect(two.controlPlanes.map((p) => p.name)).toEqual(['a', 'b']);
    expect(currentControlPlane(two).name).toBe('b');
  });

  it('refuses a duplicate name unless asked to overwrite', () => {
    const config = addControlPlane(emptyConfig(), plane('a'), { overwrite: false });
    expect(() => addControlPlane(config, plane('a', 'http://other'), { overwrite: false })).toThrow(/--overwrite/);
    const replaced = addControlPlane(config, plane('a', 'http://other'), { overwrite: true });
    expect(replaced.controlPlanes).toEqual([plane('a', 'http://other')]);
  });

  it('switches only to a known control plane', () => {
    let config = addControlPlane(emptyConfig(), plane('a'), { overwrite: false });
    config = addControlPlane(config, plane('b'), { overwrite: false });
    expect(switchControlPlane(config, 'a').currentContext).toBe('a');
    expect(() => switchControlPlane(config, 'c')).toThrow('no control plane named "c" (known: a, b)');
  });

  it('removing the active control plane leaves none active rather than picking another', () => {
    let config = addControlPlane(emptyConfig(), plane('a'), { overwrite: false });
    config = addControlPlane(config, plane('b'), { overwrite: false });
    const removed = removeControlPlane(config, 'b');
    expect(removed).toEqual({ controlPlanes: [plane('a')], currentContext: '' });
    expect(() => currentControlPlane(removed)).toThrow(/no active control plane/);
    expect(removeControlPlane(config, 'a').currentContext).toBe('b');
    expect(() => removeControlPlane(config, 'zzz')).toThrow(/no control plane named "zzz"/);
  });

  it('talks to localhost:5681 when nothing is configured', () => {
    expect(currentControlPlane(emptyConfig())).toBe(LOCAL_CONTROL_PLANE);
    expect(LOCAL_CONTROL_PLANE.coordinates.apiServer.url).toBe('http://localhost:5681');
  });
});
