#!/bin/bash
# Fault injection and kill -9 at every step of macvlan ADD and DEL
# (a FAULTS=1 build: build/fault/bin/macvlan).
#
#   node ns: m0 (veth master)          pod ns: the attachment under test
#
# After each injected failure the system must be exactly as before; after a
# kill -9, one DEL must bring it back: no link, no host-local reservation.
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
if ! make --no-print-directory FAULTS=1 build/fault/bin/macvlan build/fault/bin/host-local >"$T_TMP/build.log" 2>&1; then
	fail "building the fault-injection plugin" "$(tail -n5 "$T_TMP/build.log")"
	finish
fi
PLUGIN=$UCNI_TOP/build/fault/bin/macvlan
HL=$T_TMP/hl
NODE=$(mkns node) POD=$(mkns pod)
CNI_NODE=$NODE
ip -n "$NODE" link add m0 type veth peer name m1
ip -n "$NODE" link set m0 up
ip -n "$NODE" link set m1 up
conf=$(jq -nc --arg hl "$HL" '{cniVersion: "1.0.0", name: "faults", type: "macvlan", master: "m0",
	ipam: {type: "host-local", ranges: [[{subnet: "10.79.0.0/24", gateway: "10.79.0.1"}]],
	       routes: [{dst: "0.0.0.0/0"}, {dst: "10.80.0.0/16"}], dataDir: $hl}}')
state() {
	echo "node:[$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')]" \
		"pod:[$(ip -n "$POD" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')]" \
		"reserved:$(ls "$HL/faults" 2>/dev/null | grep -c -v -e lock -e last_reserved)"
}
clean=$(state)

add_points=(add.create add.getlink ipam.exec add.ipcfg add.notify add.addr add.route add.result)
# fail_then_kill LABEL POINT [ENV…]: ADD failing at POINT leaves the state as it was;
# killed there instead, one DEL brings it back.
fail_then_kill() {
	local label=$1 p=$2
	shift 2
	CNI_EXTRA_ENV=("$@" "UCNI_FAULT=$p")
	cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
	CNI_EXTRA_ENV=()
	check_eq "${label}ADD fails at $p" 1 "$CNI_RC"
	check_eq "${label}ADD failed at $p: state unchanged" "$clean" "$(state)"
	CNI_EXTRA_ENV=("$@" "UCNI_FAULT=$p" UCNI_FAULT_KILL=1)
	cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
	CNI_EXTRA_ENV=()
	check_eq "${label}ADD killed at $p" 137 "$CNI_RC"
	cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
	check_eq "${label}DEL after kill at $p succeeds" 0 "$CNI_RC"
	check_eq "${label}DEL after kill at $p: state restored" "$clean" "$(state)"
}
echo "# ADD fails, or is killed (kill -9), at each step: nothing is left, or one DEL restores everything"
for p in "${add_points[@]}"; do
	fail_then_kill "" "$p"
done
# Every netlink request of a clean ADD, failed in turn.
: >"$T_TMP/trace"
CNI_EXTRA_ENV=("UCNI_FAULT_TRACE=$T_TMP/trace")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
# (the announcement at the end is best effort: its failure does not fail ADD)
n_add=$(sed '/^announce.mac$/,$d' "$T_TMP/trace" | grep -c '^nl.request$')
check_match "ADD makes a handful of netlink requests ($n_add)" '^([5-9]|1[0-9])$' "$n_add"
for n in $(seq 1 "$n_add"); do
	CNI_EXTRA_ENV=("UCNI_FAULT=nl.request#$n")
	cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
	CNI_EXTRA_ENV=()
	check_eq "ADD with netlink request #$n failing fails" 1 "$CNI_RC"
	check_eq "ADD with netlink request #$n failing: state unchanged" "$clean" "$(state)"
done

CNI_EXTRA_ENV=("UCNI_FAULT=add.getlink" UCNI_FAULT_KILL=1)
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_match "killed right after the create: the link is there under its final name" "eth0@" "$(ip -n "$POD" -o link)"
killed=$(state)
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "an ADD before the DEL is refused: CNI_IFNAME exists" "1 4" "$CNI_RC $(jv .code)"
check_match "the refusal says so" 'CNI_IFNAME "eth0" already exists in the container \(macvlan\)' "$(jv .msg)"
check_eq "the refused ADD changed nothing" "$killed" "$(state)"
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "state restored" "$clean" "$(state)"

echo "# a kernel before 6.14 (simulated): the link is made under a temporary name, then renamed"
OLD=(UCNI_FAULT_SIMULATE=old-kernel)
CNI_EXTRA_ENV=("${OLD[@]}")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "old kernel: ADD succeeds" 0 "$CNI_RC"
check_match "old kernel: eth0 is up in the pod" "eth0@[^ ]* <[^>]*,UP[,>]" "$(ip -n "$POD" -o link)"
check_eq "old kernel: the result names the link" "$(ip -n "$POD" -j link show eth0 | jq -r '.[0].address')" "$(jv '.interfaces[0].mac')"
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "old kernel: DEL restores the state" "$clean" "$(state)"
for p in "${add_points[@]}" add.rename; do
	fail_then_kill "old kernel: " "$p" "${OLD[@]}"
