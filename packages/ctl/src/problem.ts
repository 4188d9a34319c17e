import { STATUS_CODES } from 'node:http';
import { ApiError, type Problem } from './errors.js';

/** What a non-2xx answer says, as one line: "401 Unauthorized: token expired". */
export function apiErrorFrom(status: number, contentType: string, body: string): ApiError {
  const problem = contentType.includes('json') ? parseProblem(body) : undefined;
  if (problem !== undefined) return new ApiError(status, problem, problemMessage(status, problem));
  const title = STATUS_CODES[status] ?? 'Error';
  const excerpt = firstLine(body);
  return new ApiError(status, undefined, excerpt === '' ? `${status} ${title}` : `${status} ${title}: ${excerpt}`);
}

export function problemMessage(status: number, problem: Problem): string {
  const title = problem.title || (STATUS_CODES[status] ?? 'Error');
  const detail = problem.detail ?? '';
  let message = `${status} ${title}`;
  if (detail !== '' && detail !== title) message += `: ${detail}`;
  // Servers often spell the parameters out in the detail already; add only what it leaves out.
  const invalid = (problem.invalid_parameters ?? []).filter((p) => !detail.includes(p.reason));
  if (invalid.length > 0) {
    message += ` (${invalid.map((p) => `${p.field}: ${p.reason}`).join('; ')})`;
  }
  return message;
}

function parseProblem(body: string): Problem | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['title'] !== 'string' && typeof v['detail'] !== 'string') return undefined;
  const problem: Problem = {
    status: typeof v['status'] === 'number' ? v['status'] : 0,
    title: typeof v['title'] === 'string' ? v['title'] : '',
  };
  if (typeof v['type'] === 'string') problem.type = v['type'];
  if (typeof v['detail'] === 'string') problem.detail = v['detail'];
  // Printed in brackets on one line: a code is a short token of capitals and underscores, nothing else.
  if (typeof v['code'] === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(v['code'])) problem.code = v['code'];
  if (typeof v['instance'] === 'string') problem.instance = v['instance'];
  if (Array.isArray(v['invalid_parameters'])) {
    problem.invalid_parameters = v['invalid_parameters']
      .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
      .map((p) => ({ field: String(p['field'] ?? ''), reason: String(p['reason'] ?? '') }));
  }
  return problem;
}

function firstLine(body: string): string {
  const line = body.trim().split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
