import { Counter, Gauge, Registry } from 'prom-client';

/**
 * One registry per plane (not prom-client's global one), so several planes or sync clients can
 * live in one process, as the benchmarks run them.
 */
export interface Metrics {
  registry: Registry;
  tokensIssued: Counter<'kind'>;
  authentications: Counter<'result' | 'reason'>;
  dataplaneBootstrapRefusals: Counter<'reason'>;
  refusalLogLinesSuppressed: Counter;
}

export function createMetrics(plane: 'global' | 'zone'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ plane });
  return {
    registry,
    tokensIssued: new Counter({ name: 'meshauth_tokens_issued_total', help: 'Tokens issued, by kind', labelNames: ['kind'], registers: [registry] }),
    authentications: new Counter({
      name: 'meshauth_authentications_total',
      help: 'API requests authenticated, by result (authenticated, anonymous, refused) and refusal reason (an error code)',
      labelNames: ['result', 'reason'],
      registers: [registry],
    }),
    dataplaneBootstrapRefusals: new Counter({
      name: 'meshauth_dataplane_bootstrap_refusals_total',
      help: 'dp-server bootstraps refused, by reason (malformed, expired, revoked, foreign-zone, other-mesh, …)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    refusalLogLinesSuppressed: new Counter({
      name: 'meshauth_refusal_log_lines_suppressed_total',
      help: 'Refusal log lines not written because their client address had used up its lines for the window (each is still counted as a refusal)',
      registers: [registry],
    }),
  };
}

/** A gauge read when scraped, so it never drifts from the state it reports. */
export function registerGauge(metrics: Metrics, name: string, help: string, labelNames: string[], collect: () => [Record<string, string>, number][]): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const [labels, value] of collect()) this.set(labels, value);
    },
  });
}
