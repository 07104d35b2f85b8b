import { usageError } from '../errors.js';
import { version } from '../version.js';
import { commands, summaryOf } from './commands.js';
import { parseCommandArgs, type Command } from './command.js';
import { GLOBAL_OPTIONS } from './help.js';
import { optionTexts, parseSynopsis, parseUsage, type OptionSpec } from './usage.js';

/** What an option's value or a positional is completed with. Live ones come from `hopdump __complete KIND`. */
export type ValueKind =
  { kind: 'target' | 'netns' | 'from' } | { kind: 'file' | 'dir' | 'none' } | { kind: 'choices'; choices: string[] };

export interface CompletionOption {
  name: string;
  /** Whether it takes a value (the next word). */
  value: boolean;
  values: ValueKind;
  text: string;
}

/** What can follow `hopdump WORDS`: `diagnose`, or `lab up` for a command with subcommands. */
export interface CompletionKey {
  key: string;
  options: CompletionOption[];
  positionals: ValueKind;
}

export interface CompletionSpec {
  commands: Array<{ name: string; summary: string; subcommands: Array<{ name: string; text: string }> }>;
  keys: CompletionKey[];
  global: Array<{ name: string; text: string }>;
}

/**
 * The options that take live candidates, by name (the rest is read from the usage texts): a
 * `--target T` is what `hopdump path` resolves (analyze's `--target ADDR` is an address in files).
 */
function valueKind(option: OptionSpec): ValueKind {
  const value = option.value ?? '';
  if (option.name === '--netns') return { kind: 'netns' };
  if (option.name === '--from') return { kind: 'from' };
  if (option.name === '--target' && value === 'T') return { kind: 'target' };
  if (/\bFILE\b/.test(value)) return { kind: 'file' };
  if (/\bDIR\b/.test(value)) return { kind: 'dir' };
  return option.choices.length ? { kind: 'choices', choices: option.choices } : { kind: 'none' };
}

function positionalKind(positionals: string[]): ValueKind {
  if (positionals.some((p) => /^FILE\b/.test(p))) return { kind: 'file' };
  const choices = positionals.filter((p) => /^[a-z0-9|-]+$/.test(p)).flatMap((p) => p.split('|'));
  return choices.length ? { kind: 'choices', choices } : { kind: 'none' };
}

/** The completion spec of the commands that --help lists, from their usage texts alone. */
export function completionSpec(list: ReadonlyArray<Pick<Command, 'name' | 'summary' | 'usage'>>): CompletionSpec {
  const spec: CompletionSpec = {
    commands: [],
    keys: [],
    global: GLOBAL_OPTIONS.flatMap((o) => o.names.map((name) => ({ name, text: o.text }))),
  };
  for (const c of list) {
    const parsed = parseUsage(c.usage);
    const texts = optionTexts(parsed);
    const listTexts = new Map(
      parsed.blocks.flatMap((b) =>
        b.kind === 'list' ? b.entries.map((e) => [e.term.split(' ')[0]!, e.text.join(' ')] as const) : [],
      ),
    );
    const synopses = parsed.synopses.map(parseSynopsis);
    const subcommands = [...new Set(synopses.map((s) => s.words[0]).filter((w): w is string => w !== undefined))];
    spec.commands.push({
      name: c.name,
      summary: c.summary,
      subcommands: subcommands.map((name) => ({ name, text: listTexts.get(name) ?? '' })),
    });
    if (subcommands.length) spec.keys.push({ key: c.name, options: [], positionals: { kind: 'none' } });
    for (const s of synopses) {
      const key = [c.name, ...s.words].join(' ');
      const options: CompletionOption[] = [];
      for (const o of s.options) {
        if (options.some((x) => x.name === o.name)) continue;
        options.push({
          name: o.name,
          value: o.value !== undefined,
          values: valueKind(o),
          text: texts.get(o.name) ?? '',
        });
      }
      spec.keys.push({ key, options, positionals: positionalKind(s.positionals) });
    }
  }
  return spec;
}

/** One word in single quotes, for bash, zsh and fish alike. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function short(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 70 ? `${t.slice(0, 69)}…` : t;
}

/** `case` patterns for the keys with subcommands: `'lab up'|'lab down'`. */
function subKeyPattern(spec: CompletionSpec): string {
  const keys = spec.commands.flatMap((c) => c.subcommands.map((s) => sq(`${c.name} ${s.name}`)));
  return keys.length ? keys.join('|') : "'-'";
}

