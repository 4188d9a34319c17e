// The public surface of @meshauth/core: every export named here, nothing by `export *`.
export { MeshAuthError, errorRegistry, badRequest, isMeshAuthError, type ErrorCode, type InvalidParameter } from './errors.js';
export { parseDuration, formatDuration } from './duration.js';
export { systemClock, createManualClock, type Clock } from './clock.js';

export { defaults, type MeshAuthConfig, type SyncMode, type AuthnType, type LogFormat, type LogLevel, type StoreType } from './config/defaults.js';
export { configError } from './config/config-error.js';
export { loadConfig, envNameOf, knownEnvNames, settingPaths, ENV_PREFIX } from './config/load-config.js';

export type {
  Store,
  StoreReads,
  StoreTx,
  StoreLease,
  SigningKeyRow,
  RevocationRow,
  RevokedJti,
  SecretRow,
  ChangeRow,
  ChangeHint,
  CommittedVersion,
  NewChange,
  VersionInfo,
  ZoneStatusRow,
  InstanceRow,
  IssuedTokenRow,
  IssuedTokenQuery,
  AuditRow,
  NewAuditRow,
  AuditQuery,
} from './store/store.js';
export { openStore } from './store/open-store.js';
// The implementations, for tests and benchmarks that build a store directly; the daemons use openStore.
export { SQLITE_PROFILES, SqliteStore, storeError, type SqliteProfile } from './store/sqlite-store.js';
export { PostgresStore, type PostgresSettings } from './store/postgres-store.js';
export { ChangeFeed, CATCH_UP_INTERVAL_MS, type AppliedVersion } from './replication/change-feed.js';

export { decodeJws, encodeSigningInput, signRs256, verifyRs256, JwsFormatError, type DecodedJws } from './tokens/jws-rs256.js';
export { generateRsaPrivateKeyPem, parseKeyPem, importSigningKey, MIN_RSA_BITS, type SigningKey } from './tokens/signing-key.js';
export { KeyRing } from './tokens/key-ring.js';
export { RevocationSet } from './tokens/revocation-set.js';
export { isCanonicalUuid, readUuids, UUID_BYTES } from './tokens/uuid-jti.js';
export { TokenFamily, emptyFamilyChange, type AlsoInTransaction, type TokenFamilyName, type FamilyChange, type SyncedBatch } from './tokens/token-family.js';
export { userTokenFamily, zoneTokenFamily, dataplaneTokenFamily } from './tokens/family-names.js';
export { TokenFamilies, type TokenKind, type SecretView } from './tokens/token-families.js';
export { TokenIssuer, NOT_BEFORE_SKEW_SECONDS, type SignedToken } from './tokens/token-issuer.js';
export { IssuedTokenRecords, MAX_RECORDS, type IssuedSubject, type UserSubject, type IssuedTokenView } from './tokens/issued-token-records.js';
export { AuditLog, toAuditEntry, type AuditAction, type AuditActor, type AuditEvent, type AuditEntry } from './audit/audit-log.js';
export { createAuditFileSink, type AuditSink } from './audit/audit-file-sink.js';
export { TokenVerifier, MAX_TOKEN_BYTES, type SignatureCheck, type TokenVerifierOptions, type HeldToken } from './tokens/token-verifier.js';
export {
  checkStandardClaims,
  checkUserClaims,
  checkZoneClaims,
  checkDataplaneClaims,
  zoneScopes,
  type StandardClaims,
  type UserClaims,
  type ZoneClaims,
  type ZoneScope,
  type DataplaneClaims,
} from './tokens/claims.js';

export { admin, anonymous, userIdentity, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, type Identity } from './authn/identity.js';
export { isLocalhostAdminRequest, type RequestOrigin } from './authn/localhost-admin.js';
export { createAuthenticator, bearerToken, type AuthnRequest } from './authn/authenticator.js';
export { AccessRules, type AccessAction, type AccessRule } from './authn/access-rules.js';

