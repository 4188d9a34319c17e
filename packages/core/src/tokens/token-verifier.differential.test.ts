import { generateKeyPairSync, randomBytes, sign as rsaSign } from 'node:crypto';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError } from '../errors.js';
import { checkUserClaims, type UserClaims } from './claims.js';
import { KeyRing } from './key-ring.js';
import { RevocationSet } from './revocation-set.js';
import { importSigningKey, type SigningKey } from './signing-key.js';
import { MAX_TOKEN_BYTES, TokenVerifier } from './token-verifier.js';

/**
 * meshauth's verifier against jose as the reference, over generated and mutated tokens: both must
 * accept and refuse the same tokens, and agree on the claims of those they accept.
 *
 * jose alone is more lenient than the contract (SPEC §3), so the reference is jose plus the rules
 * meshauth adds on purpose, each stated in `stricterRules` below. A disagreement is either a bug in
 * meshauth's hand-written verifier or a rule missing from that list: both are worth a failure.
 *
 * Fixed seed by default, so a run is reproducible; MESHAUTH_FUZZ_SEED=<n> tries another.
 * MESHAUTH_FUZZ_RUNS lowers the count where the test runs once per mutant (pnpm test:mutation).
 */
const SEED = Number(process.env.MESHAUTH_FUZZ_SEED ?? 20_251_113);
const RUNS = Number(process.env.MESHAUTH_FUZZ_RUNS ?? 10_000);
const NOW_S = 1_700_000_000;
const clock = createManualClock(NOW_S * 1000);

function rsaKey(serial: number): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return importSigningKey({
    serial,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    createdAt: 0,
    origin: 'local',
  });
}

// Serial 10 is there for the kid that is not one digit; serial 3 was rotated out.
const present = [rsaKey(1), rsaKey(2), rsaKey(10)];
const stranger = rsaKey(1);
const ROTATED_OUT = '3';
const keys = new KeyRing();
for (const key of present) keys.set(key);
keys.rememberRemoved([3]);
const REVOKED_JTI = 'revoked-0b5f3c1e';
const revocations = new RevocationSet();
revocations.add(REVOKED_JTI);
const verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims });

const signer = keys.signer!;
const jwks = createLocalJWKSet({
  keys: await Promise.all(present.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: String(k.serial), alg: 'RS256', use: 'sig' }))),
});
/**
 * jose's key lookup: the key the kid names; for a token without a string kid, the current signing
 * key, as jose does with a key set of one key (a common setup) — so the kid rule below is reached.
 */
const joseKey: JWTVerifyGetKey = (header, token) => (typeof header.kid === 'string' ? jwks(header, token) : signer.publicKey);
const presentKids = new Set(present.map((k) => String(k.serial)));

// --- the tokens ----------------------------------------------------------------------------

const MISSING = Symbol('missing');
/** JSON text written as is: a nested object that repeats a member name, or a number JSON.stringify would not write. */
class Raw {
  constructor(
    readonly text: string,
    readonly duplicate = false,
  ) {}
}
type Value = unknown;
/** An object as its members in order; unlike an object literal it can name a member twice. */
type Members = [name: string, value: Value][];

interface JsonStyle {
  /** Spaces and newlines between the tokens (meshauth's compact fast path is skipped then). */
  spaced: boolean;
  /** Writes the first member's name with a \u escape (`"\u0061lg"` is `"alg"`). */
  escapeFirstName: boolean;
}

function writeObject(members: Members, style: JsonStyle): { text: string; duplicate: boolean } {
  const names = members.map(([name]) => name);
  let duplicate = new Set(names).size !== names.length;
  const sep = style.spaced ? ' \n' : '';
  const parts = members.map(([name, value], i) => {
    if (value instanceof Raw) duplicate ||= value.duplicate;
    const key = i === 0 && style.escapeFirstName && name.length > 0 ? `"\\u${name.charCodeAt(0).toString(16).padStart(4, '0')}${JSON.stringify(name).slice(2)}` : JSON.stringify(name);
    return `${key}${sep}:${sep}${value instanceof Raw ? value.text : JSON.stringify(value)}`;
  });
  return { text: `{${sep}${parts.join(`,${sep}`)}${sep}}`, duplicate };
}

