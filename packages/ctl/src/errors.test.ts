import { describe, expect, it } from 'vitest';
import { ConnectionError, formatError, SilentFailure } from './errors.js';

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

  it('prints nothing for a failure whose result was already printed', () => {
    expect(formatError(new SilentFailure('token is revoked'), false)).toBe('');
  });
});
