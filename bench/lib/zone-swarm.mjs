import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { rssMb } from './daemon.mjs';

const workerPath = fileURLToPath(new URL('./zone-swarm-worker.mjs', import.meta.url));

/** One worker process and a way to ask it something and wait for its answer. */
function startWorker() {
  // BENCH_SWARM_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is for profiling the zones' side.
  const execArgv = (process.env.BENCH_SWARM_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const waiting = [];
  const refusals = new Map();
  let failure;
  const fail = (error) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.reject(error);
    for (const r of refusals.values()) r.reject(error);
    refusals.clear();
  };
  child.on('message', (message) => {
    if (message.type === 'error') return fail(new Error(`zone swarm worker ${child.pid}: ${message.message}`));
    if (message.type === 'refused') {
      const r = refusals.get(message.jti);
      refusals.delete(message.jti);
      return r?.resolve(message.times);
    }
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index !== -1) waiting.splice(index, 1)[0].resolve(message);
  });
  child.on('exit', (code) => fail(new Error(`zone swarm worker ${child.pid} exited with ${code}`)));
  const expect = (type) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.push({ type, resolve, reject });
    });
  return {
    child,
    expect,
    ask(message, replyType) {
      const reply = expect(replyType);
      child.send(message);
      return reply;
    },
    refusedBy(jti) {
      return new Promise((resolve, reject) => refusals.set(jti, { resolve, reject }));
    },
  };
}

/**
 * Many zones' sync clients spread over worker processes (at most `perProcess` each, and at least
 * as many processes as cores), all dialing one global. Each simulated zone is what a zone-cp
 * process's sync side is: its own zone token (issued by global for its name), its own gRPC channel
 * and TCP connection (createSyncClient sets grpc.use_local_subchannel_pool, so grpc-js never shares
 * one connection between the clients of a process), its own store and user-token family. What it
 * lacks is the zone's API server and data-plane server. `connect: false` prepares the zones
 * without dialing; `connect()` then starts them all at once (for timing the connection storm).
 * Times come back as wall-clock milliseconds at sub-millisecond resolution (performance.timeOrigin
 * + performance.now()), comparable across processes of this machine.
 */
export async function startZoneSwarm({ address, zones, perProcess, heartbeatIntervalMs = 5_000, connect = true }) {
  // At least one process per core: real zones run on machines of their own, in parallel.
  const per = Math.min(perProcess, Math.ceil(zones.length / cpus().length));
  const workers = [];
  for (let i = 0; i < zones.length; i += per) workers.push({ worker: startWorker(), zones: zones.slice(i, i + per) });
  // Every worker opens its zones' stores and families first; none dials before all are ready.
  await Promise.all(
    workers.map(async ({ worker, zones: slice }) => {
      await worker.expect('ready');
      await worker.ask({ type: 'prepare', address, zones: slice, heartbeatIntervalMs }, 'prepared');
    }),
  );
  const swarm = swarmOf(workers.map((w) => w.worker));
  if (connect) await swarm.connect();
  return swarm;
}

function swarmOf(workers) {
  return {
    workers,
    /** Every zone starts dialing; resolves with the earliest moment one did. */
    async connect() {
      const replies = await Promise.all(workers.map((w) => w.ask({ type: 'connect' }, 'connecting')));
      return Math.min(...replies.map((r) => r.at));
    },
    /** Dials after a zone's first, every zone together, as of the last `waitSynced`. */
    redials: 0,
    /** Resolves with the time the last zone reached `version`; counts the redials meanwhile. */
    async waitSynced(version, timeoutMs = 300_000) {
      const replies = await Promise.all(workers.map((w) => w.ask({ type: 'wait-synced', version, timeoutMs }, 'synced')));
      this.redials = replies.reduce((sum, r) => sum + r.redials, 0);
      return Math.max(...replies.map((r) => r.at));
    },
    async accepts(token) {
      await Promise.all(workers.map((w) => w.ask({ type: 'accepts', token }, 'accepted')));
    },
    /**
     * Starts watching for `jti`; `refused` then gives every zone's refusal time. `prove`, once
     * `refused` has resolved, has every zone verify the token and fail if one still accepts it.
     */
    async watch(jti, token) {
      const all = Promise.all(workers.map((w) => w.refusedBy(jti))).then((lists) => lists.flat());
      all.catch(() => {});
      await Promise.all(workers.map((w) => w.ask({ type: 'watch', jti, token }, 'watching')));
      return { refused: all, prove: () => Promise.all(workers.map((w) => w.ask({ type: 'prove', jti }, 'proved'))) };
    },
    rssMb() {
      return workers.reduce((sum, w) => sum + rssMb(w.child.pid), 0);
    },
    async stop() {
      await Promise.all(
        workers.map(async (w) => {
          if (w.child.exitCode !== null) return;
          const exited = new Promise((r) => w.child.once('exit', r));
          w.child.send({ type: 'stop' });
          const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
