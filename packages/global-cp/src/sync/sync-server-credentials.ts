import { ServerCredentials } from '@grpc/grpc-js';
import { serverTlsPolicy } from '@meshauth/core';

/**
 * grpcs credentials for the sync port with meshauth's TLS policy (TLS 1.3, or 1.2 with ECDHE and
 * AEAD only, as on 5682).
 *
 * `ServerCredentials.createSsl` takes no TLS options: its HTTP/2 server gets Node's default cipher
 * list (static RSA and CBC included) unless the process-wide GRPC_SSL_CIPHER_SUITES says otherwise,
 * and grpc-js 1.14 has no server counterpart of `credentials.createFromSecureContext`. What it does
 * have is the pair of option sets every ServerCredentials carries, which it spreads into
 * `http2.createSecureServer`: these credentials put the policy there, beside the certificate.
 * The policy sits in the secure-context options, the ones grpc-js would also re-apply on a
 * certificate update, so it can never be left behind.
 */
class PolicyServerCredentials extends ServerCredentials {
  constructor(tls: { cert: string; key: string }) {
    super({ requestCert: false }, { cert: Buffer.from(tls.cert), key: Buffer.from(tls.key), ...serverTlsPolicy });
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function syncServerCredentials(tls: { cert: string; key: string } | undefined): ServerCredentials {
  return tls ? new PolicyServerCredentials(tls) : ServerCredentials.createInsecure();
}
