import { ConnectionError } from './errors.js';

/** Socket-level failures, phrased for someone who just typed a command. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary DNS failure)',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server',
};

/** Certificate problems, each with what the server presented. */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in an untrusted self-signed CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a trusted CA',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port (use http:// or the HTTPS port)',
};

/** Failures that trusting the right CA would fix. */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

export interface TransportContext {
  /** The control plane config names a CA (--ca-cert-file). */
  caConfigured?: boolean;
}

/**
 * Turns an error from node:http/https into one line naming the address and the cause,
 * e.g. "cannot reach control plane at http://localhost:5681: connection refused".
 */
export function describeTransportError(err: unknown, address: string, context: TransportContext = {}): ConnectionError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  const network = NETWORK_REASONS[code];
  if (network !== undefined) {
    const hint = code === 'ECONNRESET' && address.startsWith('http:') ? ' (if this is the HTTPS port, use an https:// address)' : '';
    return new ConnectionError(`cannot reach control plane at ${address}: ${network}${hint}`, { cause: err });
  }
  const tls = TLS_REASONS[code];
  if (tls !== undefined) {
    const hint = UNTRUSTED_CODES.has(code)
      ? context.caConfigured
        ? '; the CA in --ca-cert-file did not sign it'
        : '; set --ca-cert-file (or --skip-verify) on the control plane'
      : '';
    return new ConnectionError(`TLS error talking to control plane at ${address}: ${tls} (${code})${hint}`, {
      cause: err,
    });
  }
  const openSslReason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
  if (openSslReason !== undefined) {
    return new ConnectionError(`TLS error talking to control plane at ${address}: ${describeOpenSslReason(openSslReason)}`, {
      cause: err,
    });
  }
  if (isTlsCode(code)) {
    return new ConnectionError(`TLS error talking to control plane at ${address}: ${message} (${code})`, {
      cause: err,
    });
  }
  const suffix = code === '' ? '' : ` (${code})`;
  return new ConnectionError(`cannot reach control plane at ${address}: ${message}${suffix}`, { cause: err });
}

/** Node 20 reports handshake failures as EPROTO with OpenSSL's own reason in the message. */
function describeOpenSslReason(reason: string): string {
  if (reason === 'wrong version number') return TLS_REASONS['ERR_SSL_WRONG_VERSION_NUMBER'] ?? reason;
  if (reason.includes('alert certificate required')) {
    return 'the server requires a client certificate (set --client-cert-file and --client-key-file)';
  }
  if (reason.includes('alert bad certificate') || reason.includes('alert unknown ca')) {
    return `the server refused the client certificate (${reason})`;
  }
  return reason;
}

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.startsWith('ERR_OSSL') || code.includes('CERT');
}
