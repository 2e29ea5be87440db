#!/bin/bash
# make demo-vm keeps working: scripts/demo-vm.sh boots the test VM with one emulated igb
# NIC and runs scripts/demo-vm-guest.sh; its key lines are checked (ipvlan pods, devmgr
# vfs and pools, two sriov pods on VLAN 100, the PF's vf lines restored). Then a second
# boot is interrupted as Ctrl-C would (SIGINT to the process group) once the guest has
# started: the demo ends with 130 and the VM is gone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$UCNI_TOP" || exit 1
if ! out=$("$UCNI_TOP/tests/vm/setup" 2>&1); then
	fail "tests/vm/setup" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
	finish
fi
DEMO=$UCNI_TOP/scripts/demo-vm.sh

section "scripts/demo-vm.sh"
log=$T_TMP/demo-vm.log
demo_run "$log" "$DEMO"
out=$DEMO_OUT flat=$DEMO_FLAT
check_match "ipvlan: two pods on eth0" '"sandbox": "/var/run/netns/demo-iv1".*"sandbox": "/var/run/netns/demo-iv2"' "$flat"
check_eq "ipvlan and sriov pods: every ping answered" 2 "$(grep -c ' 0% packet loss' "$log")"
check_match "devmgr vfs: two VFs made" 'eth0 \([0-9a-f:.]+\): numVfs 0 -> 2' "$out"
has_line "devmgr list: the VFs on igbvf" "$log" 0000:01:10.2 igbvf
check_match "devmgr apply: the pool installed" 'pools: 1 installed' "$out"
check_eq "sriov ADD: both VFs on VLAN 100 (the PF's vf lines)" 2 "$(grep -cE '^ +vf [01] .*vlan 100, spoof checking on' "$log")"
has_line "devmgr pools: VF 0 used by pod 1" "$log" 0000:01:10.0 used ctr-sr1
has_line "devmgr pools: VF 1 used by pod 2" "$log" 0000:01:10.2 used ctr-sr2
check_match "sriov DEL: the PF's vf lines as before the pods" "The PF's vf lines are as before the pods" "$out"
check_match "devmgr pools: VF 0 free again" ' free' "$(last_line_with "$log" 0000:01:10.0)"
check_match "devmgr pools: VF 1 free again" ' free' "$(last_line_with "$log" 0000:01:10.2)"

section "Ctrl-C once the guest has started"
log=$T_TMP/demo-vm-int.log
demo_start "$log" "$DEMO"
pid=$DEMO_PID
demo_wait "$log" '^\$ ' 180
check_match "the guest runs the demo" 'ucni demo in the VM' "$(cat "$log")"
# every process below the demo (qemu runs in a process group of timeout's own)
tree() { local c; for c in $(pgrep -P "$1"); do echo "$c"; tree "$c"; done; }
procs=$(tree "$pid" | xargs)
check_match "  ... qemu runs below it" "qemu-system" "$(for p in $procs; do cat "/proc/$p/comm" 2>/dev/null; done | xargs)"
kill -INT -- -"$pid"
wait "$pid"
check_eq "interrupted: exit status 130" 130 "$?"
alive() { local p; for p in $procs; do kill -0 "$p" 2>/dev/null && cat "/proc/$p/comm" 2>/dev/null; done; }
for ((i = 0; i < 100; i++)); do [ -z "$(alive)" ] && break; sleep 0.1; done
check_eq "  ... the VM and every process of the demo are gone" "" "$(alive | xargs)"
finish