/** `'diagnose|--target'|'path|--target'` for every option whose value is of this kind. */
function valuePattern(spec: CompletionSpec, test: (v: ValueKind) => boolean): string | undefined {
  const p = spec.keys.flatMap((k) =>
    k.options.filter((o) => o.value && test(o.values)).map((o) => sq(`${k.key}|${o.name}`)),
  );
  return p.length ? p.join('|') : undefined;
}

function bash(spec: CompletionSpec): string {
  const cases: string[] = [];
  const live = (kind: string) => (v: ValueKind) => v.kind === kind;
  for (const kind of ['target', 'netns', 'from']) {
    const p = valuePattern(spec, live(kind));
    if (p) cases.push(`    ${p}) _hopdump_live ${kind} ;;`);
  }
  const file = valuePattern(spec, live('file'));
  if (file) cases.push(`    ${file}) _hopdump_files -f ;;`);
  const dir = valuePattern(spec, live('dir'));
  if (dir) cases.push(`    ${dir}) _hopdump_files -d ;;`);
  for (const k of spec.keys)
    for (const o of k.options)
      if (o.value && o.values.kind === 'choices')
        cases.push(`    ${sq(`${k.key}|${o.name}`)}) _hopdump_reply ${o.values.choices.map(sq).join(' ')} ;;`);
  const none = valuePattern(spec, live('none'));
  if (none) cases.push(`    ${none}) ;;`);
  const optionCases = spec.keys.map(
    (k) => `    ${sq(k.key)}) _hopdump_reply ${[...k.options.map((o) => o.name), '--help'].map(sq).join(' ')} ;;`,
  );
  const positionalCases = spec.keys.flatMap((k) => {
    const c = spec.commands.find((x) => x.name === k.key);
    if (c?.subcommands.length)
      return [`    ${sq(k.key)}) _hopdump_reply ${c.subcommands.map((s) => sq(s.name)).join(' ')} ;;`];
    if (k.positionals.kind === 'file') return [`    ${sq(k.key)}) _hopdump_files -f ;;`];
    if (k.positionals.kind === 'choices')
      return [`    ${sq(k.key)}) _hopdump_reply ${k.positionals.choices.map(sq).join(' ')} ;;`];
    return [];
  });
  return `# bash completion for hopdump ${version()}, made by \`hopdump completion bash\` from its usage texts.
# Works with plain bash (complete -F) and with the bash-completion package alike.

# Adds the arguments that start with the word being completed. Bash splits words at ':' (COMP_WORDBREAKS):
# for netns:NAME it replaces only what follows the last colon, so that part alone is offered.
_hopdump_reply() {
  local c pre=''
  [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]] && pre=\${cur%"\${cur##*:}"}
  for c; do
    [[ $c == "$cur"* ]] && COMPREPLY+=("\${c#"$pre"}")
  done
}

# Live candidates (target, netns, from) from the hopdump being completed, one per line; nothing on errors.
_hopdump_live() {
  local prog=\${words[0]} line
  local -a found=()
  [[ $prog == '~/'* ]] && prog=$HOME/\${prog#'~/'}
  while IFS= read -r line; do found+=("$line"); done < <(timeout 3 "$prog" __complete "$1" "$cur" "$netns" 2>/dev/null)
  _hopdump_reply "\${found[@]}"
}

_hopdump_files() {
  local line
  compopt -o filenames 2>/dev/null
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$1" -- "$cur")
}

_hopdump() {
  COMPREPLY=()
  # The words as typed up to the cursor, split at blanks only (not at ':' or '=' as COMP_WORDS is).
  local line=\${COMP_LINE:0:COMP_POINT} cur prev key='' netns='' w i n
  local -a words=()
  read -r -a words <<<"$line"
  [[ -z $line || $line == *[[:space:]] ]] && words+=('')
  n=$((\${#words[@]} - 1))
  ((n >= 1)) || return 0
  cur=\${words[n]}
  prev=\${words[n - 1]}
  for ((i = 1; i < n; i++)); do
    w=\${words[i]}
    case $w in
      --netns) ((i + 1 < n)) && netns=\${words[i + 1]} ;;
      -*) ;;
      *)
        if [[ -z $key ]]; then
          key=$w
        else
          case "$key $w" in
            ${subKeyPattern(spec)}) key="$key $w" ;;
          esac
        fi
        ;;
    esac
  done
  if [[ -z $key ]]; then
    if [[ $cur == -* ]]; then
      _hopdump_reply ${spec.global.map((g) => sq(g.name)).join(' ')}
    else
      _hopdump_reply ${spec.commands.map((c) => sq(c.name)).join(' ')}
    fi
    return 0
  fi
  case "$key|$prev" in
${cases.join('\n')}
    *)
      if [[ $cur == -* ]]; then
        case $key in
${optionCases.map((c) => `      ${c}`).join('\n')}
        esac
      else
        case $key in
${positionalCases.map((c) => `      ${c}`).join('\n')}
        esac
      fi
      ;;
  esac
  return 0
}

complete -F _hopdump hopdump
`;
}

