import { describe, expect, it } from 'vitest';
import { checkDataplaneClaims, checkStandardClaims, checkUserClaims, checkZoneClaims, type ClaimsCheck } from './claims.js';

/** Each check accepts its valid payload and names the first wrong claim of any other. */
function expectReasons(check: ClaimsCheck, valid: Record<string, unknown>, cases: [Record<string, unknown>, string | undefined][]): void {
  expect(check(valid)).toBeUndefined();
  for (const [change, reason] of cases) {
    const payload = { ...valid, ...change };
    for (const [name, value] of Object.entries(change)) if (value === undefined) delete payload[name];
    expect({ change, reason: check(payload) }).toEqual({ change, reason });
  }
}

const standard = { exp: 1_700_086_400, nbf: 1_699_999_700, iat: 1_700_000_000, jti: 'bf3d0b2e-d840-4cb6-bf7c-b90f54391468' };

describe('checkStandardClaims', () => {
  it('wants exp, nbf and iat as finite numbers', () => {
    const cases: [Record<string, unknown>, string | undefined][] = [];
    for (const claim of ['exp', 'nbf', 'iat']) {
      for (const value of [undefined, null, '1700000000', true, [1], Infinity, -Infinity, NaN]) cases.push([{ [claim]: value }, `claim ${claim} must be a number`]);
      for (const value of [0, -1, 1.5, 1e300]) cases.push([{ [claim]: value }, undefined]);
    }
    expectReasons(checkStandardClaims, standard, cases);
  });

  it('checks exp, then nbf, then iat', () => {
    expect(checkStandardClaims({ jti: 'x' })).toBe('claim exp must be a number');
    expect(checkStandardClaims({ exp: 1, jti: 'x' })).toBe('claim nbf must be a number');
    expect(checkStandardClaims({ exp: 1, nbf: 1, jti: 'x' })).toBe('claim iat must be a number');
  });

  it('wants jti as a string of 1 to 128 characters', () => {
    const reason = 'claim jti must be a non-empty string';
    expectReasons(checkStandardClaims, standard, [
      [{ jti: undefined }, reason],
      [{ jti: 7 }, reason],
      [{ jti: ['a'] }, reason],
      [{ jti: '' }, reason],
      [{ jti: 'j' }, undefined],
      [{ jti: 'j'.repeat(128) }, undefined],
      [{ jti: 'j'.repeat(129) }, reason],
    ]);
  });
});

describe('checkUserClaims', () => {
  it('wants a non-empty Name and Groups as a list of strings', () => {
    expectReasons(checkUserClaims, { Name: 'john', Groups: ['team-a'] }, [
      [{ Name: undefined }, 'claim Name must be a non-empty string'],
      [{ Name: '' }, 'claim Name must be a non-empty string'],
      [{ Name: 42 }, 'claim Name must be a non-empty string'],
      [{ Name: 'j' }, undefined],
      [{ Groups: undefined }, 'claim Groups must be a list of strings'],
      [{ Groups: 'team-a' }, 'claim Groups must be a list of strings'],
      [{ Groups: { 0: 'team-a' } }, 'claim Groups must be a list of strings'],
      [{ Groups: ['team-a', 1] }, 'claim Groups must be a list of strings'],
      [{ Groups: [null] }, 'claim Groups must be a list of strings'],
      [{ Groups: [] }, undefined],
      [{ Groups: ['a', 'b', ''] }, undefined],
    ]);
  });
});

describe('checkZoneClaims', () => {
  it('wants a non-empty Zone and a Scope of cp, ingress and egress only', () => {
    const scope = 'claim Scope must be a list of cp, ingress, egress';
    expectReasons(checkZoneClaims, { Zone: 'zone-1', Scope: ['cp'] }, [
      [{ Zone: undefined }, 'claim Zone must be a non-empty string'],
      [{ Zone: '' }, 'claim Zone must be a non-empty string'],
      [{ Zone: 1 }, 'claim Zone must be a non-empty string'],
      [{ Zone: 'z' }, undefined],
      [{ Scope: undefined }, scope],
      [{ Scope: 'cp' }, scope],
      [{ Scope: ['cp', 1] }, scope],
      [{ Scope: ['cp', 'admin'] }, scope],
      [{ Scope: ['CP'] }, scope],
      [{ Scope: [''] }, scope],
      [{ Scope: ['ingress'] }, undefined],
      [{ Scope: ['egress'] }, undefined],
      [{ Scope: ['cp', 'ingress', 'egress'] }, undefined],
      [{ Scope: [] }, undefined],
    ]);
  });
});

describe('checkDataplaneClaims', () => {
  it('wants non-empty Name and Mesh, string Type and Zone, and Tags mapping names to lists of strings', () => {
    const tags = 'claim Tags must map strings to lists of strings';
    expectReasons(checkDataplaneClaims, { Name: 'web-1', Mesh: 'default', Tags: { app: ['web'] }, Type: 'dataplane', Zone: 'zone-1' }, [
      [{ Name: undefined }, 'claim Name must be a non-empty string'],
      [{ Name: '' }, 'claim Name must be a non-empty string'],
      [{ Name: 3 }, 'claim Name must be a non-empty string'],
      [{ Mesh: undefined }, 'claim Mesh must be a non-empty string'],
      [{ Mesh: '' }, 'claim Mesh must be a non-empty string'],
      [{ Mesh: ['default'] }, 'claim Mesh must be a non-empty string'],
      [{ Type: undefined }, 'claim Type must be a string'],
      [{ Type: 0 }, 'claim Type must be a string'],
      [{ Type: '' }, undefined],
      [{ Zone: undefined }, 'claim Zone must be a string'],
      [{ Zone: null }, 'claim Zone must be a string'],
      [{ Zone: '' }, undefined],
      [{ Tags: undefined }, tags],
      [{ Tags: null }, tags],
      [{ Tags: 'app=web' }, tags],
      [{ Tags: [['web']] }, tags],
      [{ Tags: { app: 'web' } }, tags],
      [{ Tags: { app: ['web', 2] } }, tags],
      [{ Tags: { app: ['web'], team: {} } }, tags],
      [{ Tags: {} }, undefined],
      [{ Tags: { app: [], team: ['a', 'b'] } }, undefined],
    ]);
  });

  it('checks Name, Mesh, Type, Zone, then Tags', () => {
    expect(checkDataplaneClaims({})).toBe('claim Name must be a non-empty string');
    expect(checkDataplaneClaims({ Name: 'n' })).toBe('claim Mesh must be a non-empty string');
    expect(checkDataplaneClaims({ Name: 'n', Mesh: 'm' })).toBe('claim Type must be a string');
    expect(checkDataplaneClaims({ Name: 'n', Mesh: 'm', Type: 't' })).toBe('claim Zone must be a string');
    expect(checkDataplaneClaims({ Name: 'n', Mesh: 'm', Type: 't', Zone: 'z' })).toBe('claim Tags must map strings to lists of strings');
  });
});