const withoutMissing = <T>(members: [string, T | typeof MISSING][]): Members => members.filter((m): m is [string, T] => m[1] !== MISSING);
/** Mostly `common`: a token is then usually one change away from valid, so every rule gets reached. */
const weighted = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ arbitrary: common, weight: 10 * rare.length }, ...rare.map((arbitrary) => ({ arbitrary, weight: 1 })));
/** null mostly, else a value of `arbitrary`: one token in `oneIn`. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ arbitrary: fc.constant(null), weight: oneIn - 1 }, { arbitrary, weight: 1 });
const missing = fc.constant(MISSING);

const headerArb = fc.record({
  alg: weighted(fc.constant<Value>('RS256'), fc.constantFrom<Value>('none', 'HS256', 'RS512', 'PS256', 'rs256', '', 1, null), missing),
  kid: weighted(fc.constantFrom<Value>('1', '2', '10'), fc.constantFrom<Value>(ROTATED_OUT, '11', '01', '0', ' 1', '1 ', '1.0', '1e1', '', '99999999999999999'), fc.constantFrom<Value>(1, 10, null, ['1']), missing),
  typ: weighted(fc.constant<Value>('JWT'), fc.constantFrom<Value>('jwt', 'at+jwt', 7), missing),
  // jose understands the b64 extension (then with a b64 member, added below); meshauth understands none.
  crit: weighted(missing, fc.constant<Value>(['b64']), fc.constantFrom<Value>(['exp'], [], null, 'b64')),
  extra: rarely(fc.constantFrom<[string, Value]>(['b64', true], ['b64', false], ['jku', 'https://evil.example/jwks'], ['x5c', []], ['__proto__', {}], ['zip', 'DEF']), 5),
  // A second member of a name already there, before or after the first.
  twice: rarely(fc.record({ name: fc.constantFrom('alg', 'kid', 'typ'), value: fc.constantFrom<Value>('RS256', 'none', '1', '2', 'JWT'), before: fc.boolean() }), 12),
  reversed: fc.boolean(),
});

const stringArray = fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 });
const payloadArb = fc.record({
  Name: weighted(fc.oneof(fc.constant<Value>('john'), fc.string({ minLength: 1, maxLength: 20 })), fc.constantFrom<Value>('', 42, null, ['john']), missing),
  Groups: weighted(stringArray as fc.Arbitrary<Value>, fc.constantFrom<Value>('team-a', [1], [null], {}, null), missing),
  exp: weighted(
    fc.integer({ min: NOW_S + 1, max: NOW_S + 86_400 }) as fc.Arbitrary<Value>,
    fc.constantFrom<Value>(NOW_S, NOW_S - 1, NOW_S + 0.5, NOW_S - 0.5, String(NOW_S + 60), null, true, new Raw('1e400'), new Raw('-1e400'), 1e300),
    missing,
  ),
  nbf: weighted(
    fc.integer({ min: NOW_S - 86_400, max: NOW_S }) as fc.Arbitrary<Value>,
    fc.constantFrom<Value>(NOW_S + 1, NOW_S + 0.5, NOW_S - 0.5, String(NOW_S), null, new Raw('-1e400'), new Raw('1e400')),
    missing,
  ),
  iat: weighted(fc.constant<Value>(NOW_S), fc.constantFrom<Value>(NOW_S + 3_600, String(NOW_S), null, new Raw('1e400')), missing),
  jti: weighted(fc.uuid() as fc.Arbitrary<Value>, fc.constantFrom<Value>(REVOKED_JTI, '', 7, null, 'j'.repeat(128), 'j'.repeat(129)), missing),
  extra: rarely(fc.constantFrom<[string, Value]>(
      ['iss', 'https://global'],
      ['aud', ['zone-1']],
      ['Tags', { k: ['v'] }],
      ['Tags', new Raw('{"k":["v"],"k":["w"]}', true)],
      ['nested', new Raw('[{"a":1},{"a":2}]')],
      ['__proto__', { Name: 'admin' }],
      ['constructor', 'x'],
    ),
    4,
  ),
  twice: rarely(fc.record({ name: fc.constantFrom('Name', 'Groups', 'exp', 'jti'), value: fc.constantFrom<Value>('admin', ['mesh-system:admin'], NOW_S + 60, 'other-jti'), before: fc.boolean() }), 12),
  // Straddles 8 KiB: a token of this padding is just under or just over it.
  padding: rarely(fc.integer({ min: 5_600, max: 6_200 }), 12),
  reversed: fc.boolean(),
});

/** Changes to a part's bytes or text; 'none' mostly, so most tokens are only one step from valid. */
const textMutationArb = weighted(fc.constant('none'), fc.constantFrom('bom', 'invalid-utf8', 'truncate', 'not-an-object', 'padding', 'whitespace', 'plus-slash', 'non-ascii', 'empty'));
const signatureArb = weighted(
  fc.constant('valid'),
  fc.constantFrom('other-key', 'stranger', 'random', 'empty', 'drop-byte', 'add-byte', 'flip-bit', 'padding', 'whitespace', 'other-input'),
);
const structureArb = weighted(fc.constant('three-parts'), fc.constantFrom('two-parts', 'four-parts', 'leading-dot', 'trailing-dot'));

