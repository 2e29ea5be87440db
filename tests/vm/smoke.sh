#!/bin/bash
# The VM rig itself (runs on the HOST; each tests/vm/run boots a fresh VM):
#   - boot to exit of `true`, timed; exit statuses 1 and 7 come back; stdout and stderr
#     stay apart; a VM that cannot finish is reported loudly (status 125, console tail)
#   - one boot with --igb 1 --netdevsim runs tests/vm/smoke-guest.sh inside: arguments
#     with spaces, environment, read-only host root, ipvlan, igb SR-IOV, netdevsim VFs
. "$(dirname "$0")/../lib.sh"
. "$UCNI_TOP/tests/vm/lib.sh"
cd "$UCNI_TOP" || exit 1

if ! setup_out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$setup_out" | tail -n3 | tr '\n' ' ')"
	finish
fi
ok "tests/vm/setup (cache $("$UCNI_TOP/tests/vm/setup" --print))"

"$VM_RUN" --igb x -- true 2>/dev/null
check_eq "a bad option value is a usage error (2)" 2 $?
"$VM_RUN" --igb 1 2>/dev/null
check_eq "no command is a usage error (2)" 2 $?

t_true=
vm_time t_true -- true
check_eq "true in the VM exits 0" 0 $?
echo "# boot-to-exit of 'true': $t_true s"

"$VM_RUN" -- false
check_eq "false in the VM exits 1" 1 $?

out=$("$VM_RUN" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 7' 2>"$T_TMP/err")
check_eq "exit 7 in the VM exits 7" 7 $?
check_eq "stdout comes back on stdout" to-stdout "$out"
check_eq "stderr comes back on stderr" to-stderr "$(cat "$T_TMP/err")"

# A VM that does not finish in time must fail loudly, never pass or skip.
out=$("$VM_RUN" --timeout 2 -- true 2>&1)
check_eq "a timed-out VM exits 125" 125 $?
check_match "a timed-out VM says so and shows the console" 'timeout after 2 s.*guest console' \
	"$(echo "$out" | tr '\n' ' ')"

token=$RANDOM$RANDOM
mkdir "$T_TMP/rw"
t0=$(date +%s%N)
UCNI_SMOKE_CWD=$PWD UCNI_SMOKE_TOKEN=$token UCNI_SMOKE_EXPECT=$token UCNI_SMOKE_TID=$T_ID \
	UCNI_SMOKE_RW=$T_TMP/rw vm_suite --igb 1 --netdevsim --rw "$T_TMP/rw" -- \
	tests/vm/smoke-guest.sh 'two  words' "it's \"q\" \$x"
echo "# the --igb 1 --netdevsim boot with its checks took $((($(date +%s%N) - t0) / 1000000)) ms"
check_eq "a file the guest wrote into --rw reaches the host" "$T_ID" "$(cat "$T_TMP/rw/from-guest" 2>&1)"
finish
