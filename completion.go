package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// okru-run completion SHELL writes a completion script for bash, zsh or
// fish. The scripts are made from the registered commands and the flags
// they parse with (see commandFlags), so a new command or flag is offered
// as soon as it exists.

func init() {
	register("completion", "print a shell completion script: completion bash|zsh|fish", cmdCompletion)
}

const completionAbout = `Prints a script that completes okru-run's commands, flags and files.
Load it in the current shell, or at every start from the shell's start file:

  bash:  source <(okru-run completion bash)       (in ~/.bashrc)
  zsh:   source <(okru-run completion zsh)        (in ~/.zshrc, after compinit)
  fish:  okru-run completion fish > ~/.config/fish/completions/okru-run.fish`

var completionShells = map[string]func(io.Writer, []completionCommand){
	"bash": bashCompletion,
	"zsh":  zshCompletion,
	"fish": fishCompletion,
}

// flagChoices are the values of flags that take one of a few words.
var flagChoices = map[string][]string{
	"color": {"auto", "always", "never"},
}

// completionArgs are what a command takes after its flags, when not files.
var completionArgs = map[string]func() []string{
	"help":       commandNames,
	"completion": func() []string { return []string{"bash", "fish", "zsh"} },
	"version":    func() []string { return nil },
	"sandbox":    func() []string { return nil },
	"login":      func() []string { return nil },
	"methods":    func() []string { return nil }, // a method name prefix
}

func cmdCompletion(ctx context.Context, env *cliEnv, args []string) int {
	fs := newCommandFlags(env, "completion", "completion bash|zsh|fish", completionAbout)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(env.stderr, "okru-run completion: name one shell: bash, zsh or fish")
		return exitInvalid
	}
	write, ok := completionShells[pos[0]]
	if !ok {
		msg := fmt.Sprintf("okru-run completion: %s is not a shell okru-run completes (bash, zsh or fish)", pos[0])
		if guess := suggest(pos[0], []string{"bash", "zsh", "fish"}); guess != "" {
			msg += fmt.Sprintf("; did you mean %s?", guess)
		}
		fmt.Fprintln(env.stderr, msg)
		return exitInvalid
	}
	write(env.stdout, completionCommands(ctx))
	return exitOK
}

// completionCommand is what a completion script knows of a command.
type completionCommand struct {
	name, summary string
	flags         []completionFlag
	args          []string // the words it takes; nil for files
	files         bool     // whether it takes files
}

type completionFlag struct {
	name, usage string
	value       bool     // takes a value
	file        bool     // the value is a file (its usage says `file`)
	choices     []string // the value is one of these
}

func completionCommands(ctx context.Context) []completionCommand {
	var cmds []completionCommand
	for _, name := range commandNames() {
		c := completionCommand{name: name, summary: commands[name].summary, files: true}
		if args, ok := completionArgs[name]; ok {
			c.args, c.files = args(), false
		}
		for _, f := range commandFlags(ctx, name) {
			valueName, usage := flag.UnquoteUsage(f)
			usage, _, _ = strings.Cut(usage, "; ")
			bf, isBool := f.Value.(interface{ IsBoolFlag() bool })
			c.flags = append(c.flags, completionFlag{
				name: f.Name, usage: usage, value: !isBool || !bf.IsBoolFlag(),
				file: valueName == "file", choices: flagChoices[f.Name],
			})
		}
		cmds = append(cmds, c)
	}
	return cmds
}

func commandList(cmds []completionCommand) string {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	return strings.Join(names, " ")
}

// bashCompletion writes a script for bash's complete -F. A first word
// that is not a command is a workflow or script: okru-run FILE is run.
func bashCompletion(w io.Writer, cmds []completionCommand) {
	all := commandList(cmds)
	fmt.Fprintf(w, `# bash completion for okru-run, written by okru-run completion bash.
# Load it with: source <(okru-run completion bash)

_okru_run() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=run flags="" fileflags="" valued="" words="" files=1
    if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur") $(compgen -f -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
    %s) cmd=${COMP_WORDS[1]} ;;
    esac
    case $cmd in
`, all, strings.ReplaceAll(all, " ", "|"))
	for _, c := range cmds {
		var flags, valued, files []string
		for _, f := range c.flags {
			flags = append(flags, "-"+f.name)
			switch {
			case f.file:
				files = append(files, "-"+f.name)
			case f.value && len(f.choices) == 0:
				valued = append(valued, "-"+f.name)
			}
		}
		fmt.Fprintf(w, "    %s)\n        flags=%q\n        fileflags=%q\n        valued=%q\n", c.name,
			strings.Join(flags, " "), strings.Join(files, " "), strings.Join(valued, " "))
		if !c.files {
			fmt.Fprintf(w, "        words=%q\n        files=0\n", strings.Join(c.args, " "))
		}
		fmt.Fprintf(w, "        ;;\n")
	}
	fmt.Fprintf(w, "    esac\n    case $prev in\n")
	for _, name := range slices.Sorted(maps.Keys(flagChoices)) {
		fmt.Fprintf(w, "    -%s | --%s)\n        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        return\n        ;;\n",
			name, name, strings.Join(flagChoices[name], " "))
	}
	fmt.Fprintf(w, "%s", `    esac
    [[ $prev == --* ]] && prev=${prev#-} # --var is -var
    if [[ " $fileflags " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    fi
    if [[ " $valued " == *" $prev "* ]]; then
        COMPREPLY=()
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif ((files)); then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
}

complete -o filenames -o bashdefault -F _okru_run okru-run
`)
}

