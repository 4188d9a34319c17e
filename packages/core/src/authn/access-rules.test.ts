import { describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { AccessRules, type AccessAction, type AccessRule } from './access-rules.js';
import { admin, anonymous, userIdentity } from './identity.js';

const nobody: AccessRule = { users: [], groups: [] };
const rules = new AccessRules({
  adminResources: { users: ['alice'], groups: ['mesh-system:admin'] },
  generateUserToken: { users: [], groups: ['team-a', 'mesh-system:admin'] },
  generateDpToken: { users: ['bob'], groups: [] },
  generateZoneToken: nobody,
});
const actions: AccessAction[] = ['adminResources', 'generateUserToken', 'generateDpToken', 'generateZoneToken'];
const allowed = (identity: { name: string; groups: string[] }) => actions.filter((action) => rules.allows(identity, action));

describe('AccessRules', () => {
  it('allows an action to the users it lists and to members of the groups it lists, each action on its own', () => {
    expect(allowed(userIdentity('alice', []))).toEqual(['adminResources']);
    expect(allowed(userIdentity('bob', ['team-a']))).toEqual(['generateUserToken', 'generateDpToken']);
    expect(allowed(userIdentity('carol', ['team-b', 'team-a']))).toEqual(['generateUserToken']);
    expect(allowed(admin)).toEqual(['adminResources', 'generateUserToken']);
    expect(allowed(userIdentity('carol', ['team-b']))).toEqual([]);
    expect(allowed(anonymous)).toEqual([]);
  });

  it('matches names and groups exactly', () => {
    expect(allowed(userIdentity('Alice', ['TEAM-A', 'team-a ']))).toEqual([]);
    // A user named like a group is not in it, nor a group named like a user that user.
    expect(allowed(userIdentity('team-a', ['alice']))).toEqual([]);
  });

  it('require passes an allowed caller and refuses any other with 403 naming the user, their groups and the action', () => {
    expect(() => rules.require(userIdentity('alice', []), 'adminResources')).not.toThrow();
    expect(() => rules.require(userIdentity('carol', ['team-b']), 'adminResources')).toThrow(
      new MeshAuthError(
        'ERR_FORBIDDEN',
        'user "carol" (groups: team-b, mesh-system:authenticated) is not allowed to adminResources; allowed by access.static.adminResources users/groups',
      ),
    );
    let refusal: unknown;
    try {
      rules.require({ name: 'dave', groups: [] }, 'generateZoneToken');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(MeshAuthError);
    expect({ code: (refusal as MeshAuthError).code, status: (refusal as MeshAuthError).status, message: (refusal as MeshAuthError).message }).toEqual({
      code: 'ERR_FORBIDDEN',
      status: 403,
      message: 'user "dave" (groups: none) is not allowed to generateZoneToken; allowed by access.static.generateZoneToken users/groups',
    });
  });
});

describe('AccessRules.requireAuthenticated', () => {
  it('refuses the anonymous caller with 403 naming what it may not do and how to authenticate', () => {
    let refusal: unknown;
    try {
      rules.requireAuthenticated(anonymous, 'list audit entries');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(MeshAuthError);
    expect({ code: (refusal as MeshAuthError).code, status: (refusal as MeshAuthError).status, message: (refusal as MeshAuthError).message }).toEqual({
      code: 'ERR_FORBIDDEN',
      status: 403,
      message: 'user "mesh-system:anonymous" may not list audit entries; authenticate with a user token',
    });
  });

  it('lets any token holder and the admin through, whatever the access rules allow them', () => {
    expect(() => rules.requireAuthenticated(userIdentity('carol', ['team-b']), 'read')).not.toThrow();
    expect(() => rules.requireAuthenticated(admin, 'read')).not.toThrow();
    // Judged by identity, not by name: only the anonymous identity itself is refused.
    expect(() => rules.requireAuthenticated(userIdentity('nobody', []), 'read')).not.toThrow();
  });
});

describe('identities', () => {
  it('are the names and groups the spec gives', () => {
    expect(admin).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin'] });
    expect(anonymous).toEqual({ name: 'mesh-system:anonymous', groups: ['mesh-system:unauthenticated'] });
    expect(Object.isFrozen(admin) && Object.isFrozen(admin.groups) && Object.isFrozen(anonymous) && Object.isFrozen(anonymous.groups)).toBe(true);
  });

  it('a token holder is its user plus mesh-system:authenticated, once', () => {
    expect(userIdentity('john', ['team-a'])).toEqual({ name: 'john', groups: ['team-a', 'mesh-system:authenticated'] });
    expect(userIdentity('john', ['mesh-system:authenticated', 'team-a'])).toEqual({ name: 'john', groups: ['mesh-system:authenticated', 'team-a'] });
    const groups = ['team-a'];
    userIdentity('john', groups);
    expect(groups).toEqual(['team-a']);
  });
});
