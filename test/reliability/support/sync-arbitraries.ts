import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';

/** Real key material, so some generated keys parse and the checks behind parsing are reached too. */
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const realPublicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
export const realPrivatePem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

const modes = fc.constantFrom('SYNC_MODE_UNSPECIFIED', 'SYNC_MODE_OFF', 'SYNC_MODE_PUBLIC', 'SYNC_MODE_PRIVATE');
const versions = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 32 }), fc.constant(Number.MAX_SAFE_INTEGER));
/** What global gives a version: 16 hex characters. */
const versionId = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((bytes) => Buffer.from(bytes).toString('hex'));
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'x'.repeat(5000), '../../etc/passwd', "'; DROP TABLE revocations;--", '\u0000'));
export const EPOCH = 'fuzz-epoch';
const epochs = fc.oneof({ weight: 3, arbitrary: fc.constant(EPOCH) }, text);

const pems = fc.oneof(fc.constant(realPublicPem), fc.constant(realPrivatePem), text, fc.constant(realPublicPem.replace('A', 'B')));
const signingKey = fc.record({
  serial: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(0), fc.constant(2 ** 32 - 1)),
  publicPem: pems,
  privatePem: fc.oneof(fc.constant(''), pems),
  createdAtMs: fc.oneof(fc.nat(), fc.integer({ min: -(2 ** 40), max: 2 ** 50 })),
});
const revocation = fc.record({
  jti: fc.oneof(fc.uuid(), text, fc.constant('j'.repeat(200))),
  expiresAtMs: fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 40), max: 2 ** 50 })),
});

/** One Batch message as the proto describes it, every field drawn from valid and hostile values. */
export const batchMessage = fc.record({
  kind: fc.constantFrom('KIND_UNSPECIFIED', 'KIND_SNAPSHOT', 'KIND_DELTA'),
  epoch: epochs,
  fromVersion: versions,
  toVersion: versions,
  toVersionId: fc.oneof(fc.constant(''), versionId, text),
  chunk: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.constant(2 ** 32 - 1)),
  last: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  keys: fc.array(signingKey, { maxLength: 3 }),
  removedKeySerials: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
  addedRevocations: fc.array(revocation, { maxLength: 5 }),
  removedJtis: fc.array(fc.oneof(fc.uuid(), text), { maxLength: 3 }),
  committedAtMs: fc.oneof(fc.nat(), fc.integer({ min: -(2 ** 40), max: 2 ** 50 })),
});

/** A well-formed snapshot now and then, so the fuzz also exercises accepted batches. */
export const validSnapshot = fc.record({
  kind: fc.constant('KIND_SNAPSHOT'),
  epoch: fc.constant(EPOCH),
  fromVersion: fc.constant(0),
  toVersion: fc.integer({ min: 1, max: 1000 }),
  toVersionId: versionId,
  chunk: fc.constant(0),
  last: fc.constant(true),
  keys: fc.constant([{ serial: 1, publicPem: realPublicPem, privatePem: '', createdAtMs: 1 }]),
  removedKeySerials: fc.constant([]),
  addedRevocations: fc.array(fc.record({ jti: fc.uuid(), expiresAtMs: fc.constant(0) }), { maxLength: 5 }),
  removedJtis: fc.constant([]),
  committedAtMs: fc.nat(),
});

export const welcomeMessage = fc.record({ effectiveMode: fc.oneof({ weight: 3, arbitrary: fc.constant('SYNC_MODE_PUBLIC') }, modes), epoch: epochs, version: versions });

/** What a hostile or broken zone might send global. */
export const zoneMessage = fc.oneof(
  fc.record({ hello: fc.record({ zone: fc.oneof(fc.constant('zone-1'), text), mode: modes, epoch: text, appliedVersion: versions, appliedVersionId: fc.oneof(fc.constant(''), text), appliedMode: modes, heartbeatIntervalMs: fc.oneof(fc.constant(0), fc.constant(1), fc.constant(2 ** 32 - 1), fc.integer({ min: 100, max: 5000 })), softwareVersion: text }) }),
  fc.record({ ack: fc.record({ version: versions }) }),
  fc.record({ nack: fc.record({ version: versions, reason: text }) }),
  fc.record({ heartbeat: fc.record({ sentAtMs: fc.integer({ min: -(2 ** 40), max: 2 ** 50 }) }) }),
);