/** zsh's _describe takes NAME:TEXT; a colon in NAME is escaped. */
function described(name: string, text: string): string {
  return sq(`${name.replace(/:/g, '\\:')}${text ? `:${short(text)}` : ''}`);
}

function zsh(spec: CompletionSpec): string {
  const valueCases: string[] = [];
  for (const kind of ['target', 'netns', 'from'] as const) {
    const p = valuePattern(spec, (v) => v.kind === kind);
    if (p) valueCases.push(`    (${p}) _hopdump_live ${kind} ;;`);
  }
  const file = valuePattern(spec, (v) => v.kind === 'file');
  if (file) valueCases.push(`    (${file}) _files ;;`);
  const dir = valuePattern(spec, (v) => v.kind === 'dir');
  if (dir) valueCases.push(`    (${dir}) _files -/ ;;`);
  for (const k of spec.keys)
    for (const o of k.options)
      if (o.value && o.values.kind === 'choices')
        valueCases.push(`    (${sq(`${k.key}|${o.name}`)}) compadd -- ${o.values.choices.map(sq).join(' ')} ;;`);
  const none = valuePattern(spec, (v) => v.kind === 'none');
  if (none) valueCases.push(`    (${none}) _message value ;;`);
  const optionCases = spec.keys.map(
    (k) =>
      `        (${sq(k.key)}) c=(${[...k.options.map((o) => described(o.name, o.text)), described('--help', 'this usage')].join(' ')}) ;;`,
  );
  const positionalCases = spec.keys.flatMap((k) => {
    const c = spec.commands.find((x) => x.name === k.key);
    if (c?.subcommands.length)
      return [
        `        (${sq(k.key)}) c=(${c.subcommands.map((s) => described(s.name, s.text)).join(' ')}); _describe -t commands 'hopdump ${c.name} command' c ;;`,
      ];
    if (k.positionals.kind === 'file') return [`        (${sq(k.key)}) _files ;;`];
    if (k.positionals.kind === 'choices')
      return [`        (${sq(k.key)}) compadd -- ${k.positionals.choices.map(sq).join(' ')} ;;`];
    return [];
  });
  return `#compdef hopdump
# zsh completion for hopdump ${version()}, made by \`hopdump completion zsh\` from its usage texts.

# Live candidates (target, netns, from) from the hopdump being completed, one per line; nothing on errors.
_hopdump_live() {
  local prog=\${words[1]/#\\~/$HOME}
  local -a found
  found=("\${(@f)$(timeout 3 "$prog" __complete "$1" "$cur" "$netns" 2>/dev/null)}")
  found=(\${found:#})
  compadd -- "\${found[@]}"
}

_hopdump() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} key= netns= w i
  local -a c
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case $w in
      (--netns) ((i + 1 < CURRENT)) && netns=\${words[i+1]} ;;
      (-*) ;;
      (*)
        if [[ -z $key ]]; then
          key=$w
        else
          case "$key $w" in
            (${subKeyPattern(spec)}) key="$key $w" ;;
          esac
        fi
        ;;
    esac
  done
  if [[ -z $key ]]; then
    if [[ $cur == -* ]]; then
      c=(${spec.global.map((g) => described(g.name, g.text)).join(' ')})
      _describe -t options 'hopdump option' c
    else
      c=(${spec.commands.map((x) => described(x.name, x.summary)).join(' ')})
      _describe -t commands 'hopdump command' c
    fi
    return
  fi
  case "$key|$prev" in
${valueCases.join('\n')}
    (*)
      if [[ $cur == -* ]]; then
        case $key in
${optionCases.join('\n')}
        esac
        _describe -t options 'option' c
      else
        case $key in
${positionalCases.join('\n')}
        esac
      fi
      ;;
  esac
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _hopdump "$@"
else
  compdef _hopdump hopdump
fi
`;
}

