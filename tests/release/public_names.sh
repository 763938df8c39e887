#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# public_names.sh HEADER...: the dxl_ functions (and extern variables) the
# headers declare, one a line, sorted: once the comments are stripped,
# every identifier dxl_... followed by "(", and those an extern declares.
set -euo pipefail
text=$(for h in "$@"; do
	# strip /* */ (across lines) and // comments
	awk '{
		line = $0; out = ""
		while (line != "") {
			if (inc) {
				i = index(line, "*/")
				if (i == 0) { line = ""; break }
				line = substr(line, i + 2); inc = 0; continue
			}
			i = index(line, "/*"); j = index(line, "//")
			if (j > 0 && (i == 0 || j < i)) { out = out substr(line, 1, j - 1); break }
			if (i == 0) { out = out line; break }
			out = out substr(line, 1, i - 1) " "; line = substr(line, i + 2); inc = 1
		}
		print out
	}' "$h"
done)
{
	grep -oE '\bdxl_[A-Za-z0-9_]+[[:space:]]*\(' <<<"$text" || true
	grep -E '^[[:space:]]*extern[[:space:]]' <<<"$text" | grep -v '"C"' |
		grep -oE '\bdxl_[A-Za-z0-9_]+[[:space:]]*(\[[^]]*\][[:space:]]*)?;' || true
} | grep -oE '^dxl_[A-Za-z0-9_]+' | sort -u
