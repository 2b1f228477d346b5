package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/tuneline/tuneline/internal/iostreams"
)

// The shell scripts ask tuneline itself for the words that may follow
// (urfave/cli's --generate-bash-completion), so they never go stale.
const bashCompletion = `# tuneline completion for bash: source <(tuneline completion bash)
_tuneline_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -o default -F _tuneline_complete tuneline
`

const zshCompletion = `#compdef tuneline
# tuneline completion for zsh: source <(tuneline completion zsh)
_tuneline() {
  local -a opts
  opts=("${(@f)$(${words[1]} ${words[@]:1:$CURRENT-2} --generate-bash-completion 2>/dev/null)}")
  _describe 'values' opts
  _files
}
compdef _tuneline tuneline
`

func newCompletionCmd(ios *iostreams.IOStreams) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes tuneline's commands and flags in your shell.

EXAMPLES:
   source <(tuneline completion bash)            # this shell; add it to ~/.bashrc to keep it
   tuneline completion zsh > "${fpath[1]}/_tuneline"
   tuneline completion fish > ~/.config/fish/completions/tuneline.fish`,
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(ios.Out, bashCompletion)
			case "zsh":
				fmt.Fprint(ios.Out, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(ios.Out, s)
			default:
				return usageErr("completion: give the shell: bash, zsh or fish")
			}
			return nil
		},
	}
}
