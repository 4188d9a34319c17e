/** Decodes a JWT's header and payload without verifying it: for showing what a token says. */
export function decodeJwt(token) {
  const [header, payload] = token.trim().split('.');
  const part = (text) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  return { header: part(header), payload: part(payload) };
}

/** A token as the demo prints it: never whole, it is a credential. */
export function describeToken(token) {
  const { header, payload } = decodeJwt(token);
  const who =
    payload.Mesh !== undefined ? `Name=${payload.Name} Mesh=${payload.Mesh} Zone=${payload.Zone}`
    : payload.Name !== undefined ? `Name=${payload.Name} Groups=${JSON.stringify(payload.Groups ?? [])}`
    : `Zone=${payload.Zone} Scope=${JSON.stringify(payload.Scope ?? [])}`;
  return `${token.slice(0, 16)}… kid=${header.kid} ${who} jti=${payload.jti} exp=${new Date(payload.exp * 1000).toISOString()}`;
}
