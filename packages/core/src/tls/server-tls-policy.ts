/**
 * What every TLS port meshauth serves offers (the HTTPS API on 5682 and the sync port): TLS 1.3,
 * and TLS 1.2 with ECDHE key exchange and AEAD ciphers only. Node's default list also accepts
 * static-RSA key exchange (a recorded session is readable by whoever later gets the server key:
 * no forward secrecy) and CBC suites (the source of padding-oracle and Lucky13-style attacks).
 *
 * The list is Mozilla's "intermediate" configuration without its three DHE-RSA suites: Node only
 * offers DHE with a configured `dhparam`, and ECDHE covers every client that intermediate targets.
 * Mozilla also leaves the choice of suite to the client (no server preference): every suite here is
 * strong, and the client knows whether it has AES hardware or should prefer ChaCha20.
 */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/**
 * Options for `tls.createSecureContext` / `https.createServer`. Node reads the TLS 1.3 suites from
 * the same `ciphers` string (the `TLS_` names); leaving them out would switch TLS 1.3 off.
 */
export const serverTlsPolicy = Object.freeze({
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
} as const);
