/** Small fetch wrappers for tests: JSON in, status + parsed body out. */
export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function http(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The docs' way to read the admin token: from localhost, no credentials. */
export async function readAdminToken(baseUrl: string): Promise<string> {
  const result = await http('GET', `${baseUrl}/global-secrets/admin-user-token`);
  if (result.status !== 200) throw new Error(`admin token: ${result.status} ${result.text}`);
  return Buffer.from(result.json.data as string, 'base64').toString('utf8');
}

export async function issueUserToken(baseUrl: string, adminToken: string, name: string, groups: string[], validFor = '24h'): Promise<string> {
  const result = await http('POST', `${baseUrl}/tokens/user`, { token: adminToken, body: { name, groups, validFor } });
  if (result.status !== 200) throw new Error(`user token: ${result.status} ${result.text}`);
  return result.text;
}
