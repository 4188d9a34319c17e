/** Who a request acts as. */
export interface Identity {
  name: string;
  groups: string[];
}

export const AUTHENTICATED_GROUP = 'mesh-system:authenticated';
export const UNAUTHENTICATED_GROUP = 'mesh-system:unauthenticated';

export const admin: Identity = Object.freeze({ name: 'mesh-system:admin', groups: Object.freeze(['mesh-system:admin']) as string[] });
export const anonymous: Identity = Object.freeze({
  name: 'mesh-system:anonymous',
  groups: Object.freeze([UNAUTHENTICATED_GROUP]) as string[],
});

export function userIdentity(name: string, groups: string[]): Identity {
  return { name, groups: groups.includes(AUTHENTICATED_GROUP) ? groups : [...groups, AUTHENTICATED_GROUP] };
}
