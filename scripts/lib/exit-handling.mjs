/**
 * The one way out of a demo that started processes: on success, failure, Ctrl-C (130), SIGTERM
 * (143), SIGHUP (129), stdout closing under it (`pnpm demo | head`: EPIPE, 141) and an uncaught
 * exception or rejection (1), it stops everything it started, once, then exits.
 *
 * Once stdout is gone, what is left to say goes to stderr. `stopAll()` stops what was started
 * and resolves with a label per process stopped ("zone-1 (pid 123)"); `workDir` is named as
 * removed.
 *
 * @param {{ name: string, workDir: string, stopAll: () => Promise<string[]> }} options
 */
export function handleEveryExit({ name, workDir, stopAll }) {
  let stdoutOpen = true;
  /** To stdout while it is open; dropped after. */
  const write = (text) => {
    if (stdoutOpen) process.stdout.write(text);
  };
  /** To stdout while it is open, to stderr after: what the user must still learn (what was stopped). */
  const note = (text) => {
    if (stdoutOpen) write(text);
    else process.stderr.write(text);
  };
  process.stderr.on('error', () => {});

  /** @type {Promise<never> | undefined} */
  let ending;
  /** Stops everything (once, however many ways out are taken together) and exits with `exitCode`. */
  const endWith = (exitCode, why) => {
    ending ??= (async () => {
      if (why) note(`\n${name}: ${why}, stopping everything it started\n`);
      try {
        const stopped = await stopAll();
        note(`${stopped.length > 0 ? `stopped ${stopped.join(', ')}; ` : ''}removed ${workDir}\n`);
      } catch (error) {
        process.stderr.write(`${name}: stopping failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        exitCode ||= 1;
      }
      process.exit(exitCode);
    })();
    return ending;
  };

  process.stdout.on('error', (error) => {
    stdoutOpen = false;
    void endWith(141, `stdout closed (${error.code ?? error.message})`);
  });
  for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(signal, () => void endWith(exitCode, signal));
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.on(event, (error) => {
      process.stderr.write(`${name}: ${event}: ${error instanceof Error ? error.stack : String(error)}\n`);
      void endWith(1);
    });
  }
  return {
    write,
    note,
    endWith,
    /** Whether a way out has been taken (a signal, EPIPE, an exception): the run's own end then waits for it. */
    get ending() {
      return ending;
    },
  };
}
