import { MeshAuthError, type ApiApp, type PlaneContext } from '@meshauth/core';

/**
 * Routes only global serves, answered on a zone with where to ask instead of "no route": an
 * operator whose meshctl points at a zone learns that the zones are listed by global and that
 * this zone's own view is GET /sync/status.
 */
export function registerGlobalOnlyRoutes(app: ApiApp, ctx: PlaneContext): void {
  const here = `this is zone control plane "${ctx.zoneName ?? ''}"`;
  app.get('/zones', async () => {
    throw new MeshAuthError(
      'ERR_NOT_FOUND',
      `${here}: the zones are listed by global; ask the global control plane (GET /zones there, meshctl inspect zones with global as the control plane). This zone's own sync status: GET /sync/status (meshctl inspect sync)`,
    );
  });
  app.get('/replicas', async () => {
    throw new MeshAuthError('ERR_NOT_FOUND', `${here}: the global replicas are listed by global; ask the global control plane (GET /replicas there)`);
  });
}
