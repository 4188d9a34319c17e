import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, emptyConfig, loadConfig, saveConfig, type ControlPlaneConfig } from './config-file.js';

const plane = (name: string, url = 'http://localhost:5681'): ControlPlaneConfig => ({
  name,
  coordinates: { apiServer: { url, authType: 'tokens', authConf: { token: 'eyJ.a.b' } } },
});

describe('config file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshctl-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves --config-file over MESHCTL_CONFIG over ~/.meshctl/config.yaml', () => {
    expect(configPath({ MESHCTL_CONFIG: '/x/env.yaml' }, '/x/flag.yaml')).toBe('/x/flag.yaml');
    expect(configPath({ MESHCTL_CONFIG: '/x/env.yaml' })).toBe('/x/env.yaml');
    expect(configPath({})).toMatch(/\.meshctl\/config\.yaml$/);
  });

  it('reads a missing file as an empty config', async () => {
    expect(await loadConfig(join(dir, 'none.yaml'))).toEqual(emptyConfig());
  });

  it('writes the file with mode 0600, creating its directory, and reads it back', async () => {
    const path = join(dir, 'nested', 'config.yaml');
    const config = { controlPlanes: [plane('a')], currentContext: 'a' };
    await saveConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadConfig(path)).toEqual(config);
    expect(await readFile(path, 'utf8')).toContain('currentContext: a');
  });

  it('tightens an existing file to 0600 when it rewrites it', async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'controlPlanes: []\n', { mode: 0o644 });
    await saveConfig(path, emptyConfig());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('names the field that is wrong in a malformed file', async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'controlPlanes:\n  - name: a\n    coordinates: {apiServer: {}}\n');
    await expect(loadConfig(path)).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      message: expect.stringContaining('controlPlanes[0].coordinates.apiServer.url must be a string'),
    });
  });

  it('refuses a file that is not YAML', async () => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'controlPlanes: [\n');
    await expect(loadConfig(path)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});
