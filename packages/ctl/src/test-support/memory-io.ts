import type { CliIo } from '../io.js';

export interface MemoryIo extends CliIo {
  out: string;
  err: string;
}

/** A CliIo that collects output, for running meshctl in-process. */
export function memoryIo(options: { env?: NodeJS.ProcessEnv; stdin?: string; now?: Date } = {}): MemoryIo {
  const io: MemoryIo = {
    out: '',
    err: '',
    stdout: (text) => void (io.out += text),
    stderr: (text) => void (io.err += text),
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? {},
    now: () => options.now ?? new Date(),
  };
  return io;
}