/** Which part (0 header, 1 payload, 2 signature) gets another text for the same bytes, if any. */
const caseArbitrary = (sameBytesOtherText: fc.Arbitrary<0 | 1 | 2 | null>) => fc.record({
  header: headerArb,
  headerStyle: fc.record({ spaced: weighted(fc.constant(false), fc.constant(true)), escapeFirstName: weighted(fc.constant(false), fc.constant(true)) }),
  headerMutation: textMutationArb,
  payload: payloadArb,
  payloadStyle: fc.record({ spaced: weighted(fc.constant(false), fc.constant(true)), escapeFirstName: weighted(fc.constant(false), fc.constant(true)) }),
  payloadMutation: textMutationArb,
  signature: signatureArb,
  structure: structureArb,
  /** Which byte or character a mutation touches, as a fraction of the part. */
  at: fc.noBias(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })),
  sameBytesOtherText,
});
const caseArb = caseArbitrary(fc.constant(null));
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function withTwice(members: Members, twice: { name: string; value: Value; before: boolean } | null): Members {
  if (!twice) return members;
  return twice.before ? [[twice.name, twice.value], ...members] : [...members, [twice.name, twice.value]];
}

function headerMembers(h: Case['header']): Members {
  const members = withoutMissing<Value>([
    ['alg', h.alg],
    ['kid', h.kid],
    ['typ', h.typ],
    ['crit', h.crit],
  ]);
  if (h.extra) members.push(h.extra);
  else if (Array.isArray(h.crit) && h.crit[0] === 'b64') members.push(['b64', true]);
  return withTwice(h.reversed ? members.reverse() : members, h.twice);
}

function payloadMembers(p: Case['payload']): Members {
  const members = withoutMissing<Value>([
    ['Name', p.Name],
    ['Groups', p.Groups],
    ['exp', p.exp],
    ['nbf', p.nbf],
    ['iat', p.iat],
    ['jti', p.jti],
  ]);
  if (p.extra) members.push(p.extra);
  if (p.padding !== null) members.push(['pad', 'x'.repeat(p.padding)]);
  return withTwice(p.reversed ? members.reverse() : members, p.twice);
}

const b64u = (bytes: Buffer) => bytes.toString('base64url');
const index = (length: number, at: number) => Math.min(length - 1, Math.floor(at * length));

/** A JSON text's bytes, base64url-encoded, changed as the mutation says. */
function encodePart(text: string, mutation: string, at: number): string {
  let bytes = Buffer.from(text);
  if (mutation === 'bom') bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
  // Inside the last string (JSON.parse would take the replacement character), where only a UTF-8 check refuses it.
  const lastQuote = Math.max(0, text.lastIndexOf('"'));
  if (mutation === 'invalid-utf8') bytes = Buffer.concat([bytes.subarray(0, lastQuote), Buffer.from([0xc3]), bytes.subarray(lastQuote)]);
  if (mutation === 'truncate') bytes = bytes.subarray(0, index(bytes.length, at));
  if (mutation === 'not-an-object') bytes = Buffer.from(JSON.stringify([JSON.parse(text)]));
  const part = b64u(bytes);
  const i = index(part.length, at);
  switch (mutation) {
    case 'padding':
      return `${part}${'='.repeat((4 - (part.length % 4)) % 4 || 2)}`;
    case 'whitespace':
      return `${part.slice(0, i)} ${part.slice(i)}`;
    case 'plus-slash':
      return part.includes('-') || part.includes('_') ? part.replace(/-/g, '+').replace(/_/g, '/') : `${part.slice(0, i)}+${part.slice(i)}`;
    case 'non-ascii':
      return `${part.slice(0, i)}é${part.slice(i)}`;
    case 'empty':
      return '';
    default:
      return part;
  }
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Another text for the same bytes: a set unused low bit in the last character, or (when the part
 * has no unused bits) a dangling sixth-bit character. Canonical encoders never write either.
 */
function sameBytesOtherText(part: string): string {
  if (part.length % 4 === 0) return `${part}A`;
  return `${part.slice(0, -1)}${alphabet[alphabet.indexOf(part.at(-1)!) ^ 1]}`;
}

function signatureFor(input: string, c: Case, kid: Value): string {
  const named = present.find((k) => String(k.serial) === kid) ?? signer;
  const signWith = (key: SigningKey, data = input) => rsaSign('sha256', Buffer.from(data), key.privateKey!);
  let bytes: Buffer;
  switch (c.signature) {
    case 'other-key':
      bytes = signWith(present.find((k) => k !== named)!);
      break;
    case 'stranger':
      bytes = signWith(stranger);
      break;
    case 'random':
      bytes = randomBytes(256);
      break;
    case 'empty':
      bytes = Buffer.alloc(0);
      break;
    case 'other-input':
      bytes = signWith(named, `${input}x`);
      break;
    default:
      bytes = signWith(named);
  }
  const i = index(bytes.length, c.at);
  if (c.signature === 'drop-byte') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
  if (c.signature === 'add-byte') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([bytes[i]!]), bytes.subarray(i)]);
  if (c.signature === 'flip-bit') bytes[i]! ^= 1 << (i % 8);
  const text = b64u(bytes);
  if (c.signature === 'padding') return `${text}==`;
  if (c.signature === 'whitespace') return `${text.slice(0, 100)}\n${text.slice(100)}`;
  return text;
}