function fish(spec: CompletionSpec): string {
  const lines: string[] = [];
  const opt = (name: string) => (name.startsWith('--') ? `-l ${sq(name.slice(2))}` : `-s ${sq(name.slice(1))}`);
  const desc = (text: string) => (text ? ` -d ${sq(short(text))}` : '');
  for (const g of spec.global) lines.push(`complete -c hopdump -n '__hopdump_is ""' ${opt(g.name)}${desc(g.text)}`);
  for (const c of spec.commands)
    lines.push(`complete -c hopdump -n '__hopdump_is ""' -a ${sq(c.name)}${desc(c.summary)}`);
  for (const c of spec.commands)
    for (const s of c.subcommands)
      lines.push(`complete -c hopdump -n ${sq(`__hopdump_is ${c.name}`)} -a ${sq(s.name)}${desc(s.text)}`);
  for (const k of spec.keys) {
    const cond = `-n ${sq(`__hopdump_is ${sq(k.key)}`)}`;
    for (const o of k.options) {
      const v = o.values;
      const how = !o.value
        ? ''
        : v.kind === 'target' || v.kind === 'netns' || v.kind === 'from'
          ? ` -x -a ${sq(`(__hopdump_live ${v.kind})`)}`
          : v.kind === 'file'
            ? ' -r -F'
            : v.kind === 'dir'
              ? " -x -a '(__fish_complete_directories)'"
              : v.kind === 'choices'
                ? ` -x -a ${sq(v.choices.join(' '))}`
                : ' -x';
      lines.push(`complete -c hopdump ${cond} ${opt(o.name)}${how}${desc(o.text)}`);
    }
    lines.push(`complete -c hopdump ${cond} -l help -d 'this usage'`);
    if (k.positionals.kind === 'file') lines.push(`complete -c hopdump ${cond} -F`);
    if (k.positionals.kind === 'choices')
      lines.push(`complete -c hopdump ${cond} -a ${sq(k.positionals.choices.join(' '))}`);
  }
  const subKeys = spec.commands.flatMap((c) => c.subcommands.map((s) => sq(`${c.name} ${s.name}`)));
  return `# fish completion for hopdump ${version()}, made by \`hopdump completion fish\` from its usage texts.

# What the command line names so far: '' (nothing yet), 'diagnose', 'lab up'.
function __hopdump_key
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l key ''
    for w in $tokens
        switch $w
            case '-*'
            case '*'
                if test -z "$key"
                    set key $w
                else if contains -- "$key $w" ${subKeys.join(' ') || "''"}
                    set key "$key $w"
                end
        end
    end
    echo $key
end

function __hopdump_is
    set -l key (__hopdump_key)
    test "$key" = "$argv[1]"
end

# Live candidates (target, netns, from) from the hopdump being completed, one per line; nothing on errors.
function __hopdump_live
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l netns ''
    set -l i (contains -i -- --netns $tokens)
    and test $i -lt (count $tokens)
    and set netns $tokens[(math $i + 1)]
    set -l prog (string replace -r '^~/' "$HOME/" -- $tokens[1])
    timeout 3 $prog __complete $argv[1] "$cur" "$netns" 2>/dev/null
end

complete -c hopdump -f
${lines.join('\n')}
`;
}

export const SHELLS = { bash, zsh, fish } as const;

export const completionCommand: Command = {
  name: 'completion',
  summary: summaryOf('completion'),
  usage: `usage: hopdump completion bash|zsh|fish

Prints a completion script for the shell: the commands, their options, and
for --target, --netns and --from the live candidates of this host (named
namespaces as netns:NAME, interfaces, libvirt domains, containers), which the
script asks hopdump for at each TAB (quickly, without root where it can).

  bash   save as /usr/share/bash-completion/completions/hopdump, or
         source <(hopdump completion bash) in ~/.bashrc
  zsh    save as _hopdump in a directory of $fpath (the package's:
         /usr/share/zsh/vendor-completions/_hopdump), or
         source <(hopdump completion zsh) after compinit
  fish   save as /usr/share/fish/vendor_completions.d/hopdump.fish, or
         hopdump completion fish | source
`,
  async run(args, io) {
    const { positionals } = parseCommandArgs('completion', args, {}, true);
    const shell = positionals[0];
    if (positionals.length !== 1 || !(shell === 'bash' || shell === 'zsh' || shell === 'fish'))
      throw usageError('completion needs one shell: bash, zsh or fish', "see 'hopdump completion --help'");
    io.stdout(SHELLS[shell](completionSpec(await commands())));
    return 0;
  },
};