export { createLogger, redactPaths, type Logger } from './observability/logger.js';
export { createMetrics, registerGauge, type Metrics } from './observability/metrics.js';
export { createRefusalLogLimiter, refusalLogDefaults, type RefusalLogLimiter, type RefusalLogLimits } from './observability/refusal-log-limiter.js';
export { parseRequestTarget, shownPath, MAX_SHOWN_PATH_CHARS, type RequestTarget } from './http/request-target.js';

export { createApiApp, type ApiApp, type ApiAppOptions } from './api/create-api-app.js';
export type { PlaneContext } from './api/plane-context.js';
export { sendProblem, problemHandlers, type Problem, type ProblemHandlers } from './api/problem.js';
export { problems, json, text, exactly, isoTime, isoTimeOrNull } from './api/openapi/responses.js';
export { parseValidFor, decodeBase64, resourceNamePattern, meshNamePattern } from './api/validate.js';
export { SecretViews, type SecretResource } from './api/secret-views.js';
export { registerZoneTokenRoutes } from './api/routes/zone-tokens.js';
export { registerDataplaneTokenRoutes, dataplaneTypes } from './api/routes/dataplane-tokens.js';

export { issueDataplaneToken, type DataplaneTokenRequest, type DataplaneTokenIssuingDeps, type IssueRecording } from './dataplane/issue-dataplane-token.js';
export { verifyBootstrap, type BootstrapRequest, type DataplaneIdentity } from './dataplane/verify-bootstrap.js';
export { BootstrapRefusal, type BootstrapRefusalReason } from './dataplane/bootstrap-refusal.js';
export { createDpServerApp, startDpServer, type DpServer, type DpServerOptions, type BootstrapProblem } from './dataplane/dp-server.js';

export { createPlaneContext, meshauthVersion, type PlaneContextOptions } from './plane/create-plane-context.js';
export { startApiListeners, type ApiListeners } from './plane/api-listeners.js';
export { adminTokenHint, ensureSigningKey, ensureAdminToken, ADMIN_TOKEN_SECRET } from './plane/bootstrap-credentials.js';
export { loadServerCertificate, type ServerCertificate, type ServerCertificateOptions } from './plane/server-certificate.js';
export { loadClientCa } from './plane/client-ca.js';
export { runUntilSignal } from './plane/daemon-lifecycle.js';
export { startDiagnosticsServer, type DiagnosticsServer, type Readiness } from './plane/diagnostics-server.js';
export { explainListenError, listenOn } from './plane/port-in-use.js';
export { newInstanceId } from './plane/instance-id.js';
export { startLeaderWork, type LeaderTask, type LeaderWork } from './plane/leader-work.js';
export { recordPruningTasks } from './plane/record-pruning.js';

export {
  generateCertificate,
  generateCertificateAuthority,
  serverTlsPolicy,
  type CertificateType,
  type CertificateAndKey,
  type GenerateCertificateOptions,
  type GenerateCertificateAuthorityOptions,
} from './tls/index.js';

export { syncProto, protoRoot, syncLoaderOptions } from './sync/sync-proto.js';
export { EncodedGlobalMessage, syncServiceForServer, type OutgoingGlobalMessage } from './sync/encoded-message.js';
export { effectiveSyncMode, toProtoMode, fromProtoMode } from './sync/sync-mode.js';
export { BatchEncoder, encodeBatch, MAX_SYNC_MESSAGE_BYTES } from './sync/batch-encoder.js';
export { BULK_SLICE_ROWS, yieldToLoop } from './yield-to-loop.js';
export { releaseGarbage } from './memory/release-garbage.js';
export { BatchReceiver, SyncBatchError, type ReceivedBatch } from './sync/batch-receiver.js';
export { emptyContent, type SyncContent, type SyncKey, type SyncRevocation, type BatchHeader, type BatchKind } from './sync/sync-content.js';
export type { GlobalMessage, GlobalMessage__Output } from './gen/meshauth/v1/GlobalMessage.js';
export type { ZoneMessage, ZoneMessage__Output } from './gen/meshauth/v1/ZoneMessage.js';
export type { Batch, Batch__Output } from './gen/meshauth/v1/Batch.js';
export type { Hello__Output } from './gen/meshauth/v1/Hello.js';
export type { GlobalSyncClient, GlobalSyncHandlers } from './gen/meshauth/v1/GlobalSync.js';
