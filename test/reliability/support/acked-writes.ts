import { rawRequest } from './raw-http.js';

/**
 * Writers that keep revoking tokens and storing secrets until stopped or the plane dies, and
 * remember exactly which writes the API acknowledged: those are the ones that must survive.
 */
export interface AckedWrites {
  revocations: string[];
  secrets: Map<string, string>;
  /** Requests that failed without an answer (connection reset by the kill): their fate is open. */
  unanswered: number;
  /** Requests the plane answered with an error (a 5xx while its store was unavailable). */
  refused: number;
}

export function startWriters(url: string, adminToken: string, writers: number, prefix: string): { acked: AckedWrites; stop(): Promise<void> } {
  const acked: AckedWrites = { revocations: [], secrets: new Map(), unanswered: 0, refused: 0 };
  let stopped = false;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const loop = async (w: number) => {
    for (let i = 0; !stopped; i++) {
      const jti = `${prefix}-${w}-${i}`;
      try {
        if (i % 4 === 3) {
          const data = Buffer.from(`value of ${jti}`).toString('base64');
          const res = await rawRequest(`${url}/global-secrets/${jti}`, { method: 'PUT', headers, body: JSON.stringify({ type: 'GlobalSecret', data }) });
          if (res.status === 201) acked.secrets.set(jti, data);
          else acked.refused += 1;
        } else {
          const res = await rawRequest(`${url}/tokens/user/revocations`, { method: 'POST', headers, body: JSON.stringify({ jti }) });
          if (res.status === 201) acked.revocations.push(jti);
          else acked.refused += 1;
        }
      } catch {
        acked.unanswered += 1;
        return;
      }
    }
  };
  const done = Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  return {
    acked,
    async stop() {
      stopped = true;
      await done;
    },
  };
}