interface Token {
  text: string;
  /** The generator knows where it repeated a member name; the reference learns it from here. */
  duplicateMember: boolean;
}

function buildToken(c: Case): Token {
  const header = writeObject(headerMembers(c.header), c.headerStyle);
  const payload = writeObject(payloadMembers(c.payload), c.payloadStyle);
  const parts = [encodePart(header.text, c.headerMutation, c.at), encodePart(payload.text, c.payloadMutation, c.at)];
  if (c.sameBytesOtherText === 0 || c.sameBytesOtherText === 1) parts[c.sameBytesOtherText] = sameBytesOtherText(parts[c.sameBytesOtherText]!);
  const [h, p] = parts;
  const input = `${h}.${p}`;
  // JSON.parse keeps the last of two kids: sign with the key that one names.
  const signed = signatureFor(input, c, c.header.twice?.name === 'kid' && !c.header.twice.before ? c.header.twice.value : c.header.kid);
  const s = c.sameBytesOtherText === 2 ? sameBytesOtherText(signed) : signed;
  const text = {
    'three-parts': `${input}.${s}`,
    'two-parts': input,
    'four-parts': `${input}.${s}.${s}`,
    'leading-dot': `.${h}.${p}.${s}`,
    'trailing-dot': `${input}.${s}.`,
  }[c.structure]!;
  return { text, duplicateMember: header.duplicate || payload.duplicate };
}

// --- the two verdicts ----------------------------------------------------------------------

type Verdict = { accepted: true; claims: Record<string, unknown> } | { accepted: false; reason: string };

function meshauthVerdict(token: string): Verdict {
  try {
    return { accepted: true, claims: verifier.verify(token) as unknown as Record<string, unknown> };
  } catch (error) {
    // A refusal is always a 401 MeshAuthError: anything else thrown is a crash.
    if (!(error instanceof MeshAuthError) || error.status !== 401) throw error;
    return { accepted: false, reason: error.code };
  }
}

const canonicalBase64url = (part: string) => Buffer.from(part, 'base64url').toString('base64url') === part;
const startsWithBom = (part: string) => Buffer.from(part, 'base64url').subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]));
const isFiniteNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * What meshauth refuses on purpose although jose (as configured) accepts it. Each rule is part of
 * the contract; the reason names it.
 */
