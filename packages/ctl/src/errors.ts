/**
 * Every error meshctl reports on purpose. `code` is stable (tests and scripts switch on it);
 * the message is a single line meant for stderr, naming the problem and, where it helps, the fix.
 */
export class MeshctlError extends Error {
  readonly code: string = 'ERR_MESHCTL';
  /** Process exit code for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments that commander itself cannot catch (e.g. "one of --jti or --token"). */
export class UsageError extends MeshctlError {
  override readonly code = 'ERR_USAGE';
}

/** The meshctl config file is unreadable, malformed, or names something that is not there. */
export class ConfigError extends MeshctlError {
  override readonly code = 'ERR_CONFIG';
}

/** The control plane could not be reached: refused, unresolvable, timed out, TLS failure. */
export class ConnectionError extends MeshctlError {
  override readonly code = 'ERR_CONNECTION';
}

/** The control plane answered with something meshctl cannot use (too large, not JSON, …). */
export class ResponseError extends MeshctlError {
  override readonly code = 'ERR_RESPONSE';
}

/** A token given on the command line cannot be decoded. */
export class TokenError extends MeshctlError {
  override readonly code = 'ERR_TOKEN';
}

/** An RFC 9457 problem document, as the control planes send with every error. */
export interface Problem {
  type?: string;
  status: number;
  title: string;
  detail?: string;
  /** The control plane's stable error code (ERR_TOKEN_REVOKED, …; README "Errors"). */
  code?: string;
  /** The request id, as the control plane's log lines name it (reqId). */
  instance?: string;
  invalid_parameters?: Array<{ field: string; reason: string }>;
}

/** The control plane answered with a non-2xx status. */
export class ApiError extends MeshctlError {
  override readonly code = 'ERR_API';

  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The command already printed its result and only needs a non-zero exit
 * (e.g. `inspect token --verify` on a revoked token).
 */
export class SilentFailure extends MeshctlError {
  override readonly code = 'ERR_SILENT';
}

/**
 * The line(s) to print for an error: one line normally, the stack (with causes) when verbose.
 * Unexpected errors (bugs) get the same one-line treatment so users never see a raw trace by default.
 * A control plane's refusal names its code the way Node names its own: `Error [ERR_TOKEN_REVOKED]: …`.
 */
export function formatError(err: unknown, verbose: boolean): string {
  if (err instanceof SilentFailure) return '';
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof ApiError ? err.problem?.code : undefined;
  const line = `Error${code ? ` [${code}]` : ''}: ${oneLine(message)}\n`;
  if (!verbose || !(err instanceof Error)) return line;
  return line + stackWithCauses(err) + '\n';
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

function stackWithCauses(err: Error): string {
  const parts = [err.stack ?? String(err)];
  let cause: unknown = err.cause;
  while (cause instanceof Error) {
    parts.push(`Caused by: ${cause.stack ?? cause.message}`);
    cause = cause.cause;
  }
  return parts.join('\n');
}
