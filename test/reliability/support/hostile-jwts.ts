import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';

/** One hostile request: the headers carrying a token that must be refused with 401. */
export interface HostileCase {
  name: string;
  headers: Record<string, string>;
}

export interface CorpusInputs {
  /** PEM of the plane's user-token signing key: lets a case pass the signature and fail later checks. */
  signingKeyPem: string;
  publicKeyPem: string;
  /** A real user token the plane has revoked. */
  revokedToken: string;
  /** A real, valid token of another family (a zone token), signed by a key the user family does not hold. */
  otherFamilyToken: string;
}

const b64u = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const json = (value: unknown) => b64u(JSON.stringify(value));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Builds the corpus of malformed and hostile JWTs. Many cases are signed with the plane's real key,
 * so they get past the signature and prove the later checks (alg, kid, claims, duplicates) hold on
 * their own; the rest never had a valid signature and must fail before any claim is trusted.
 */
export function buildHostileJwtCorpus(inputs: CorpusInputs): HostileCase[] {
  const privateKey = createPrivateKey(inputs.signingKeyPem);
  const now = Math.floor(Date.now() / 1000);
  // Every claim set asks for admin: a bypass anywhere would show up as a 200.
  const claims = () => ({ Name: 'mallory', Groups: ['mesh-system:admin'], exp: now + 3600, nbf: now - 300, iat: now, jti: randomUUID() });
  const header = { alg: 'RS256', kid: '1', typ: 'JWT' };
  const rs = (input: string, alg = 'sha256') => b64u(sign(alg, Buffer.from(input), privateKey));
  /** Raw header and payload text, signed with the real key. */
  const signedRaw = (headerText: string | Buffer, payloadText: string | Buffer) => {
    const input = `${b64u(headerText)}.${b64u(payloadText)}`;
    return `${input}.${rs(input)}`;
  };
  const signed = (h: unknown, p: unknown) => signedRaw(JSON.stringify(h), JSON.stringify(p));
  const valid = signed(header, claims());
  const [vh, vp, vs] = valid.split('.') as [string, string, string];
  const hs256 = (h: unknown, p: unknown, secret: string | Buffer) => {
    const input = `${json(h)}.${json(p)}`;
    return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
  };
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerSigned = (h: unknown, p: unknown) => {
    const input = `${json(h)}.${json(p)}`;
    return `${input}.${b64u(sign('sha256', Buffer.from(input), attacker.privateKey))}`;
  };
  const spkiPem = createPublicKey(inputs.publicKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  const pkcs1Pem = createPublicKey(inputs.publicKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  const withClaims = (change: (c: Record<string, unknown>) => void) => {
    const c: Record<string, unknown> = claims();
    change(c);
    return signed(header, c);
  };
  const withKid = (kid: unknown) => signed({ ...header, kid }, claims());
  const flipped = Buffer.from(vs, 'base64url');
  flipped[10]! ^= 0x01;
  // The same signature bytes spelled differently: the last character's unused low bits set.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const respelled = vs.slice(0, -1) + alphabet[alphabet.indexOf(vs.at(-1)!) | (vs.length % 4 === 2 ? 0x0f : 0x03)];
  const c = claims();
  const rawClaims = `"exp":${c.exp},"nbf":${c.nbf},"iat":${c.iat},"jti":"${c.jti}"`;

  const tokens: [string, string][] = [
    // --- structure and encoding
    ['empty token after Bearer', ''],
    ['a single dot', '.'],
    ['two dots only', '..'],
    ['two parts (no signature part)', `${vh}.${vp}`],
    ['four parts', `${valid}.${vs}`],
    ['trailing dot after a valid token', `${valid}.`],
    ['empty header part', `.${vp}.${vs}`],
    ['empty payload part', `${vh}..${vs}`],
    ['empty signature part (unsecured JWS)', `${vh}.${vp}.`],
    ['non-base64url characters in the header', `${vh.slice(0, 5)}!${vh.slice(6)}.${vp}.${vs}`],
    ['standard base64 with padding in the signature', `${vh}.${vp}.${Buffer.from(vs, 'base64url').toString('base64')}`],
    ['percent-encoded parts', `${encodeURIComponent('{"alg":"RS256"}')}.${vp}.${vs}`],
    ['header is not JSON', `${b64u('not json')}.${vp}.${vs}`],
    ['header is a JSON array', signedRaw('[]', JSON.stringify(claims()))],
    ['header is JSON null', signedRaw('null', JSON.stringify(claims()))],
    ['payload is not JSON', signedRaw(JSON.stringify(header), '{"Name":')],
    ['payload is a JSON number', signedRaw(JSON.stringify(header), '42')],
    ['payload is a JSON array', signedRaw(JSON.stringify(header), JSON.stringify([claims()]))],
    ['non-UTF-8 bytes in the header', `${b64u(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]))}.${vp}.${vs}`],
    ['overlong UTF-8 in a signed payload', signedRaw(JSON.stringify(header), Buffer.concat([Buffer.from('{"Name":"a'), Buffer.from([0xc0, 0xa2]), Buffer.from(`","Groups":[],${rawClaims}}`)]))],
    ['lone surrogate bytes in a signed payload', signedRaw(JSON.stringify(header), Buffer.concat([Buffer.from('{"Name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`","Groups":[],${rawClaims}}`)]))],
    ['UTF-8 BOM before the signed header', signedRaw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(header))]), JSON.stringify(claims()))],
    ['9 KiB token, validly signed', withClaims((x) => (x.pad = 'x'.repeat(9 * 1024)))],
    ['huge header (8 KiB field, token under the 16 KiB HTTP header limit), validly signed', signed({ ...header, x: 'h'.repeat(8 * 1024) }, claims())],
    // --- algorithm
    ['alg none without signature', `${json({ alg: 'none', typ: 'JWT' })}.${vp}.`],
    ['alg none with the original signature', `${json({ alg: 'none', kid: '1' })}.${vp}.${vs}`],
    ['alg None (capitalised)', `${json({ alg: 'None', kid: '1' })}.${vp}.${vs}`],
    ['alg NONE', `${json({ alg: 'NONE', kid: '1' })}.${vp}.${vs}`],
    ['alg confusion: HS256 keyed with the SPKI public key PEM', hs256({ ...header, alg: 'HS256' }, claims(), spkiPem)],
    ['alg confusion: HS256 keyed with the PKCS#1 public key PEM', hs256({ ...header, alg: 'HS256' }, claims(), pkcs1Pem)],
    ['alg confusion: HS256 keyed with the published PEM verbatim', hs256({ ...header, alg: 'HS256' }, claims(), inputs.publicKeyPem)],
    ['alg confusion: HS256 keyed with the public key DER', hs256({ ...header, alg: 'HS256' }, claims(), createPublicKey(inputs.publicKeyPem).export({ type: 'spki', format: 'der' }))],
    ['alg RS512, validly signed with SHA-512', (() => { const input = `${json({ ...header, alg: 'RS512' })}.${json(claims())}`; return `${input}.${rs(input, 'sha512')}`; })()],
    ['alg PS256 with an RS256 signature', signed({ ...header, alg: 'PS256' }, claims())],
    ['alg ES256 with garbage', `${json({ ...header, alg: 'ES256' })}.${vp}.${b64u('x'.repeat(64))}`],
    ['alg missing, validly signed', signed({ kid: '1', typ: 'JWT' }, claims())],
    ['alg as an array, validly signed', signed({ ...header, alg: ['RS256'] }, claims())],
    ['alg "rs256" lowercase, validly signed', signed({ ...header, alg: 'rs256' }, claims())],
    ['alg "RS256 " with a trailing space, validly signed', signed({ ...header, alg: 'RS256 ' }, claims())],
    ['crit header, validly signed', signed({ ...header, crit: ['exp'] }, claims())],
    ['embedded jwk of an attacker key, signed by it', attackerSigned({ ...header, jwk: attackerJwk }, claims())],
    ['jku pointing elsewhere, signed by an attacker key', attackerSigned({ ...header, jku: 'http://evil.com/jwks.json' }, claims())],
    ['signed by an unrelated RSA key with kid 1', attackerSigned(header, claims())],
    ['signature bit-flipped', `${vh}.${vp}.${b64u(flipped)}`],
    ['signature re-spelled: unused bits of its last character set (same bytes)', `${vh}.${vp}.${respelled}`],
    ['signature truncated', `${vh}.${vp}.${vs.slice(0, vs.length - 8)}`],
    ['payload swapped under a valid signature', `${vh}.${json({ ...claims(), Name: 'mesh-system:admin' })}.${vs}`],
    // --- kid
    ['kid missing', signed({ alg: 'RS256', typ: 'JWT' }, claims())],
    ['kid path traversal ../../../etc/passwd', withKid('../../../etc/passwd')],
    ['kid path traversal ../1', withKid('../1')],
    ['kid SQL 1 OR 1=1', withKid('1 OR 1=1')],
    ["kid SQL '; DROP TABLE signing_keys;--", withKid("1'; DROP TABLE signing_keys;--")],
    ['kid "0"', withKid('0')],
    ['kid "-1"', withKid('-1')],
    ['kid "01"', withKid('01')],
    ['kid "1e3"', withKid('1e3')],
    ['kid "1.0"', withKid('1.0')],
    ['kid " 1" with a leading space', withKid(' 1')],
    ['kid 1 as a number', withKid(1)],
    ['kid null', withKid(null)],
    ['kid with a NUL byte', withKid('1\u0000')],
    ['kid percent-encoded traversal', withKid('%2e%2e%2f1')],
    ['kid of 20 digits', withKid('99999999999999999999')],
    ['kid of a serial that does not exist', withKid('7')],
    // --- claims (all validly signed)
    ['expired', withClaims((x) => { x.exp = now - 60; })],
    ['not valid yet (nbf in the future)', withClaims((x) => { x.nbf = now + 3600; })],
    ['exp as a string', withClaims((x) => { x.exp = String(now + 3600); })],
    ['exp missing', withClaims((x) => { delete x.exp; })],
    ['exp overflowing to Infinity', signedRaw(JSON.stringify(header), `{"Name":"mallory","Groups":[],"exp":1e400,"nbf":${c.nbf},"iat":${c.iat},"jti":"${c.jti}"}`)],
    ['iat as a string', withClaims((x) => { x.iat = 'now'; })],
    ['jti missing', withClaims((x) => { delete x.jti; })],
    ['jti as a number', withClaims((x) => { x.jti = 12345; })],
    ['jti empty', withClaims((x) => { x.jti = ''; })],
    ['jti of 129 characters', withClaims((x) => { x.jti = 'j'.repeat(129); })],
    ['Name missing', withClaims((x) => { delete x.Name; })],
    ['Name as a number', withClaims((x) => { x.Name = 7; })],
    ['Name empty', withClaims((x) => { x.Name = ''; })],
    ['Groups as a string', withClaims((x) => { x.Groups = 'mesh-system:admin'; })],
    ['Groups with a number', withClaims((x) => { x.Groups = [1]; })],
    ['Groups with null', withClaims((x) => { x.Groups = [null]; })],
    ['Groups as an object', withClaims((x) => { x.Groups = { 0: 'mesh-system:admin' }; })],
    ['__proto__ smuggling Groups', signedRaw(JSON.stringify(header), `{"Name":"mallory","__proto__":{"Groups":["mesh-system:admin"]},${rawClaims}}`)],
    ['duplicate Name claim in the raw JSON', signedRaw(JSON.stringify(header), `{"Name":"mallory","Groups":[],"Name":"mesh-system:admin",${rawClaims}}`)],
    ['duplicate Groups claim in the raw JSON', signedRaw(JSON.stringify(header), `{"Name":"mallory","Groups":[],${rawClaims},"Groups":["mesh-system:admin"]}`)],
    ['duplicate exp claim in the raw JSON', signedRaw(JSON.stringify(header), `{"Name":"mallory","Groups":[],"exp":${now - 60},${rawClaims}}`)],
    ['duplicate alg in the raw header', signedRaw('{"alg":"none","kid":"1","alg":"RS256"}', JSON.stringify(claims()))],
    ['duplicate kid in the raw header', signedRaw('{"alg":"RS256","kid":"../x","kid":"1"}', JSON.stringify(claims()))],
    ['revoked token', inputs.revokedToken],
    ['token of another family (zone token)', inputs.otherFamilyToken],
  ];

  const cases: HostileCase[] = tokens.map(([name, token]) => ({ name, headers: bearer(token) }));
  cases.push(
    { name: 'Bearer with two tokens', headers: { authorization: `Bearer ${valid} ${inputs.revokedToken}` } },
    { name: 'Bearer with two comma-separated tokens', headers: { authorization: `Bearer ${inputs.revokedToken},${valid}` } },
    { name: 'two Bearer values in one header', headers: { authorization: `Bearer ${inputs.revokedToken}, Bearer ${valid}` } },
    { name: 'Basic credentials', headers: { authorization: `Basic ${b64u('admin:admin')}` } },
    { name: 'Bearer without a token', headers: { authorization: 'Bearer' } },
    { name: 'wrong scheme with a signed admin token', headers: { authorization: `Token ${valid}` } },
    { name: 'docs header "authentication" with a revoked token', headers: { authentication: `Bearer ${inputs.revokedToken}` } },
    { name: 'docs header "authentication" with alg none', headers: { authentication: `Bearer ${json({ alg: 'none' })}.${vp}.` } },
  );
  return cases;
}