function stricterRules(token: Token, header: Record<string, unknown>, payload: JWTPayload): string | undefined {
  const parts = token.text.split('.');
  // SPEC §3: structure and size first, refusing tokens over 8 KiB (jose has no size limit).
  if (token.text.length > MAX_TOKEN_BYTES) return 'over 8 KiB';
  // One token, one text: each part must be the canonical base64url of its bytes (no padding, no
  // whitespace, unused low bits zero, no dangling character). jose's decoder forgives all of those.
  if (!parts.every(canonicalBase64url)) return 'non-canonical base64url';
  // RFC 8259 §8.1: JSON text must not start with a byte-order mark; jose's TextDecoder drops one.
  if (parts.slice(0, 2).some(startsWithBom)) return 'byte-order mark';
  // A member named twice means different things to different parsers (RFC 7515 §4 lets a parser
  // keep either); jose keeps the last, meshauth refuses the token.
  if (token.duplicateMember) return 'duplicate member name';
  // alg exactly RS256: the `algorithms: ['RS256']` option already makes jose refuse anything else.
  // kid present and naming a present key: jose would pick a key itself if the set held only one.
  if (!isString(header.kid) || !presentKids.has(header.kid)) return 'kid missing or unknown';
  // meshauth implements no JWS extension, so any crit is unsupported; jose understands b64.
  if (header.crit !== undefined) return 'crit header';
  // SPEC §3 claim types: jose only checks that exp, nbf and iat are numbers (Infinity is one).
  if (!['exp', 'nbf', 'iat'].every((claim) => isFiniteNumber(payload[claim]))) return 'exp, nbf, iat must be finite numbers';
  if (!isString(payload.jti) || payload.jti.length === 0 || payload.jti.length > 128) return 'jti must be a string of 1 to 128 characters';
  if (!isString(payload.Name) || payload.Name.length === 0) return 'Name must be a non-empty string';
  if (!Array.isArray(payload.Groups) || !payload.Groups.every(isString)) return 'Groups must be a list of strings';
  // Revocation is meshauth's own state: jose knows nothing of it.
  if (payload.jti === REVOKED_JTI) return 'revoked';
  return undefined;
}

async function referenceVerdict(token: Token): Promise<Verdict> {
  let verified;
  try {
    verified = await jwtVerify(token.text, joseKey, {
      algorithms: ['RS256'],
      currentDate: new Date(NOW_S * 1000),
      requiredClaims: ['exp', 'nbf', 'iat', 'jti'],
    });
  } catch (error) {
    return { accepted: false, reason: `jose: ${(error as Error).message}` };
  }
  const reason = stricterRules(token, verified.protectedHeader as Record<string, unknown>, verified.payload);
  return reason ? { accepted: false, reason } : { accepted: true, claims: verified.payload };
}

// --- the property --------------------------------------------------------------------------

async function assertAgreement(cases: fc.Arbitrary<Case>, numRuns: number): Promise<Map<string, number>> {
  const tally = new Map<string, number>();
  try {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const token = buildToken(c);
        const ours = meshauthVerdict(token.text);
        const reference = await referenceVerdict(token);
        const detail = `token ${JSON.stringify(token.text.slice(0, 200))}…: meshauth ${JSON.stringify(ours)}, reference ${JSON.stringify(reference)}`;
        expect(ours.accepted, detail).toBe(reference.accepted);
        if (ours.accepted && reference.accepted) expect(ours.claims, detail).toEqual(reference.claims);
        const key = reference.accepted ? 'accepted' : reference.reason.startsWith('jose: ') ? 'refused by jose' : `refused: ${reference.reason}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );
  } catch (error) {
    throw new Error(`differential fuzz failed with seed ${SEED} (rerun: MESHAUTH_FUZZ_SEED=${SEED}): ${(error as Error).message}`, { cause: error });
  }
  return tally;
}

describe('TokenVerifier against jose (differential)', () => {
  it(`agrees on accept/refuse and on the claims over ${RUNS} generated and mutated tokens`, async () => {
    const tally = await assertAgreement(caseArb, RUNS);
    // The run means something only if it reached both sides of every rule.
    expect(tally.get('accepted')).toBeGreaterThan(RUNS / 10);
    expect(tally.get('refused by jose')).toBeGreaterThan(RUNS / 10);
    for (const rule of ['over 8 KiB', 'non-canonical base64url', 'byte-order mark', 'duplicate member name', 'kid missing or unknown', 'crit header', 'revoked']) {
      expect(tally.get(`refused: ${rule}`), rule).toBeGreaterThan(RUNS / 1_000);
    }
  }, 120_000);

  // PENDING (issue 13): meshauth decodes base64url with Buffer, which ignores unused low bits and a
  // dangling character, so such a token still verifies. The canonical base64url check being added to
  // jws-rs256.ts makes this property hold: then this test fails as `it.fails`; make it `it`.
  it('refuses a token whose base64url parts are not the canonical encoding of their bytes', async () => {
    await assertAgreement(caseArbitrary(fc.constantFrom(0, 1, 2)), 500);
  });
});
