import type { Command } from 'commander';

/** Every command path of the tree (`""` for meshctl itself) with the words that may follow it. */
function completionTable(root: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (cmd: Command, path: string) => {
    const subcommands = cmd.commands.map((c) => c.name());
    const options = cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => typeof f === 'string');
    const inherited = path === '' ? [] : root.options.map((o) => o.long).filter((f): f is string => typeof f === 'string' && f !== '--version');
    table.set(path, [...subcommands, ...(subcommands.length > 0 ? ['help'] : []), ...options, ...inherited, '--help']);
    for (const sub of cmd.commands) walk(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
  };
  walk(root, '');
  return table;
}

/**
 * `meshctl completion bash`: one function that follows the command words typed so far (skipping
 * options and their values) and offers the subcommands and options of the command reached.
 * Generated from the command tree, so it never lists a command that does not exist.
 */
export function bashCompletion(root: Command): string {
  const table = completionTable(root);
  const quote = (text: string) => `'${text}'`;
  const paths = [...table.keys()].filter((p) => p !== '');
  return `# meshctl completion for bash: source <(meshctl completion bash)
_meshctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "\${path:+$path }$word" in
      ${paths.map(quote).join('|')}) path="\${path:+$path }$word" ;;
    esac
  done
  local words=""
  case "$path" in
${[...table].map(([path, words]) => `    ${quote(path)}) words=${quote(words.join(' '))} ;;`).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _meshctl meshctl
`;
}

/** `meshctl completion zsh`: the same function through zsh's bash-completion layer. */
export function zshCompletion(root: Command): string {
  return `#compdef meshctl
# meshctl completion for zsh: source <(meshctl completion zsh), or save it as _meshctl in $fpath
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root).split('\n').slice(1).join('\n')}`;
}
