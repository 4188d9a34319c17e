import type { DecodedJwt } from './jwt-decode.js';

const TIME_CLAIMS = [
  ['iat', 'Issued At'],
  ['nbf', 'Not Before'],
  ['exp', 'Expiration Time'],
] as const;

/**
 * A decoded token laid out as the docs show it (jwt-cli's format): header and payload as
 * pretty JSON, then the time claims in human form, then the signature.
 * `timeZone` is for tests; the CLI shows local time. Given `now`, a token past its `exp` (or
 * before its `nbf`) says so on a line of its own, so an old token is not mistaken for a good one.
 */
export function renderTokenInspection(token: DecodedJwt, options: { timeZone?: string; now?: Date } = {}): string {
  const lines = [
    '✻ Header',
    JSON.stringify(token.header, null, 2),
    '✻ Payload',
    JSON.stringify(token.payload, null, 2),
  ];
  for (const [claim, label] of TIME_CLAIMS) {
    const seconds = token.payload[claim];
    if (typeof seconds === 'number') lines.push(`${label}: ${seconds} ${formatEpochSeconds(seconds, options.timeZone)}`);
  }
  const validity = options.now === undefined ? undefined : validityLine(token, options.now.getTime() / 1000);
  if (validity !== undefined) lines.push(validity);
  lines.push(`✻ Signature ${token.signature}`);
  return `${lines.join('\n')}\n`;
}

function validityLine(token: DecodedJwt, now: number): string | undefined {
  const { exp, nbf } = token.payload;
  if (typeof exp === 'number' && exp <= now) return `Expired: ${formatSpan(now - exp)} ago`;
  if (typeof nbf === 'number' && nbf > now) return `Not yet valid: for another ${formatSpan(nbf - now)}`;
  return undefined;
}

/** 97_000 seconds → `1d 2h 56m`; the two largest units from days down to seconds. */
export function formatSpan(seconds: number): string {
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  let rest = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** `1636725274` → `11/12/2021, 2:54:34 PM` in the given (or local) time zone. */
export function formatEpochSeconds(seconds: number, timeZone?: string): string {
  const text = new Date(seconds * 1000).toLocaleString('en-US', timeZone === undefined ? {} : { timeZone });
  // Newer ICU puts a narrow no-break space before AM/PM; terminals and greps expect a space.
  return text.replace(/[\u202f\u00a0]/g, ' ');
}
