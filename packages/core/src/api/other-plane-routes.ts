/**
 * Routes only one plane serves. Asked of the other plane they are still a 404, but one that says
 * where to ask instead of "no route": an operator whose meshctl points at a zone learns that the
 * zones are listed by global, and that the zone's own view is GET /sync/status. They are not
 * registered as routes, so neither plane's /openapi.json claims them.
 */
export interface PlaneIdentity {
  plane: 'global' | 'zone';
  zoneName: string | undefined;
}

const onlyOnGlobal: Record<string, (here: string) => string> = {
  'GET /zones': (here) =>
    `${here}: the zones are listed by global; ask the global control plane (GET /zones there, meshctl inspect zones with global as the control plane). This zone's own sync status: GET /sync/status (meshctl inspect sync)`,
  'GET /replicas': (here) => `${here}: the global replicas are listed by global; ask the global control plane (GET /replicas there)`,
};

const onlyOnZones: Record<string, (here: string) => string> = {
  'GET /sync/status': (here) =>
    `${here}: a sync status is a zone's own view of its stream; ask the zone control plane (GET /sync/status there, meshctl inspect sync with the zone as the control plane). Every zone as global sees it: GET /zones (meshctl inspect zones)`,
};

/** The 404 detail for a route the other plane serves, or undefined for a route neither does. */
export function otherPlaneRouteDetail(plane: PlaneIdentity, method: string, path: string): string | undefined {
  const key = `${method === 'HEAD' ? 'GET' : method} ${path}`;
  if (plane.plane === 'zone') return onlyOnGlobal[key]?.(`this is zone control plane "${plane.zoneName ?? ''}"`);
  return onlyOnZones[key]?.('this is the global control plane');
}
