import { describe, expect, it } from 'vitest';
import { parseResources, resourcePath, substituteVariables } from './resource-file.js';

describe('resource files for apply', () => {
  it('reads a GlobalSecret from YAML and a Secret from JSON', () => {
    expect(parseResources('type: GlobalSecret\nname: user-token-revocations\ndata: YWJj\n', 'f.yaml')).toEqual([
      { type: 'GlobalSecret', name: 'user-token-revocations', data: 'YWJj' },
    ]);
    expect(parseResources('{"type":"Secret","mesh":"default","name":"s","data":"YWJj"}', 'f.json')).toEqual([
      { type: 'Secret', mesh: 'default', name: 's', data: 'YWJj' },
    ]);
  });

  it('reads several documents', () => {
    const text = 'type: GlobalSecret\nname: a\ndata: YQ==\n---\ntype: Secret\nmesh: m\nname: b\ndata: Yg==\n';
    expect(parseResources(text, 'f').map(resourcePath)).toEqual(['/global-secrets/a', '/meshes/m/secrets/b']);
  });

  it('accepts the metadata that get -o yaml prints', () => {
    const text = 'type: GlobalSecret\nname: a\ndata: YQ==\ncreationTime: "2021-11-12T13:54:34Z"\n';
    expect(parseResources(text, 'f')).toEqual([{ type: 'GlobalSecret', name: 'a', data: 'YQ==' }]);
  });

  it('refuses what it cannot apply, naming the file and the problem', () => {
    expect(() => parseResources('type: Mesh\nname: default\n', 'mesh.yaml')).toThrow(
      'mesh.yaml: type "Mesh" is not supported (use GlobalSecret or Secret)',
    );
    expect(() => parseResources('type: Secret\nname: a\ndata: YQ==\n', 's.yaml')).toThrow('s.yaml: Secret needs a non-empty string "mesh"');
    expect(() => parseResources('type: GlobalSecret\nname: a\ndata: YQ==\nmesh: m\n', 'g.yaml')).toThrow(
      'g.yaml: unknown field "mesh" for GlobalSecret',
    );
    expect(() => parseResources('type: GlobalSecret\nname: a\ndata: not base64!\n', 'g.yaml')).toThrow('g.yaml: data must be base64');
    expect(() => parseResources('type: [\n', 'bad.yaml')).toThrow(/^cannot parse bad.yaml/);
    expect(() => parseResources('', 'empty.yaml')).toThrow('empty.yaml contains no resources');
  });

  it('fills in {{ vars }} as kumactl apply --var does', () => {
    const template = '\ntype: GlobalSecret\nname: user-token-signing-key-2\ndata: {{ key }}\n';
    expect(substituteVariables(template, { key: 'QUJD\n' }, 'stdin')).toContain('data: QUJD\n');
    expect(() => substituteVariables(template, {}, 'stdin')).toThrow('stdin uses {{ key }} but no --var key=… was given');
  });

  it('escapes names in the path', () => {
    expect(resourcePath({ type: 'Secret', mesh: 'a/b', name: 'c d', data: '' })).toBe('/meshes/a%2Fb/secrets/c%20d');
  });
});
