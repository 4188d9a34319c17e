export { startGlobalControlPlane, type GlobalControlPlane, type StartGlobalOptions } from './global-control-plane.js';
