/**
 * Every setting with its default, in one literal (units in the comments). The env name of a
 * setting is derived from its path: `apiServer.https.tlsCertFile` → `MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE`.
 * One schema serves both planes, as one kuma-cp config serves global and zone.
 */
export const defaults = {
  environment: 'universal',
  logLevel: 'info' as LogLevel,
  /** `json` (one JSON object a line, for machines) or `text` (one readable line each, for people). */
  logFormat: 'json' as LogFormat,
  store: {
    /** `sqlite` (embedded, one process) or `postgres` (replicas sharing one database). */
    type: 'sqlite' as StoreType,
    sqlite: {
      /** Empty: `./data/global.db` on global, `./data/zone.db` on a zone. */
      path: '',
    },
    /** As Kuma's KUMA_STORE_POSTGRES_*. */
    postgres: {
      host: '127.0.0.1',
      port: 5432,
      user: 'meshauth',
      /** Never logged. */
      password: '',
      dbName: 'meshauth',
      /** disable | verifyNone | verifyCa | verifyFull (libpq's disable, require, verify-ca, verify-full). */
      tlsMode: 'disable' as PostgresTlsMode,
      /** PEM file of the CA that signed the server's certificate (verifyCa, verifyFull). */
      tlsCaPath: '',
      /** Pool size per process; the LISTEN and lease connections come on top. */
      maxOpenConnections: 20,
    },
  },
  apiServer: {
    /** Bytes; bigger request bodies get 413. */
    bodyLimit: 1_048_576,
    http: { port: 5681, interface: '0.0.0.0' },
    https: { enabled: true, port: 5682, interface: '0.0.0.0', tlsCertFile: '', tlsKeyFile: '' },
    authn: {
      type: 'tokens' as AuthnType,
      localhostIsAdmin: true,
      tokens: {
        bootstrapAdminToken: true,
        /** Go duration: the longest `validFor` a user token may be issued with. */
        maxValidFor: '8760h',
      },
      clientCerts: {
        /** A PEM file, or a directory of PEM files, of CAs trusted for admin client certificates. */
        caFile: '',
      },
    },
  },
  access: {
    static: {
      adminResources: { users: [] as string[], groups: ['mesh-system:admin'] },
      generateUserToken: { users: [] as string[], groups: ['mesh-system:admin'] },
      generateDpToken: { users: [] as string[], groups: ['mesh-system:admin'] },
      generateZoneToken: { users: [] as string[], groups: ['mesh-system:admin'] },
    },
  },
  multizone: {
    global: {
      syncPort: 5685,
      syncInterface: '0.0.0.0',
      /** The most a zone may receive: off | public | private. */
      syncUserTokenKeys: 'public' as SyncMode,
      /** Change-log entries kept for deltas; a zone further behind gets a snapshot. */
      changeLogRetention: 1_000_000,
      tlsCertFile: '',
      tlsKeyFile: '',
    },
    zone: {
      name: '',
      /**
       * `grpc://host:5685` or `grpcs://host:5685`; empty: no sync. A comma-separated list names
       * several global replicas: dialed in the order given, the next one when a stream fails.
       */
      globalAddress: '',
      globalTokenFile: '',
      globalCaFile: '',
      /** What this zone asks for: off | public | private. */
      syncUserTokenKeys: 'off' as SyncMode,
      /** `keep`, or `deny-after:<duration>`. */
      downPolicy: 'keep',
      /** Go duration between heartbeats (sent in an interval in which the zone sent nothing else); a stream silent for three of them is re-established (a hello global has not answered, after twelve). */
      heartbeatInterval: '5s',
      /** Go durations bounding reconnect backoff. */
      reconnectMinBackoff: '200ms',
      reconnectMaxBackoff: '30s',
    },
  },
  audit: {
    /** Also append each audit entry to this file as a JSON line (for shipping to a SIEM); empty: the store only. */
    file: '',
    /** Go duration: entries older than this are pruned (90 days). */
    retention: '2160h',
  },
  dpServer: { port: 5678, interface: '0.0.0.0' },
  /** As Kuma's diagnostics server: `GET /ready` and `GET /healthy` (probes, compose healthchecks). */
  diagnostics: { serverPort: 5680, serverInterface: '0.0.0.0' },
  metrics: { enabled: true },
};

export type LogFormat = 'json' | 'text';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type AuthnType = 'tokens' | 'adminClientCerts';
export type SyncMode = 'off' | 'public' | 'private';
export type StoreType = 'sqlite' | 'postgres';
export type PostgresTlsMode = 'disable' | 'verifyNone' | 'verifyCa' | 'verifyFull';

type Widen<T> = T extends string
  ? T
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer U)[]
        ? Widen<U>[]
        : { [K in keyof T]: Widen<T[K]> };

export type MeshAuthConfig = Widen<typeof defaults>;
