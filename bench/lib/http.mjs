/** fetch wrappers for talking to a daemon's API from a benchmark. */
export async function call(method, url, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['content-type'] ??= 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers: h, body: payload });
  const text = await response.text();
  return { status: response.status, text };
}

export async function expectOk(method, url, options) {
  const result = await call(method, url, options);
  if (result.status < 200 || result.status > 299) throw new Error(`${method} ${url}: ${result.status} ${result.text.slice(0, 500)}`);
  return result;
}

/** The docs' way: the admin token from localhost without credentials. */
export async function readAdminToken(baseUrl) {
  const { text } = await expectOk('GET', `${baseUrl}/global-secrets/admin-user-token`);
  return Buffer.from(JSON.parse(text).data, 'base64').toString('utf8');
}

export async function issueUserToken(baseUrl, adminToken, name, groups = [], validFor = '24h') {
  return (await expectOk('POST', `${baseUrl}/tokens/user`, { token: adminToken, body: { name, groups, validFor } })).text;
}
