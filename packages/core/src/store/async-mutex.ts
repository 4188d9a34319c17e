/** Runs async sections one at a time, in the order they asked. */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    // The next section waits for this one to end, however it ends.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
