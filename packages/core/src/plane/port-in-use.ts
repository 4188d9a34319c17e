import { configError } from '../config/config-error.js';
import { envNameOf } from '../config/load-config.js';

/**
 * A listener that cannot bind because its port is taken (a zone started beside global on the
 * default ports, a second copy of a plane) stops the start with one line naming the setting to
 * change; any other error is returned as it was.
 */
export function explainListenError(error: unknown, port: number, setting: string): unknown {
  const inUse = (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE' || /EADDRINUSE/.test((error as Error | undefined)?.message ?? '');
  if (!inUse) return error;
  return configError(`port ${port} is in use: set ${envNameOf(setting)} (${setting}) to a free port`, error);
}

/** Runs `listen`, turning "address in use" into the line above. */
export async function listenOn<T>(port: number, setting: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw explainListenError(error, port, setting);
  }
}
