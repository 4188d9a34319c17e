import type { DecodedJwt } from './jwt-decode.js';

const TIME_CLAIMS = [
  ['iat', 'Issued At'],
  ['nbf', 'Not Before'],
  ['exp', 'Expiration Time'],
] as const;

/**
 * A decoded token laid out as the docs show it (jwt-cli's format): header and payload as
 * pretty JSON, then the time claims in human form, then the signature.
 * `timeZone` is for tests; the CLI shows local time.
 */
export function renderTokenInspection(token: DecodedJwt, options: { timeZone?: string } = {}): string {
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
  lines.push(`✻ Signature ${token.signature}`);
  return `${lines.join('\n')}\n`;
}

/** `1636725274` → `11/12/2021, 2:54:34 PM` in the given (or local) time zone. */
export function formatEpochSeconds(seconds: number, timeZone?: string): string {
  const text = new Date(seconds * 1000).toLocaleString('en-US', timeZone === undefined ? {} : { timeZone });
  // Newer ICU puts a narrow no-break space before AM/PM; terminals and greps expect a space.
  return text.replace(/[\u202f\u00a0]/g, ' ');
}
