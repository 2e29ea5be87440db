# shellcheck shell=bash
# Shared by the demo suites (source after tests/lib.sh).
#
#   demo_run LOG SCRIPT      runs a demo as make runs it, with NO_COLOR=1; checks that it
#                            exits 0, that it is shown as it should be (no colour, every
#                            command followed by a line on what it showed); seconds it
#                            took in DEMO_TOOK, its output in DEMO_OUT and, on one line,
#                            DEMO_FLAT
#   demo_start LOG SCRIPT    starts a demo in the background in its own process group, as
#                            a terminal runs a foreground job (so SIGINT reaches it as
#                            Ctrl-C would: `kill -INT -- -$DEMO_PID`); its pid in DEMO_PID
#   demo_wait LOG REGEX S    waits up to S seconds for a line of LOG matching REGEX
#   has_line "what" LOG WORD…
#                            passes when a line of LOG holds every WORD (fixed strings, in
#                            any order: a table may change its columns)
#   last_line_with LOG WORD  the last line of LOG that holds WORD

demo_run() {
	local log=$1 t0=$SECONDS rc
	NO_COLOR=1 "$2" >"$log" 2>&1
	rc=$?
	DEMO_TOOK=$((SECONDS - t0))
	check_eq "$(basename "$2") exits 0" 0 "$rc"
	[ "$rc" = 0 ] || tail -n 30 "$log" | sed 's/^/# /'
	echo "# $(basename "$2") took $DEMO_TOOK s"
	DEMO_OUT=$(cat "$log")
	DEMO_FLAT=$(tr '\n' ' ' <"$log")
	check_eq "no colour when NO_COLOR is set" 0 "$(grep -c $'\033' "$log")"
	check_eq "every step is shown as a command (\$ …) and followed by a line on it (-> …)" "" \
		"$(awk '/^\$ / { if (c) print prev; c = 1; prev = $0 } /^-> / { c = 0 } END { if (c) print prev }' "$log")"
}

demo_start() {
	set -m
	NO_COLOR=1 "$2" >"$1" 2>&1 &
	DEMO_PID=$!
	set +m
}

demo_wait() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" && return 0; sleep 0.1; done
	return 1
}

has_line() {
	local what=$1 log=$2 w lines
	shift 2
	lines=$(cat "$log")
	for w in "$@"; do lines=$(grep -F -- "$w" <<<"$lines"); done
	if [ -n "$lines" ]; then ok "$what"; else fail "$what" "no line holds all of: $*"; fi
}

last_line_with() { grep -F -- "$2" "$1" | tail -n1; }
