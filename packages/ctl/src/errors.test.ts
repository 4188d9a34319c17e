import { describe, expect, it } from 'vitest';
import { ApiError, ConnectionError, formatError, SilentFailure } from './errors.js';
import { apiErrorFrom } from './problem.js';

describe('formatting errors for stderr', () => {
  it('is one line without --verbose', () => {
    const err = new ConnectionError('cannot reach control plane at http://localhost:5681: connection refused');
    expect(formatError(err, false)).toBe('Error: cannot reach control plane at http://localhost:5681: connection refused\n');
  });

  it('folds multi-line messages into one line', () => {
    expect(formatError(new Error('first\n  second'), false)).toBe('Error: first second\n');
  });

  it('adds the stack and causes with --verbose', () => {
    const err = new ConnectionError('cannot reach', { cause: new Error('connect ECONNREFUSED') });
    const text = formatError(err, true);
    expect(text.split('\n')[0]).toBe('Error: cannot reach');
    expect(text).toContain('at ');
    expect(text).toContain('Caused by: Error: connect ECONNREFUSED');
  });

  it("names a control plane's error code the way Node names its own", () => {
    const body = JSON.stringify({ type: 'https://meshauth.dev/problems/401', status: 401, title: 'Unauthorized', detail: 'user token is revoked', code: 'ERR_TOKEN_REVOKED', instance: 'a1' });
    const err = apiErrorFrom(401, 'application/problem+json', body);
    expect(err.problem).toMatchObject({ code: 'ERR_TOKEN_REVOKED', instance: 'a1' });
    expect(formatError(err, false)).toBe('Error [ERR_TOKEN_REVOKED]: 401 Unauthorized: user token is revoked\n');
    // No code (an older plane, a proxy's page) or one that is not a plain code: the line without brackets.
    expect(formatError(new ApiError(502, undefined, '502 Bad Gateway'), false)).toBe('Error: 502 Bad Gateway\n');
    const odd = apiErrorFrom(400, 'application/json', JSON.stringify({ status: 400, title: 'Bad Request', code: 'x]\nError: forged' }));
    expect(formatError(odd, false)).toBe('Error: 400 Bad Request\n');
  });

  it('prints nothing for a failure whose result was already printed', () => {
    expect(formatError(new SilentFailure('token is revoked'), false)).toBe('');
  });
});
