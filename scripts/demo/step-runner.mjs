/**
 * Runs the story's steps in order, printing each one's title, what it did and its verdict. The
 * first step that throws ends the run; its number and title name the failure.
 *
 * Output contract (test/demo.test.ts reads it): one `OK   <n>. <title>` or `FAIL <n>. <title>: <why>`
 * line per step run, and a last line `demo: <n>/<total> steps OK` or `demo: FAILED at step <n> ...`.
 */
export class StepRunner {
  /** @param {{ write: (text: string) => void }} out */
  constructor(out) {
    this.out = out;
    /** @type {{ title: string, run: (say: (line: string) => void) => Promise<void> }[]} */
    this.steps = [];
  }

  add(title, run) {
    this.steps.push({ title, run });
    return this;
  }

  /** Resolves with `{ ok: true }` or `{ ok: false, step, title, error }`. */
  async runAll() {
    const total = this.steps.length;
    for (const [index, step] of this.steps.entries()) {
      const n = index + 1;
      this.out.write(`\n[${n}/${total}] ${step.title}\n`);
      const say = (line) => this.out.write(`${indent(line)}\n`);
      const started = Date.now();
      try {
        await step.run(say);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.out.write(`FAIL ${n}. ${step.title}: ${reason}\n`);
        this.out.write(`\ndemo: FAILED at step ${n} "${step.title}"\n`);
        return { ok: false, step: n, title: step.title, error };
      }
      this.out.write(`OK   ${n}. ${step.title} (${Date.now() - started} ms)\n`);
    }
    this.out.write(`\ndemo: ${total}/${total} steps OK\n`);
    return { ok: true };
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((line) => `     ${line}`)
    .join('\n');
}
