import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './daemon.js';

export interface DockerfileStage {
  from: string;
  name?: string;
  steps: { op: string; args: string }[];
}

/** Dockerfile instructions with continuation lines joined, grouped by stage. */
export function dockerfileStages(): DockerfileStage[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: DockerfileStage[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(trimmed)!;
    if (op!.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args!)!;
      stages.push({ from: from!, ...(name ? { name } : {}), steps: [] });
    } else {
      stages.at(-1)!.steps.push({ op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