done
CNI_EXTRA_ENV=("${OLD[@]}" UCNI_FAULT=add.rename UCNI_FAULT_KILL=1)
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_match "old kernel: killed before the rename: link under its temporary name" "ucni[0-9a-f]{8}" "$(ip -n "$POD" -o link)"
CNI_EXTRA_ENV=("${OLD[@]}")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "old kernel: the next ADD replaces the stale temporary link" 0 "$CNI_RC"
check_eq "old kernel: the stale temporary link is gone" "" "$(ip -n "$POD" -o link | grep -o 'ucni[0-9a-f]\{8\}')"
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "old kernel: state restored" "$clean" "$(state)"

echo "# DEL fails or is killed at each step: a second DEL finishes the job"
for p in del.start ipam.exec del.link nl.request; do
	for kill in "" 1; do
		cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
		CNI_EXTRA_ENV=("UCNI_FAULT=$p")
		[ -n "$kill" ] && CNI_EXTRA_ENV+=(UCNI_FAULT_KILL=1)
		cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
		CNI_EXTRA_ENV=()
		if [ -n "$kill" ]; then check_eq "DEL killed at $p" 137 "$CNI_RC"
		else check_eq "DEL fails at $p" 1 "$CNI_RC"; fi
		cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
		check_eq "second DEL after $p succeeds" 0 "$CNI_RC"
		check_eq "second DEL after $p: state restored" "$clean" "$(state)"
	done
done

echo "# announcing by hand when the link cannot take its own MAC again"
GW=$(mkns gw)
ip link add m2 netns "$NODE" type veth peer name gw0 netns "$GW"
ip -n "$NODE" link set m2 up
ip -n "$GW" link set gw0 up
ip -n "$GW" addr add 10.82.0.1/24 dev gw0
ip netns exec "$GW" sysctl -qw net.ipv4.conf.gw0.arp_accept=1
ann=$(jq -nc '{cniVersion: "1.0.0", name: "ann", type: "macvlan", master: "m2",
	ipam: {type: "static", addresses: [{address: "10.82.0.7/24"}]}}')
CNI_EXTRA_ENV=("UCNI_FAULT=announce.mac")
cni ADD "$PLUGIN" "$POD" eth0 ann <<<"$ann"
CNI_EXTRA_ENV=()
check_eq "ADD with the MAC re-set refused succeeds" 0 "$CNI_RC"
check_match "the gratuitous ARP sent by hand reached the neighbour" "lladdr $(jv '.interfaces[0].mac')" \
	"$(ip -n "$GW" neigh show 10.82.0.7 dev gw0)"
cni DEL "$PLUGIN" "$POD" eth0 ann <<<"$ann"
ip -n "$NODE" link del m2

echo "# in-process IPAM (host-local of the fault build itself): its run fails, or is killed"
# CNI_PATH holds the fault build's host-local: same build as the plugin, run in-process.
CNI_PATH_OVERRIDE=$UCNI_TOP/build/fault/bin
: >"$T_TMP/trace"
CNI_EXTRA_ENV=("UCNI_FAULT_TRACE=$T_TMP/trace")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "in-process: ADD succeeds" 0 "$CNI_RC"
check_eq "in-process: the run was in-process (no exec point reached)" "1 0" \
	"$(grep -c '^ipam.inproc.run$' "$T_TMP/trace") $(grep -c '^ipam.exec$' "$T_TMP/trace")"
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "in-process: DEL restores the state" "$clean" "$(state)"
fail_then_kill "in-process: " ipam.inproc.run
CNI_EXTRA_ENV=("UCNI_FAULT=ipam.inproc.run")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "in-process run failing: code 101, named" '101 IPAM plugin "host-local": ADD failed in-process' \
	"$(jv .code) $(jv .msg)"
# the identity check failing: the same binary is exec'd, and the ADD succeeds
: >"$T_TMP/trace"
CNI_EXTRA_ENV=("UCNI_FAULT=ipam.inproc.match" "UCNI_FAULT_TRACE=$T_TMP/trace")
cni ADD "$PLUGIN" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "identity check failing: ADD succeeds by exec" "0 1" "$CNI_RC $(grep -c '^ipam.exec$' "$T_TMP/trace")"
cni DEL "$PLUGIN" "$POD" eth0 f <<<"$conf"
check_eq "identity check failing: DEL restores the state" "$clean" "$(state)"
unset CNI_PATH_OVERRIDE

echo "# a normal build has no fault points"
check_eq "no fault_hit in build/bin/macvlan" 0 "$(nm "$UCNI_BIN/macvlan" 2>/dev/null | grep -c fault_hit)"
CNI_EXTRA_ENV=("UCNI_FAULT=add.create")
cni ADD "$UCNI_BIN/macvlan" "$POD" eth0 f <<<"$conf"
CNI_EXTRA_ENV=()
check_eq "UCNI_FAULT has no effect on a normal build" 0 "$CNI_RC"
cni DEL "$UCNI_BIN/macvlan" "$POD" eth0 f <<<"$conf"
check_eq "clean at the end" "$clean" "$(state)"
finish
