/**
 * The demo's HTTP calls: JSON in, `{status, text, json}` out. A token goes in `Authorization`;
 * the docs' own curl examples (which send `authentication`) run through ./docs-curl.mjs instead.
 *
 * @param {string} method
 * @param {string} url
 * @param {{ token?: string, body?: unknown }} [options]
 */
export async function request(method, url, options = {}) {
  const headers = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** `GET /who-am-i` as `token`: `{status, name?, groups?, detail?}`. */
export async function whoAmI(baseUrl, token) {
  const result = await request('GET', `${baseUrl}/who-am-i`, { token });
  return { status: result.status, name: result.json?.name, groups: result.json?.groups, detail: result.json?.detail ?? result.text };
}

/** Throws with the server's problem detail unless the status is the expected one. */
export function expectStatus(result, expected, what) {
  if (result.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${result.status} ${result.json?.detail ?? result.text.slice(0, 300)}`);
  }
  return result;
}