// zshCompletion writes a script for zsh's completion system: a #compdef
// file for $fpath that also works when sourced.
func zshCompletion(w io.Writer, cmds []completionCommand) {
	fmt.Fprintf(w, `#compdef okru-run
# zsh completion for okru-run, written by okru-run completion zsh.
# Load it with source <(okru-run completion zsh) after compinit, or save
# it as _okru-run in a folder of $fpath.

_okru_run() {
  local -a commands
  commands=(
`)
	for _, c := range cmds {
		fmt.Fprintf(w, "    %s\n", zshQuote(c.name+":"+c.summary))
	}
	fmt.Fprintf(w, `  )
  if (( CURRENT == 2 )) && [[ ${words[2]} != -* ]]; then
    _describe -t commands 'okru-run command' commands
    _files
    return
  fi
  local cmd=run
  case ${words[2]} in
  (%s) cmd=${words[2]}; shift words; (( CURRENT-- )) ;;
  esac
  case $cmd in
`, strings.ReplaceAll(commandList(cmds), " ", "|"))
	for _, c := range cmds {
		fmt.Fprintf(w, "  (%s)\n    _arguments -S \\\n", c.name)
		for _, f := range c.flags {
			spec := "*-" + f.name + "[" + zshEscape(f.usage) + "]"
			switch {
			case len(f.choices) > 0:
				spec += ":" + f.name + ":(" + strings.Join(f.choices, " ") + ")"
			case f.file:
				spec += ":file:_files"
			case f.value:
				spec += ":" + f.name + ": "
			}
			fmt.Fprintf(w, "      %s \\\n", zshQuote(spec))
		}
		switch {
		case c.files:
			fmt.Fprintf(w, "      '*:file:_files'\n")
		case len(c.args) > 0:
			fmt.Fprintf(w, "      %s\n", zshQuote("1:"+c.name+":("+strings.Join(c.args, " ")+")"))
		default:
			fmt.Fprintf(w, "      '*: :'\n")
		}
		fmt.Fprintf(w, "    ;;\n")
	}
	fmt.Fprintf(w, "%s", `  esac
}

if [[ $funcstack[1] == _okru_run ]]; then
  _okru_run "$@"
else
  compdef _okru_run okru-run
fi
`)
}

// zshEscape escapes what ends or splits an _arguments description.
func zshEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, ":", `\:`).Replace(s)
}

func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fishCompletion writes complete commands for fish. Flags of run are
// offered before any command too: okru-run FILE is run.
func fishCompletion(w io.Writer, cmds []completionCommand) {
	all := commandList(cmds)
	fmt.Fprintf(w, `# fish completion for okru-run, written by okru-run completion fish.
# Save it as ~/.config/fish/completions/okru-run.fish, or load it with
# okru-run completion fish | source

complete -c okru-run -e
`)
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c okru-run -n '__fish_use_subcommand' -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, c := range cmds {
		cond := "__fish_seen_subcommand_from " + c.name
		if c.name == "run" {
			cond += "; or not __fish_seen_subcommand_from " + all
		}
		fmt.Fprintf(w, "\n# %s\n", c.name)
		if !c.files {
			fmt.Fprintf(w, "complete -c okru-run -n %s -f", fishQuote(cond))
			if len(c.args) > 0 {
				fmt.Fprintf(w, " -a %s", fishQuote(strings.Join(c.args, " ")))
			}
			fmt.Fprintln(w)
		}
		for _, f := range c.flags {
			fmt.Fprintf(w, "complete -c okru-run -n %s -o %s", fishQuote(cond), f.name)
			switch {
			case len(f.choices) > 0:
				fmt.Fprintf(w, " -x -a %s", fishQuote(strings.Join(f.choices, " ")))
			case f.file:
				fmt.Fprintf(w, " -r -F")
			case f.value:
				fmt.Fprintf(w, " -x")
			}
			fmt.Fprintf(w, " -d %s\n", fishQuote(f.usage))
		}
	}
}

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}
