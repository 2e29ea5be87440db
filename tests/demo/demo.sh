#!/bin/bash
# make demo keeps working: scripts/demo.sh runs as make demo runs it, its key lines are
# checked (macvlan, devmgr on the fake sysfs tree, the sriov plugin's pods), and it leaves
# nothing behind — also when interrupted (SIGINT to its process group, as Ctrl-C sends)
# while pods hold VFs. The suite runs in a private mount namespace with a fresh /run, so
# "nothing behind" covers every namespace and every file the demo could put in /run
# (/run/netns, /run/ucni). Also: scripts/demo-vm*.sh are valid bash (make demo-vm itself
# runs in tests/demo/demo-vm.sh).
if [ -z "${UCNI_DEMO_PRIVATE_RUN:-}" ]; then
	UCNI_DEMO_PRIVATE_RUN=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
cd "$UCNI_TOP" || exit 1
mount -t tmpfs -o mode=755 tmpfs /run || { fail "a private /run for the demo"; finish; }
DEMO=$UCNI_TOP/scripts/demo.sh

# left_behind LOG — what a finished demo run left: its temporary folder, anything in /run
# but the empty /run/netns
left_behind() {
	local tmp
	tmp=$(sed -n 's/^ucni demo: .* files in \(\/tmp\/ucni-demo\.[A-Za-z0-9]*\)$/\1/p' "$1")
	[ -n "$tmp" ] || { echo "no temporary folder named in the output"; return; }
	[ -e "$tmp" ] && echo "$tmp"
	find /run -mindepth 1 ! -path /run/netns 2>/dev/null
	ip netns list 2>/dev/null
}

section "scripts/demo.sh"
log=$T_TMP/demo.log
demo_run "$log" "$DEMO"
check_match "under a minute (took $DEMO_TOOK s)" '^([0-9]|[1-5][0-9])$' "$DEMO_TOOK"
out=$DEMO_OUT
check_eq "macvlan, sriov: every ping answered (IPv4, IPv6; over the VFs)" 3 "$(grep -c ' 0% packet loss' "$log")"
check_match "macvlan: DEL leaves no reservation" 'host-local holds 0 reservations' "$out"
has_line "devmgr list: the E810 PF ens1f0 on ice" "$log" 0000:3b:00.0 ens1f0 ice
has_line "devmgr list: a VF on vfio-pci with its /dev/vfio node" "$log" 0000:3b:01.6 /dev/vfio/9 vfio-pci
check_match "devmgr apply: the four pools installed" 'pools: 4 installed' "$out"
check_match "devmgr alloc: the pool's first VF" $'\n0000:3b:01\\.0 ens1f0v0\n' "$out"
check_match "devmgr show: the allocation record" '"pool":"intel_netdev","owner":"demo-job"' "$out"
check_match "devmgr release" $'\nreleased 0000:3b:01\\.0\n' "$out"
check_match "devmgr export: a device plugin resource with PCI addresses" \
	'"resourceName":[[:space:]]*"intel_netdev".*"pciAddresses":[[:space:]]*\["0000:3b:01\.0"' "$(tr -d '\n' <<<"$out")"
check_match "sriov ADD: pod 1 gets VF 0 from the pool" '"pciID": "0000:3b:01\.0"' "$out"
check_match "sriov ADD: pod 2 gets VF 1" '"pciID": "0000:3b:01\.1"' "$out"
has_line "devmgr pools: VF 0 used by pod 1" "$log" 0000:3b:01.0 used ctr-sr1
has_line "devmgr pools: VF 1 used by pod 2" "$log" 0000:3b:01.1 used ctr-sr2
check_match "sriov DEL: the VFs back in the node as they were" 'The VFs are back in the node as they were' "$out"
check_match "devmgr pools: all released" '\{"name":"intel_netdev","total":10,"free":6,"used":0\}' "$out"
check_eq "nothing left: no namespace, no temporary folder, nothing in /run" "" "$(left_behind "$log")"

section "Ctrl-C while two pods hold VFs"
log=$T_TMP/demo-int.log
demo_start "$log" "$DEMO"
demo_wait "$log" 'ping -c 2 -i 0.2 -W 2 203\.0\.113' 60
has_line "the pods hold VFs (pool shows them used)" "$log" used ctr-sr2
kill -INT -- -"$DEMO_PID"
wait "$DEMO_PID"
check_eq "interrupted: exit status 130" 130 "$?"
check_match "  ... says so" 'interrupted: removing the sandbox' "$(cat "$log")"
check_eq "  ... nothing left: no namespace, no temporary folder, nothing in /run" "" "$(left_behind "$log")"

section "make demo-vm's scripts"
for f in scripts/demo-vm.sh scripts/demo-vm-guest.sh scripts/demo-lib.sh; do
	check "$f is valid bash" bash -n "$f"
done
check_match "the guest script refuses to run outside the VM" 'runs inside the test VM' \
	"$(env -u UCNI_VM scripts/demo-vm-guest.sh 2>&1)"
finish
