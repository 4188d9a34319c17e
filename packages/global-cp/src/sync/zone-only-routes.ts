import { MeshAuthError, type ApiApp } from '@meshauth/core';

/**
 * GET /sync/status is a zone's own view of its stream; on global it says where to ask instead
 * of "no route", and where global's view of every zone is.
 */
export function registerZoneOnlyRoutes(app: ApiApp): void {
  app.get('/sync/status', async () => {
    throw new MeshAuthError(
      'ERR_NOT_FOUND',
      'this is the global control plane: a sync status is a zone\'s own view of its stream; ask the zone control plane (GET /sync/status there, meshctl inspect sync with the zone as the control plane). Every zone as global sees it: GET /zones (meshctl inspect zones)',
    );
  });
}
