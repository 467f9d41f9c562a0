import type { Interfaces } from '@oclif/core';

/** Single-quoted for the shell. */
const quoted = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A bash completion function for a bin (zsh loads it through bashcompinit): commands and flags
 * from the command set this bin offers, and live names (backends, rules, users, rule domains)
 * asked from the bin itself (`completion --names KIND`: the daemon, or the config file).
 */
export function completionScript(config: Interfaces.Config, bin: string, shell: 'bash' | 'zsh'): string {
  const commands = config.commands.filter((c) => !c.hidden && c.id !== 'help' && !c.id.startsWith('autocomplete'));
  const top = [...new Set(commands.map((c) => c.id.split(':')[0]))].sort();
  const subs = [...new Set(commands.filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]))].sort();
  const fn = `_${bin.replace(/-/g, '_')}`;
  const subCases = subs.map((topic) => `    ${topic}) words=${quoted(commands.filter((c) => c.id.startsWith(`${topic}:`)).map((c) => c.id.split(':')[1]).sort().join(' '))} ;;`).join('\n');
  const flagCases = commands
    // A one-word command is followed by anything (its flags): "start --config" matches "start "*.
    .map((c) => `    ${c.id.includes(':') ? quoted(c.id.replaceAll(':', ' ')) : `${quoted(`${c.id} `)}*`}) words=${quoted(Object.keys(c.flags).sort().map((f) => `--${f}`).join(' '))} ;;`)
    .join('\n');
  const body = `${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" kind="" words=""
  case "$prev" in
    --backend) kind=backend ;;
    --username) kind=user ;;
    --name) case "\${COMP_WORDS[1]}" in backend) kind=backend ;; rule) kind=rule ;; esac ;;
  esac
  if [[ -z $kind && "\${COMP_WORDS[1]} \${COMP_WORDS[2]}" == "rule test" && $COMP_CWORD -eq 3 ]]; then kind=domain; fi
  if [[ -n $kind ]]; then
    words="$("\${COMP_WORDS[0]}" completion --names "$kind" 2>/dev/null)"
  elif [[ $COMP_CWORD -eq 1 ]]; then
    words=${quoted(top.join(' '))}
  elif [[ $COMP_CWORD -eq 2 ]]; then
    case "\${COMP_WORDS[1]}" in
${subCases}
    esac
  fi
  if [[ -z $kind && -z $words ]]; then
    case "\${COMP_WORDS[1]} \${COMP_WORDS[2]}" in
${flagCases}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${bin}
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${body}` : body;
}
