import { MeshAuthError } from '../errors.js';
import { anonymous, type Identity } from './identity.js';

export type AccessAction = 'adminResources' | 'generateUserToken' | 'generateDpToken' | 'generateZoneToken';

export interface AccessRule {
  users: readonly string[];
  groups: readonly string[];
}

/** Static access rules, like Kuma's `access.static`. */
export class AccessRules {
  constructor(private readonly rules: Record<AccessAction, AccessRule>) {}

  allows(identity: Identity, action: AccessAction): boolean {
    const rule = this.rules[action];
    return rule.users.includes(identity.name) || identity.groups.some((g) => rule.groups.includes(g));
  }

  /** Routes open to anyone with a token (or localhost admin): 403 for the anonymous caller. */
  requireAuthenticated(identity: Identity, what: string): void {
    if (identity === anonymous) {
      throw new MeshAuthError('ERR_FORBIDDEN', `user "${anonymous.name}" may not ${what}; authenticate with a user token`);
    }
  }

  /** Throws 403 naming the user and the action. */
  require(identity: Identity, action: AccessAction): void {
    if (!this.allows(identity, action)) {
      throw new MeshAuthError(
        'ERR_FORBIDDEN',
        `user "${identity.name}" (groups: ${identity.groups.join(', ') || 'none'}) is not allowed to ${action}; ` +
          `allowed by access.static.${action} users/groups`,
      );
    }
  }
}
