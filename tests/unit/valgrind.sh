#!/bin/bash
# The unit suites under valgrind: no invalid access, no leak.
source "$(dirname "$0")/../lib.sh"
command -v valgrind >/dev/null || { fail "valgrind is not installed"; finish; }
for t in "$UCNI_TOP/$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if out=$(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect "$t" 2>&1); then
		ok "valgrind $name: no errors, no leaks"
	else
		fail "valgrind $name" "$(echo "$out" | grep -m5 -E '==[0-9]+==|FAILED')"
	fi
done
finish
