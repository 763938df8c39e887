#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bash completion (scripts/daxlease-completion.bash): commands, options from
# each command's --help, the pool as a local file, and paths inside the pool.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
_daxlease_cmd=$DXL
# shellcheck source=/dev/null
source "$src/scripts/daxlease-completion.bash"
compopt() { :; } # only valid inside a completion run by readline

# complete WORDS... ; the last word is the one being completed
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_daxlease
	printf '%s\n' "${COMPREPLY[@]}" >"$T/out"
}
want() { grep -qxF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "no completion '$1'"; }; }
not() { ! grep -qxF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "unexpected completion '$1'"; }; }

step "commands"
complete_words daxlease m
want mkfs; want mkdir; want mount; want mv; not ls
complete_words daxlease help st
want stat; not help

step "options come from the command's --help"
complete_words daxlease ls -
want -l; want -a
complete_words daxlease mkfs --
want --size; want --unit

step "the pool is a local file"
ok mkfs --size 64m "$POOL"
complete_words daxlease ls "${POOL%l}"
want "$POOL"

step "paths inside the pool"
ok mkdir "$POOL" /docs /docs/sub
printf 'hi\n' >"$T/hi"
ok put "$POOL" "$T/hi" "/docs/my file.txt"
complete_words daxlease ls "$POOL" /do
want /docs/; [ "$(wc -l <"$T/out")" -eq 1 ] || fail "more than /docs/ for /do"
complete_words daxlease cat "$POOL" /docs/m
want "/docs/my file.txt"
complete_words daxlease ls -l "$POOL" /docs/
want "/docs/my file.txt"; want /docs/sub/; not /docs/.; not /docs/..
complete_words daxlease stat "$POOL" /nothing/x
[ ! -s "$T/out" ] || [ "$(cat "$T/out")" = "" ] || fail "completions in a missing directory: $(cat "$T/out")"
echo "completion: ok"
