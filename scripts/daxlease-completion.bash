# SPDX-License-Identifier: BSD-3-Clause
# bash completion for daxlease: commands, each command's options (read
# from its --help, so they cannot drift), the pool as a local file, and
# paths inside the pool (read with `daxlease ls`) for words that start
# with '/' once the pool is named.  Installed as
# share/bash-completion/completions/daxlease.

# Names in directory $2 of pool $1 that start with $3; directories get a '/'.
_daxlease_pool_names()
{
	local pool=$1 dir=$2 pre=$3 line name
	while IFS= read -r line; do
		# ls -l: MODE LINKS UID GID SIZE DATE TIME NAME [-> TARGET]
		name=${line#* * * * * * * }
		name=${name%% -> *}
		case $name in "" | . | ..) continue ;; esac
		case $name in "$pre"*) ;; *) continue ;; esac
		if [ "${line:0:1}" = d ]; then
			printf '%s/\n' "$name"
		else
			printf '%s\n' "$name"
		fi
	done < <("${_daxlease_cmd:-daxlease}" ls -l -a "$pool" "$dir" 2>/dev/null)
}

_daxlease()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cmd="" pool="" i w
	local dx=${_daxlease_cmd:-daxlease}
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$dx" help 2>&1 |
			awk '/^  [a-z]+ / { print $1 }') help" -- "$cur")
		return
	fi
	cmd=${COMP_WORDS[1]}
	if [ "$cmd" = help ]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$dx" help 2>&1 |
			awk '/^  [a-z]+ / { print $1 }')" -- "$cur")
		return
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$dx" "$cmd" --help 2>&1 |
			grep -oE '(^|[[:space:]\[])--?[a-zA-Z][-a-zA-Z0-9]*' | tr -d ' [' | sort -u)" -- "$cur")
		return
	fi
	# the pool: the first word after the command that is not an option
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		[[ $w == -* ]] && continue
		pool=$w
		break
	done
	if [ -n "$pool" ] && [[ $cur == /* ]] && [ -e "$pool" ]; then
		local dir=${cur%/*} pre=${cur##*/} n
		[ -n "$dir" ] || dir=/
		COMPREPLY=()
		while IFS= read -r n; do
			COMPREPLY+=("${dir%/}/$n")
		done < <(_daxlease_pool_names "$pool" "$dir" "$pre")
		compopt -o nospace 2>/dev/null
		return
	fi
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	compopt -o filenames 2>/dev/null
}
complete -F _daxlease daxlease
