#!/bin/bash
# The sriov plugin on the host kernel, against a fake sysfs tree (mkfakesysfs)
# whose VF netdevs are veth ends. Everything runs in a throw-away "node"
# namespace; the plugin sees the fake tree through UCNI_SYSFS_ROOT and keeps its
# allocation store in UCNI_STATE_DIR.
#
#   node netns                                   container netns
#   ┌──────────────────────────────────┐        ┌──────────────┐
#   │ ens1f0v0 ── veth ── p0  (VF 0)   │ ─ADD─▶ │ net1 (VF 0)  │
#   │ ens1f0v1 ── veth ── p1  (VF 1)   │        └──────────────┘
#   │ ens1f0v2/3 …                     │   fake sysfs: 0000:3b:01.N = VF N of ens1f0
#   └──────────────────────────────────┘   (0000:3b:01.6 is bound to vfio-pci)
#
# Covered: every cniVersion × ADD/CHECK/DEL, move/rename/MAC/MTU/restore, the
# allocation record and its owner check, busy VFs, rollback after every ADD step,
# DEL after the netns is gone, a later netns at the same path with the old inode number
# (told apart by the record's netnsCookie), `devmgr gc`/`release` restoring before they drop (and
# refusing a live or foreign attachment), the VF lock's bounded wait (code 11, exit 6),
# pool allocation (also four at once), the device-info file (runtimeConfig.CNIDeviceInfoFile)
# and its removal by DEL, `devmgr release`/`gc` and a reclaim (merged files, refused directories
# and planted links left), userspace
# drivers, GC, STATUS, bad input; CNI_IFNAME taken in the container; a move the kernel
# completes and then refuses (MTU), also killed in its rollback; what ADD and DEL cost
# (link requests and sysfs reads, counted with strace). VF settings through a PF need
# real SR-IOV: the VM suite (tests/sriov/vm.sh) covers them.
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

PLUGIN=$UCNI_BIN/sriov
MKFAKE=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
[ -x "$MKFAKE" ] || MKFAKE=$UCNI_TOP/build/tests/fixtures/mkfakesysfs
[ -x "$PLUGIN" ] || { fail "plugin built" "$PLUGIN missing"; finish; }
[ -x "$MKFAKE" ] || { fail "fixture generator built" "$MKFAKE missing"; finish; }

SYS=$T_TMP/sys STATE=$T_TMP/state IPAMLOG=$T_TMP/ipam.log
"$MKFAKE" "$SYS" >/dev/null || { fail "mkfakesysfs" "failed"; finish; }
NODE=$(mkns node) || { fail "node netns"; finish; }
CNI_NODE=$NODE
CNI_PATH_OVERRIDE=$UCNI_TOP/tests/integ:$UCNI_BIN
# poolConfig files live in $T_TMP/etc, a config directory the node settings allow
# and device-info files (runtimeConfig.CNIDeviceInfoFile) in $T_TMP/devinfo (devinfoDirs)
mkdir -p "$T_TMP/etc" && echo "{\"configDirs\": [\"$T_TMP/etc\"], \"devinfoDirs\": [\"$T_TMP/devinfo\"], \"dataDirs\": [\"$T_TMP\"]}" >"$T_TMP/node.json"
CNI_EXTRA_ENV=(UCNI_SYSFS_ROOT="$SYS" UCNI_STATE_DIR="$STATE" UCNI_NODE_CONFIG="$T_TMP/node.json")
n() { ip -n "$NODE" "$@"; }

VF=(0000:3b:01.0 0000:3b:01.1 0000:3b:01.2 0000:3b:01.3)
VFDEV=(ens1f0v0 ens1f0v1 ens1f0v2 ens1f0v3)
MACS=(02:00:00:aa:00:00 02:00:00:aa:00:01 02:00:00:aa:00:02 02:00:00:aa:00:03)
for i in 0 1 2 3; do
	n link add "${VFDEV[i]}" address "${MACS[i]}" mtu 1500 type veth peer name "p$i"
	n link set "p$i" up
done
n link set ens1f0v0 up # VF 0 starts up, the others down: restore must keep that

# state of a netdev in the node: "name mac mtu UP|DOWN"
node_state() { n -j link show "$1" 2>/dev/null | jq -r '.[0] | "\(.ifname) \(.address) \(.mtu) \(if (.flags|index("UP")) then "UP" else "DOWN" end)"'; }
ORIG=()
for i in 0 1 2 3; do ORIG[i]=$(node_state "${VFDEV[i]}"); done
record() { cat "$STATE/vfs/$1.json" 2>/dev/null; }

# conf VERSION JSON-EXTRA — a single-plugin config
conf() {
	jq -nc --arg v "$1" --argjson x "${2:-{\}}" '{cniVersion: $v, name: "sriov-host", type: "sriov"} + $x'
}
ipam() { # a fake-ipam block handing out $1
	jq -nc --arg a "$1" --arg log "$IPAMLOG" \
		'{type: "fake-ipam", log: $log, result: {ips: [{address: $a}], routes: [{dst: "198.18.0.0/15"}]}}'
}
add() { cni ADD "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
del() { cni DEL "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
chk() { cni CHECK "$PLUGIN" "$1" "${3:-net1}" "$2" <<<"$4"; }
# withprev CONF RESULT — CONF with prevResult
withprev() { jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"; }

# restored I — VF I is back in the node exactly as it was, and unallocated
restored() {
	local i=$1 what=$2
	check_eq "$what: ${VFDEV[i]} back with its name, MAC, MTU and state" "${ORIG[i]}" "$(node_state "${VFDEV[i]}")"
	check_eq "$what: allocation of ${VF[i]} released" "" "$(record "${VF[i]}")"
}

# --- every cniVersion × ADD/CHECK/DEL ------------------------------------------------
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	ns=$(mkns "v${v//./}")
	c=$(conf "$v" "$(jq -nc --arg d "${VF[0]}" --argjson i "$(ipam 198.18.0.5/24)" \
		'{deviceID: $d, mtu: 1400, mac: "02:11:22:33:44:55", ipam: $i}' )")
	c=$(jq -c 'del(.mac)' <<<"$c")
	add "$ns" "ctr-$v" net1 "$c"
	check_eq "$v ADD exits 0" 0 "$CNI_RC"
	res=$CNI_OUT
	check_eq "$v ADD: result names net1 in the sandbox" "net1 /var/run/netns/$ns" "$(jv '.interfaces[0] | "\(.name) \(.sandbox)"')"
	if [ "$v" = 1.1.0 ]; then
		check_eq "$v ADD: result has pciID and mtu" "${VF[0]} 1400" "$(jv '.interfaces[0] | "\(.pciID) \(.mtu)"')"
	else
		check_eq "$v ADD: no 1.1.0 fields" "null null" "$(jv '.interfaces[0] | "\(.pciID) \(.mtu)"')"
	fi
	check_eq "$v ADD: ip with the interface" "198.18.0.5/24 0" "$(jv '.ips[0] | "\(.address) \(.interface)"')"
	check_match "$v ADD: net1 in the container, MTU 1400, up, address" \
		"net1[@:].*mtu 1400 .*UP.*198.18.0.5/24" "$(ip -n "$ns" addr show net1 2>&1 | tr '\n' ' ')"
	check_eq "$v ADD: the VF netdev left the node" "" "$(node_state ens1f0v0)"
	check_eq "$v ADD: record owner and ifname" "ctr-$v net1" "$(record "${VF[0]}" | jq -r '"\(.owner) \(.ifname)"')"
	if [ "$v" != 0.3.0 ] && [ "$v" != 0.3.1 ]; then
		chk "$ns" "ctr-$v" net1 "$(withprev "$c" "$res")"
		check_eq "$v CHECK passes" "0 " "$CNI_RC $CNI_OUT"
	fi
	del "$ns" "ctr-$v" net1 "$c"
	check_eq "$v DEL exits 0, prints nothing" "0 " "$CNI_RC $CNI_OUT"
	restored 0 "$v DEL"
	del "$ns" "ctr-$v" net1 "$c"
	check_eq "$v second DEL exits 0" 0 "$CNI_RC"
	ip netns del "$ns"
done
check_match "IPAM got ADD, CHECK and DEL" "^ADD .*CHECK .*DEL " "$(cut -d' ' -f1 "$IPAMLOG" | tr '\n' ' ')"

# --- MAC, CHECK that fails, CNI_ARGS MAC precedence ----------------------------------
ns=$(mkns mac)
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d, mac: "02:00:00:00:00:01"}')")
CNI_EXTRA_ENV+=(CNI_ARGS="IgnoreUnknown=1;MAC=02:00:00:00:00:99")
add "$ns" ctr-mac net1 "$c"
unset 'CNI_EXTRA_ENV[3]'
# A MAC goes through the PF too; the fake PF cannot take it: a clear error, nothing changed.
check_eq "mac without a PF that reports the VF: code 102" 102 "$(jv .code)"
check_match "  ... message names the setting" 'VF settings \(mac\) cannot be applied' "$(jv .msg)"
restored 1 "refused mac"
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d}')")
add "$ns" ctr-mac net1 "$c"
res=$CNI_OUT
check_eq "ADD VF 1 without settings" 0 "$CNI_RC"
ip -n "$ns" link set net1 mtu 1300
chk "$ns" ctr-mac net1 "$(withprev "$(jq -c '. + {mtu: 1500}' <<<"$c")" "$res")"
check_match "CHECK sees a wrong MTU" '"code": 102.*MTU 1300' "$(echo $CNI_OUT)"
ip -n "$ns" link set net1 down
chk "$ns" ctr-mac net1 "$(withprev "$c" "$res")"
check_match "CHECK sees net1 down" 'is down' "$CNI_OUT"
ip -n "$ns" link set net1 up
ip -n "$ns" link set net1 address 02:00:00:00:77:77
chk "$ns" ctr-mac net1 "$(withprev "$c" "$res")"
check_match "CHECK sees a changed MAC" 'has MAC 02:00:00:00:77:77' "$CNI_OUT"
chk "$ns" other net1 "$(withprev "$c" "$res")"
check_match "CHECK for another container: not allocated" 'no VF is allocated to other' "$CNI_OUT"
del "$ns" ctr-mac net1 "$c"
check_eq "DEL after the container changed MAC and MTU" 0 "$CNI_RC"
restored 1 "DEL restores MAC/MTU the container changed"

# --- CNI_IFNAME taken in the container: code 4, the VF untouched ------------------------
ns=$(mkns taken)
ip -n "$ns" link add net1 type veth peer name taken-peer
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d, mtu: 1400}')")
add "$ns" ctr-taken net1 "$c"
check_eq "CNI_IFNAME already in the container: code 4" 4 "$(jv .code)"
check_match "  ... message names it" 'CNI_IFNAME "net1" already exists in the container' "$(jv .msg)"
restored 1 "CNI_IFNAME taken"
check_eq "  ... the container keeps its own net1 and nothing else" "lo net1 taken-peer" \
	"$(ip -n "$ns" -br link | awk '{sub(/@.*/, "", $1); print $1}' | sort | xargs)"

# --- what ADD and DEL cost: one link request moves the VF, few sysfs reads --------------
# The floor (bench/floor vf) moves, renames and brings the VF up in one RTM_NEWLINK; a DEL
# whose netdev comes back under its saved name needs no sysfs lookup to find it.
TRACE=$T_TMP/trace
# (strace decodes requests on a socket opened in another namespace only by number: 0x10)
newlinks() { grep -cE 'RTM_NEWLINK|nlmsg_type=0x10 ' "$TRACE"; }
# (LeakSanitizer cannot run under ptrace: the ASan build's leak check is off here)
printf '#!/bin/sh\nASAN_OPTIONS=detect_leaks=0 exec strace -f -qq -e trace=sendto,openat,readlinkat -o "%s" "%s"\n' "$TRACE" "$PLUGIN" >"$T_TMP/traced"
chmod +x "$T_TMP/traced"
ns=$(mkns cost)
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d, mtu: 1400}')")
cni ADD "$T_TMP/traced" "$ns" net1 ctr-cost <<<"$c"
check_eq "traced ADD exits 0" "0 net1" "$CNI_RC $(jv '.interfaces[0].name')"
check_eq "ADD: one RTM_NEWLINK moves, renames, sets the MTU and brings the VF up" 1 "$(newlinks)"
check_eq "ADD: sysfs read only for what it needs (no netdev state, NUMA node or device identity)" "" \
	"$(grep -E '"(uevent|operstate|carrier|address|numa_node|sriov_totalvfs)"' "$TRACE")"
check_match "  ... net1 in the container with MTU 1400, up" "net1[@:].*mtu 1400 .*UP" "$(ip -n "$ns" link show net1 2>&1 | tr '\n' ' ')"
cni DEL "$T_TMP/traced" "$ns" net1 ctr-cost <<<"$c"
check_eq "traced DEL exits 0" "0 " "$CNI_RC $CNI_OUT"
check_eq "DEL: no sysfs read to find the netdev it moved back" "" "$(grep -F "$SYS" "$TRACE")"
check_eq "DEL: one RTM_NEWLINK moves the VF back with its name and MTU (it was down)" 1 "$(newlinks)"
restored 1 "traced DEL"

# --- busy VF, owner check, DEL after the netns is gone --------------------------------
a=$(mkns a) b=$(mkns b) x=$(mkns x)
c=$(conf 1.1.0 "$(jq -nc --arg d "${VF[2]}" '{deviceID: $d, mtu: 1450}')")
add "$a" ctr-a net1 "$c"
check_eq "ADD ctr-a on VF 2" 0 "$CNI_RC"
add "$x" ctr-x net1 "$c"
check_eq "second ADD on a held VF: code 102" 102 "$(jv .code)"
check_match "  ... names the holder" 'in use by container ctr-a' "$(jv .msg)"
check_eq "  ... ctr-a keeps its VF" "ctr-a" "$(record "${VF[2]}" | jq -r .owner)"
check_match "  ... and its interface" 'net1' "$(ip -n "$a" -br link show net1 2>&1)"
# What the kernel does when a netns dies: physical netdevs go back to the host, renamed
# dev<ifindex> when their name is taken. Our veth would die with the netns instead, so
# the test plays the kernel (and sysfs, which follows the name).
netns_dies() { # NS IFNAME VFINDEX
	local idx
	idx=$(ip -n "$1" -j link show "$2" | jq -r '.[0].ifindex')
	ip -n "$1" link set "$2" netns "$NODE" name "dev$idx"
	sysfs_sync "$3" "dev$idx"
	ip netns del "$1"
	echo "dev$idx"
}
sysfs_sync() { # VFINDEX NAME — sysfs shows VF's netdev under NAME
	local d=$SYS/devices/pci0000:00/${VF[$1]}/net cur
	cur=$(ls "$d")
	[ "$cur" = "$2" ] || mv "$d/$cur" "$d/$2"
}
devname=$(netns_dies "$a" net1 2)
check_match "netns gone: the netdev is in the node as $devname" "$devname .* 1450 DOWN" "$(node_state "$devname")"
# A new container takes the VF: the stale record is reclaimed, the VF restored first.
add "$b" ctr-b net1 "$c"
check_eq "ADD ctr-b reclaims VF 2 from the dead ctr-a" "0" "$CNI_RC$(jv .msg | grep -v null)"
check_eq "  ... record now ctr-b" "ctr-b" "$(record "${VF[2]}" | jq -r .owner)"
# The old pod's DEL arrives late: it must not touch ctr-b's VF.
del "$a" ctr-a net1 "$c"
check_eq "late DEL of ctr-a exits 0" 0 "$CNI_RC"
check_eq "  ... ctr-b keeps the record" "ctr-b" "$(record "${VF[2]}" | jq -r .owner)"
check_match "  ... and net1 with MTU 1450" 'mtu 1450' "$(ip -n "$b" link show net1 2>&1)"
devname=$(netns_dies "$b" net1 2)
del "$b" ctr-b net1 "$c"
check_eq "DEL of ctr-b after its netns is gone exits 0" 0 "$CNI_RC"
sysfs_sync 2 "$(n -j link show | jq -r --arg m "${MACS[2]}" '.[] | select(.address == $m) | .ifname')"
check_eq "  ... $devname renamed back" "" "$(node_state "$devname")"
restored 2 "DEL after netns deletion"
ip netns del "$x" 2>/dev/null

# --- a later netns at the same path with the old inode number is not the owner ---------
# nsfs gives a freed namespace's inode number to later ones: a pod's netns deleted without
# DEL and a new one bind-mounted at the same path may get it. The record's netnsCookie
# (the kernel never reuses a cookie) tells them apart. The recycled inode is forced by
# rewriting the record's netnsInode to the new namespace's, as a reused number would look.
a=$(mkns ck) y=$(mkns cky) z=$(mkns ckz)
add "$a" ctr-ck1 net1 "$c"
check_eq "ADD ctr-ck1 on VF 2" 0 "$CNI_RC"
cookie=$(record "${VF[2]}" | jq -r '.netnsCookie // empty')
if [ -z "$cookie" ]; then
	skip "netns cookie" "the kernel has no SO_NETNS_COOKIE: the inode decides"
else
	check_match "  ... the record holds the netns's cookie as a decimal string" '^[1-9][0-9]*$' \
		"$(record "${VF[2]}" | jq -r '.netnsCookie | select(type == "string")')"
	add "$y" ctr-ck2 net1 "$c"
	check_eq "ADD of another container while the cookie matches: code 102" 102 "$(jv .code)"
	check_eq "  ... ctr-ck1 keeps its VF" "ctr-ck1" "$(record "${VF[2]}" | jq -r .owner)"
	devname=$(netns_dies "$a" net1 2)
	ip netns add "$a" && ip -n "$a" link set lo up
	ino=$(stat -L -c %i "/var/run/netns/$a")
	rec=$(record "${VF[2]}" | jq -c --argjson i "$ino" '.netnsInode = $i')
	printf '%s\n' "$rec" >"$STATE/vfs/${VF[2]}.json"
	check_eq "  ... (a new netns at the same path, its inode now in the record)" "$ino" \
		"$(record "${VF[2]}" | jq -r .netnsInode)"
	add "$y" ctr-ck2 net1 "$c"
	check_eq "ADD ctr-ck2 reclaims VF 2: the netns at the path has another cookie" "0" "$CNI_RC$(jv .msg | grep -v null)"
	check_eq "  ... record now ctr-ck2" "ctr-ck2" "$(record "${VF[2]}" | jq -r .owner)"
	check_match "  ... net1 in ctr-ck2's netns with MTU 1450" 'mtu 1450' "$(ip -n "$y" link show net1 2>&1)"
	check_eq "  ... nothing moved into the new netns at the old path" "lo" \
		"$(ip -n "$a" -j link show | jq -r '.[].ifname' | paste -sd' ')"
	add "$z" ctr-ck3 net1 "$c"
	check_eq "ADD of a third container while ctr-ck2's cookie matches: code 102" 102 "$(jv .code)"
	del "$y" ctr-ck2 net1 "$c"
	check_eq "DEL ctr-ck2 exits 0" 0 "$CNI_RC"
	sysfs_sync 2 "$(n -j link show | jq -r --arg m "${MACS[2]}" '.[] | select(.address == $m) | .ifname')"
	restored 2 "DEL after a reclaim by cookie"
fi
del "$a" ctr-ck1 net1 "$c" # a no-op when VF 2 went on; cleans up on a kernel without cookies
ip netns del "$a" 2>/dev/null

# --- four concurrent ADDs on one deviceID: exactly one wins -------------------------------
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[3]}" '{deviceID: $d}')")
pids=()
for i in 0 1 2 3; do
	p=$(mkns "race$i")
	(add "$p" "ctr-race$i" net1 "$c"; echo "$CNI_RC $(jv .code)" >"$T_TMP/race$i") &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "four ADDs race for one VF: one wins, three get 102" "0 null|1 102|1 102|1 102" "$(cat "$T_TMP"/race? | sort | paste -sd'|')"
winner=$(grep -l '^0 ' "$T_TMP"/race? | head -n1)
winner=${winner##*race}
check_eq "  ... the record names the winner" "ctr-race$winner" "$(record "${VF[3]}" | jq -r .owner)"
check_match "  ... whose pod has the VF" '^net1[@ ]' "$(ip -n "${T_ID}-race$winner" -br link show net1 2>&1)"
del "${T_ID}-race$winner" "ctr-race$winner" net1 "$c"
restored 3 "DEL of the race winner"

# --- devmgr gc and release restore before they drop; what the store refuses; VF lock bound -----
# A VF whose pod vanished without DEL is restored by `devmgr gc` / `devmgr release` before its
# record goes; a live attachment or another owner's VF is not released; a held VF lock is
# waited for a bounded time, then "busy" (CNI code 11, devmgr exit 6) and nothing changes.
DM() { ip netns exec "$NODE" env UCNI_VF_LOCK_TIMEOUT_MS="${LOCK_MS:-30000}" \
	UCNI_NODE_CONFIG="${DM_NODE:-$T_TMP/node.json}" "$UCNI_BIN/devmgr" \
	--sysfs-root "$SYS" --state-dir "$STATE" "$@" 2>&1; }
c=$(conf 1.1.0 "$(jq -nc --arg d "${VF[2]}" '{deviceID: $d, mtu: 1450}')")
a=$(mkns gca)
add "$a" ctr-gca net1 "$c"
check_eq "ADD ctr-gca on VF 2" 0 "$CNI_RC"
out=$(DM release "${VF[2]}"); rc=$?
check_eq "devmgr release of a live attachment: exit 6 (busy)" 6 "$rc"
check_match "  ... says the record is kept" "the record of VF ${VF[2]} is kept" "$out"
check_eq "  ... the record stays with ctr-gca" ctr-gca "$(record "${VF[2]}" | jq -r .owner)"
check_match "  ... the pod keeps net1" 'mtu 1450' "$(ip -n "$a" link show net1 2>&1)"
out=$(DM release --owner ctr-other "${VF[2]}"); rc=$?
check_eq "devmgr release --owner by a non-owner: exit 6" 6 "$rc"
check_match "  ... names the refusal" "held by another owner" "$out"
check_eq "  ... the record stays" ctr-gca "$(record "${VF[2]}" | jq -r .owner)"
devname=$(netns_dies "$a" net1 2)
check_match "netns gone: the netdev is in the node as $devname, as the pod left it" "$devname .* 1450 DOWN" \
	"$(node_state "$devname")"
out=$(DM gc --json); rc=$?
check_eq "devmgr gc: exit 0, one record restored and released" '0 {"released": 1, "corrupt": 0, "kept": 0, "busy": 0}' "$rc $out"
check_eq "  ... $devname renamed back" "" "$(node_state "$devname")"
sysfs_sync 2 ens1f0v2
restored 2 "devmgr gc"
b=$(mkns rla)
add "$b" ctr-rla net1 "$c"
check_eq "ADD ctr-rla on VF 2" 0 "$CNI_RC"
devname=$(netns_dies "$b" net1 2)
out=$(DM release "${VF[2]}"); rc=$?
check_eq "devmgr release DEV after the pod's netns died: exit 0" "0 released ${VF[2]}" "$rc $out"
sysfs_sync 2 ens1f0v2
restored 2 "devmgr release"
# Another process holds VF 2's lock (as a DEL restoring it would) for longer than the bound.
# (-o: only flock itself holds the lock, not its sleep, so killing it frees the lock)
flock -o "$STATE/locks/${VF[2]}.lock" sleep 60 &
holder=$!
for ((i = 0; i < 50; i++)); do flock -n "$STATE/locks/${VF[2]}.lock" true || break; sleep 0.1; done
lk=$(mkns lock)
CNI_EXTRA_ENV+=(UCNI_VF_LOCK_TIMEOUT_MS=1500)
t0=$SECONDS
add "$lk" ctr-lock net1 "$c"
check_eq "ADD while VF 2's lock is held past the bound: code 11" 11 "$(jv .code)"
check_match "  ... names the VF, says busy" "VF ${VF[2]} is busy" "$(jv .msg)"
check_match "  ... gave up within the bound (1.5 s, generous margin)" '^[0-9]$' "$((SECONDS - t0))"
check_eq "  ... nothing in the pod" "lo" "$(ip -n "$lk" -br link | awk '{print $1}' | xargs)"
restored 2 "ADD that timed out on the lock"
del "$lk" ctr-lock net1 "$c"
check_eq "DEL while the lock is held: code 11 (the runtime retries)" 11 "$(jv .code)"
unset 'CNI_EXTRA_ENV[-1]'
out=$(LOCK_MS=1500 DM release "${VF[2]}"); rc=$?
check_eq "devmgr release while the lock is held: exit 6" 6 "$rc"
check_match "  ... says it is locked" "VF ${VF[2]} is locked by another process" "$out"
sleeper=$(pgrep -P "$holder")
kill "$holder" $sleeper
wait "$holder" 2>/dev/null
# --force: an operator's drop without restore (the VF keeps what it has)
add "$lk" ctr-lock net1 "$c"
check_eq "ADD ctr-lock once the lock is free" "0 " "$CNI_RC $(jv .msg | grep -v null)"
out=$(DM release --force "${VF[2]}"); rc=$?
check_eq "devmgr release --force of a live attachment: dropped" "0 released ${VF[2]}" "$rc $out"
check_eq "  ... record gone" "" "$(record "${VF[2]}")"
del "$lk" ctr-lock net1 "$c"
check_eq "  ... the pod's DEL: 0, finds no record, leaves the VF alone" "0 net1" \
	"$CNI_RC $(ip -n "$lk" -br link show net1 | awk '{sub(/@.*/, "", $1); print $1}')"
ip -n "$lk" link set net1 netns "$NODE" name ens1f0v2 mtu 1500
check_eq "  ... (put back by hand)" "${ORIG[2]}" "$(node_state ens1f0v2)"

# --- rollback after every ADD step; kill -9 at every step, then DEL -----------------------
# Fault points exist only in a FAULTS=1 build (build/fault, see include/ucni/fault.h).
ns=$(mkns rb)
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[0]}" --argjson i "$(ipam 198.18.0.9/24)" '{deviceID: $d, mtu: 1400, ipam: $i}')")
FPLUGIN=$UCNI_TOP/build/fault/bin/sriov
if ! make -C "$UCNI_TOP" --no-print-directory FAULTS=1 build/fault/bin/sriov >"$T_TMP/fault-build.log" 2>&1; then
	fail "building the fault-injection plugin" "$(tail -n3 "$T_TMP/fault-build.log")"
else
	for step in claim save vf move rename ipam addresses; do
		: >"$IPAMLOG"
		CNI_EXTRA_ENV+=(UCNI_FAULT=sriov.$step)
		cni ADD "$FPLUGIN" "$ns" net1 ctr-rb <<<"$c"
		unset 'CNI_EXTRA_ENV[3]'
		check_match "failure after $step: reported" "fault injected at sriov.$step" "$(jv .msg)"
		restored 0 "rollback after $step"
		check_eq "rollback after $step: nothing in the container" "lo" "$(ip -n "$ns" -br link | awk '{print $1}' | xargs)"
		case $step in ipam | addresses)
			check_match "rollback after $step: IPAM released" '^ADD.*DEL' "$(cut -d' ' -f1 "$IPAMLOG" | tr '\n' ' ')" ;;
		esac
	done
	for step in claim save vf move rename ipam addresses; do
		CNI_EXTRA_ENV+=(UCNI_FAULT=sriov.$step UCNI_FAULT_KILL=1)
		cni ADD "$FPLUGIN" "$ns" net1 ctr-kill <<<"$c"
		unset 'CNI_EXTRA_ENV[4]' 'CNI_EXTRA_ENV[3]'
		check_eq "kill -9 after $step: ADD died" 137 "$CNI_RC"
		del "$ns" ctr-kill net1 "$c"
		check_eq "kill -9 after $step: DEL exits 0" 0 "$CNI_RC"
		restored 0 "kill -9 after $step, then DEL"
		check_eq "kill -9 after $step, then DEL: nothing in the container" "lo" "$(ip -n "$ns" -br link | awk '{print $1}' | xargs)"
	done
fi
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[0]}" --arg log "$IPAMLOG" '{deviceID: $d, ipam: {type: "fake-ipam", mode: "fail", log: $log}}')")
add "$ns" ctr-rb net1 "$c"
check_eq "IPAM failure: its code (11) is passed on" 11 "$(jv .code)"
restored 0 "rollback after an IPAM failure"

# --- pools: one VF per ADD, four at once, NUMA hint --------------------------------------
cat >"$T_TMP/etc/pools.json" <<EOF
{"resourceList": [
  {"resourceName": "fake_vfs", "selectors": [{"pfNames": ["ens1f0#0-3"]}]},
  {"resourceName": "fake_dpdk", "selectors": [{"pciAddresses": ["0000:3b:01.6"]}]}
]}
EOF
pc=$(conf 1.1.0 "$(jq -nc --arg p "$T_TMP/etc/pools.json" '{pool: "fake_vfs", poolConfig: $p, numaNode: 0}')")
pids=()
for i in 0 1 2 3; do
	p=$(mkns "pool$i")
	(add "$p" "ctr-pool$i" net1 "$pc"; echo "$CNI_RC $(jv '.interfaces[0].pciID')" >"$T_TMP/pool$i") &
	pids+=($!)
done
wait "${pids[@]}"
got=$(cat "$T_TMP"/pool? | sort | tr '\n' ' ')
check_eq "four concurrent pool ADDs get four different VFs" "0 ${VF[0]} 0 ${VF[1]} 0 ${VF[2]} 0 ${VF[3]} " "$got"
for i in 0 1 2 3; do
	check_match "pool ADD $i: net1 in its container" '^net1[@ ]' "$(ip -n "${T_ID}-pool$i" -br link show net1 2>&1)"
done
p=$(mkns pool4)
add "$p" ctr-pool4 net1 "$pc"
check_eq "fifth pool ADD: no free VF, code 102" 102 "$(jv .code)"
check_match "  ... says so" 'no free healthy VF' "$(jv .msg)"
chk "${T_ID}-pool0" ctr-pool0 net1 "$(withprev "$pc" "$(jq -nc --arg ns "/var/run/netns/${T_ID}-pool0" \
	--arg pci "$(cut -d' ' -f2 "$T_TMP/pool0")" '{cniVersion: "1.1.0", interfaces: [{name: "net1", sandbox: $ns, pciID: $pci}]}')")"
check_eq "CHECK of a pool allocation (found by owner)" "0" "$CNI_RC"
for i in 0 1 2 3; do
	del "${T_ID}-pool$i" "ctr-pool$i" net1 "$pc"
	check_eq "DEL pool ADD $i (no deviceID: found by owner)" 0 "$CNI_RC"
done
for i in 0 1 2 3; do restored "$i" "pool DEL"; done

# --- a userspace-driver VF: configured, not moved -----------------------------------------
ns=$(mkns dpdk)
uc=$(conf 1.1.0 "$(jq -nc --arg p "$T_TMP/etc/pools.json" --argjson i "$(ipam 198.18.1.5/24)" '{pool: "fake_dpdk", poolConfig: $p, ipam: $i}')")
add "$ns" ctr-dpdk net1 "$uc"
check_eq "vfio-pci VF: ADD exits 0" 0 "$CNI_RC"
check_eq "  ... result: pciID, the IP, no MTU" "0000:3b:01.6 198.18.1.5/24 null" "$(jv '"\(.interfaces[0].pciID) \(.ips[0].address) \(.interfaces[0].mtu)"')"
check_eq "  ... nothing moved into the container" "lo" "$(ip -n "$ns" -br link | awk '{print $1}' | xargs)"
check_eq "  ... allocation recorded" "ctr-dpdk" "$(record 0000:3b:01.6 | jq -r .owner)"
del "$ns" ctr-dpdk net1 "$uc"
check_eq "  ... DEL releases it" "0 " "$CNI_RC $(record 0000:3b:01.6)"

# --- GC: allocations of this network that are not valid attachments ------------------------
g1=$(mkns gc1) g2=$(mkns gc2)
c=$(conf 1.1.0 "$(jq -nc --arg d "${VF[0]}" '{deviceID: $d}')")
add "$g1" ctr-gc1 net1 "$c"
c2=$(conf 1.1.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d}')")
add "$g2" ctr-gc2 net1 "$c2"
other=$(jq -c '.name = "another-net"' <<<"$(conf 1.1.0 "$(jq -nc --arg d "${VF[3]}" '{deviceID: $d}')")")
g3=$(mkns gc3)
add "$g3" ctr-gc3 net1 "$other"
cni GC "$PLUGIN" "" "" "" <<<"$(jq -c 'del(.deviceID)' <<<"$c")"
check_eq "GC without cni.dev/valid-attachments releases nothing" "0 ctr-gc1" "$CNI_RC $(record "${VF[0]}" | jq -r .owner)"
gcconf=$(jq -c '. + {"cni.dev/valid-attachments": [{containerID: "ctr-gc2", ifname: "net1"}]} | del(.deviceID)' <<<"$c")
cni GC "$PLUGIN" "" "" "" <<<"$gcconf"
check_eq "GC exits 0" 0 "$CNI_RC"
restored 0 "GC of an attachment that is not valid"
check_eq "GC keeps the valid attachment" "ctr-gc2" "$(record "${VF[1]}" | jq -r .owner)"
check_eq "GC keeps another network's attachment" "ctr-gc3" "$(record "${VF[3]}" | jq -r .owner)"
del "$g2" ctr-gc2 net1 "$c2"
del "$g3" ctr-gc3 net1 "$other"
restored 1 "DEL after GC"
restored 3 "DEL of the other network"

# --- STATUS -----------------------------------------------------------------------------
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 "$(jq -nc --arg d "${VF[0]}" '{deviceID: $d}')")"
check_eq "STATUS with a present VF: 0" 0 "$CNI_RC"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 '{"deviceID": "0000:3b:09.0"}')"
check_eq "STATUS with a missing VF: 50" 50 "$(jv .code)"
cni STATUS "$PLUGIN" "" "" "" <<<"$pc"
check_eq "STATUS of a pool with VFs: 0" 0 "$CNI_RC"

# --- bad input ------------------------------------------------------------------------------
ns=$(mkns bad)
bad() { # what expected-code msg-regex extra-json
	add "$ns" ctr-bad net1 "$(conf 1.0.0 "$4")"
	check_eq "$1: code $2" "$2" "$(jv .code)"
	check_match "$1: message" "$3" "$(jv .msg)"
}
bad "malformed deviceID" 7 '"deviceID" value "0000:3b:1" is not a PCI address' '{"deviceID": "0000:3b:1"}'
bad "nonexistent deviceID" 102 'PCI device 0000:3b:09.0 does not exist' '{"deviceID": "0000:3b:09.0"}'
bad "a PF as deviceID" 7 '"deviceID" value "0000:3b:00.0" is a PF, not an SR-IOV VF' '{"deviceID": "0000:3b:00.0"}'
bad "no device, no pool" 7 'no VF given' '{}'
bad "vlan out of range" 7 '"vlan" value 4095 is out of range' '{"deviceID": "0000:3b:01.0", "vlan": 4095}'
bad "qos without vlan" 7 '"vlanQoS" value 3 needs a non-zero "vlan"' '{"deviceID": "0000:3b:01.0", "vlanQoS": 3}'
bad "bad vlanProto" 7 '"vlanProto" has unknown value "802.1x"' '{"deviceID": "0000:3b:01.0", "vlan": 5, "vlanProto": "802.1x"}'
bad "bad spoofchk" 7 '"spoofchk" has unknown value "maybe"' '{"deviceID": "0000:3b:01.0", "spoofchk": "maybe"}'
bad "bad link_state" 7 '"link_state" has unknown value "up"' '{"deviceID": "0000:3b:01.0", "link_state": "up"}'
bad "min above max rate" 7 '"min_tx_rate" 200 is above "max_tx_rate" 100' '{"deviceID": "0000:3b:01.0", "min_tx_rate": 200, "max_tx_rate": 100}'
bad "pool not defined" 7 '"pool" value "nope" is not defined' "$(jq -nc --arg p "$T_TMP/etc/pools.json" '{pool: "nope", poolConfig: $p}')"
# a pool `devmgr serve` hands to the kubelet (its marker names the pool, the process runs):
# refused, nothing taken
sleep 60 & served_pid=$!
on_exit "kill $served_pid"
printf '{"pid":%s,"startTime":%s,"pools":[{"name":"fake_vfs","resource":"intel.com/fake_vfs"}]}' "$served_pid" \
	"$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$served_pid/stat")" >"$STATE/serve.json"
before=$(ls "$STATE/vfs" 2>/dev/null | sort | xargs)
bad "a pool served to the kubelet" 7 '"pool" value "fake_vfs" is served to the kubelet as intel.com/fake_vfs by devmgr serve' \
	"$(jq -nc --arg p "$T_TMP/etc/pools.json" '{pool: "fake_vfs", poolConfig: $p}')"
check_eq "... no VF taken" "$before" "$(ls "$STATE/vfs" 2>/dev/null | sort | xargs)"
kill "$served_pid"; wait "$served_pid" 2>/dev/null
rm -f "$STATE/serve.json"
bad "vlan on a PF without VF support" 102 'VF settings \(vlan\) cannot be applied' '{"deviceID": "0000:3b:01.0", "vlan": 10}'
restored 0 "refused settings"
add "$ns" ctr-bad net1 "$(jq -c '.runtimeConfig = {deviceID: "0000:3b:01.1"} | .deviceID = "0000:3b:09.0"' <<<"$(conf 1.0.0)")"
check_eq "runtimeConfig.deviceID wins over deviceID" "0 ctr-bad" "$CNI_RC $(record "${VF[1]}" | jq -r .owner)"
del "$ns" ctr-bad net1 "$(jq -c '.runtimeConfig = {deviceID: "0000:3b:01.1"}' <<<"$(conf 1.0.0)")"
restored 1 "DEL with runtimeConfig.deviceID"
add "$ns" ctr-bad net1 "$(conf 1.0.0 '{"pciBusID": "0000:3b:01.1"}')"
check_eq "Multus pciBusID is a deviceID" "0 ctr-bad" "$CNI_RC $(record "${VF[1]}" | jq -r .owner)"
del "$ns" ctr-bad net1 "$(conf 1.0.0 '{"pciBusID": "0000:3b:01.1"}')"
restored 1 "DEL with pciBusID"

# --- a move that fails half-way: the kernel moved the netdev, then refused its MTU ---------
# VF 3's netdev becomes a macvlan on a node veth: it moves like a VF netdev, and the kernel
# refuses an MTU above its lower device's only after the move, in the same request.
n link del ens1f0v3
n link add lowmtu type veth peer name lowmtu-peer
n link add ens1f0v3 link lowmtu address "${MACS[3]}" mtu 1500 type macvlan mode bridge
ORIG[3]=$(node_state ens1f0v3)
ns=$(mkns half)
c=$(conf 1.0.0 "$(jq -nc --arg d "${VF[3]}" '{deviceID: $d, mtu: 9000}')")
add "$ns" ctr-half net1 "$c"
check_eq "MTU refused after the move: code 100" 100 "$(jv .code)"
check_match "  ... message" 'moving ens1f0v3 into the container as "net1" with mtu 9000 failed' "$(jv .msg)"
restored 3 "MTU refused after the move"
check_eq "  ... nothing left in the container" "lo" "$(ip -n "$ns" -br link | awk '{print $1}' | xargs)"
if [ -x "$FPLUGIN" ]; then
	# Killed while rolling back: the netdev waits in the container under its host name.
	CNI_EXTRA_ENV+=(UCNI_FAULT=sriov.rollback UCNI_FAULT_KILL=1)
	cni ADD "$FPLUGIN" "$ns" net1 ctr-half <<<"$c"
	unset 'CNI_EXTRA_ENV[4]' 'CNI_EXTRA_ENV[3]'
	check_eq "killed in the rollback of a half-done move: ADD died" 137 "$CNI_RC"
	check_match "  ... the netdev is in the container under its host name" '^ens1f0v3[@ ]' \
		"$(ip -n "$ns" -br link show ens1f0v3 2>&1)"
	del "$ns" ctr-half net1 "$c"
	check_eq "  ... DEL exits 0" 0 "$CNI_RC"
	restored 3 "DEL after a kill in the rollback"
fi
n link del ens1f0v3
n link del lowmtu
n link add ens1f0v3 address "${MACS[3]}" mtu 1500 type veth peer name p3
n link set p3 up
ORIG[3]=$(node_state ens1f0v3)

# --- runtimeConfig.CNIDeviceInfoFile: the attachment's device-info file -----------------------
DI=$T_TMP/devinfo
ns=$(mkns devinfo)
# dconf PATH — VF 1 with the runtime's device-info file PATH
dconf() { conf 1.1.0 "$(jq -nc --arg d "${VF[1]}" --arg f "$1" '{deviceID: $d, runtimeConfig: {CNIDeviceInfoFile: $f}}')"; }
c=$(dconf "$DI/cni/sriov-host-ctr-di-net1-device.json")
add "$ns" ctr-di net1 "$c"
check_eq "CNIDeviceInfoFile: ADD exits 0" 0 "$CNI_RC"
f=$DI/cni/sriov-host-ctr-di-net1-device.json
check_eq "  ... the file: type pci, version 1.1.0, the VF and its PF" "pci 1.1.0 ${VF[1]} 0000:3b:00.0 null" \
	"$(jq -r '"\(.type) \(.version) \(.pci."pci-address") \(.pci."pf-pci-address") \(.pci."rdma-device")"' "$f" 2>&1)"
check_eq "  ... mode 0444, its directory made 0755" "444 755" "$(stat -c %a "$f" "$DI/cni" | xargs)"
check_eq "  ... the record says ADD made it" "$f" "$(record "${VF[1]}" | jq -r '.data.deviceInfoFile')"
check_eq "  ... no temp file left" "sriov-host-ctr-di-net1-device.json" "$(ls -A "$DI/cni")"
del "$ns" ctr-di net1 "$c"
check_eq "  ... DEL exits 0" 0 "$CNI_RC"
check "  ... DEL removed the file ADD made" test ! -e "$f"
restored 1 "CNIDeviceInfoFile DEL"

# a file that was there (the runtime's): merged, and left by DEL
# with an RDMA device on VF 1 (dm_device_rdma(): the first entry of its infiniband/)
mkdir -p "$SYS/bus/pci/devices/${VF[1]}/infiniband/mlx5_9"
printf '{"type":"pci","version":"1.1.0","pci":{"vhost-net":"/dev/vhost-net"},"owner":"runtime"}' >"$f"
add "$ns" ctr-di net1 "$c"
check_eq "an existing device-info file: ADD exits 0" 0 "$CNI_RC"
check_eq "  ... merged: its keys kept, ours set" "runtime /dev/vhost-net ${VF[1]} 0000:3b:00.0 mlx5_9" \
	"$(jq -r '"\(.owner) \(.pci."vhost-net") \(.pci."pci-address") \(.pci."pf-pci-address") \(.pci."rdma-device")"' "$f" 2>&1)"
rm -r "$SYS/bus/pci/devices/${VF[1]}/infiniband"
check_eq "  ... the record does not claim it" "null" "$(record "${VF[1]}" | jq -r '.data.deviceInfoFile')"
del "$ns" ctr-di net1 "$c"
check "  ... DEL leaves a file ADD did not make" test -e "$f"
rm -f "$f"

# hostile paths: outside devinfoDirs, "..", a symlinked directory beneath it: code 7, nothing written
for bad in "$T_TMP/etc/x-device.json" "$DI/../etc/x-device.json" "/etc/passwd" "relative/x.json"; do
	add "$ns" ctr-di net1 "$(dconf "$bad")"
	check_eq "CNIDeviceInfoFile $bad: code 7" 7 "$(jv .code)"
	check_match "  ... the message names runtimeConfig.CNIDeviceInfoFile" 'runtimeConfig.CNIDeviceInfoFile' "$(jv .msg)"
	check_eq "  ... VF 1 not taken" "" "$(record "${VF[1]}")"
done
check "  ... nothing written outside" test ! -e "$T_TMP/etc/x-device.json"
mkdir -p "$T_TMP/elsewhere" && ln -s "$T_TMP/elsewhere" "$DI/linked"
add "$ns" ctr-di net1 "$(dconf "$DI/linked/x-device.json")"
check_eq "CNIDeviceInfoFile beneath a symbolic link: code 7" 7 "$(jv .code)"
check_match "  ... the message says why" 'CNIDeviceInfoFile.*symbolic link' "$(jv .msg)"
check_eq "  ... nothing written through the link" "" "$(ls -A "$T_TMP/elsewhere")"
restored 1 "CNIDeviceInfoFile beneath a symbolic link"
ln -s /etc/passwd "$DI/cni/link-device.json"
add "$ns" ctr-di net1 "$(dconf "$DI/cni/link-device.json")"
check_eq "CNIDeviceInfoFile that is a symbolic link: code 7" 7 "$(jv .code)"
check_eq "  ... the link untouched" "/etc/passwd" "$(readlink "$DI/cni/link-device.json")"
restored 1 "CNIDeviceInfoFile that is a symbolic link"
rm -f "$DI/cni/link-device.json"

# A file ADD made and then a link put in its place: DEL leaves the link and what it names.
echo target >"$T_TMP/elsewhere/target"
add "$ns" ctr-di net1 "$c"
rm "$f" && ln -s "$T_TMP/elsewhere/target" "$f"
del "$ns" ctr-di net1 "$(jq -c '. + {logLevel: "warning"}' <<<"$c")"
check_eq "DEL with a symbolic link in place of the file ADD made: exits 0" 0 "$CNI_RC"
check_eq "  ... the link left, what it names untouched" "$T_TMP/elsewhere/target target" \
	"$(readlink "$f") $(cat "$T_TMP/elsewhere/target")"
check_match "  ... the log says why" "device-info file $f left in place: is a symbolic link" "$(cat "$T_TMP/stderr")"
restored 1 "DEL with a symbolic link in place of the file"
rm -f "$f"

# The attachment ended another way: `devmgr release`, `devmgr gc`, or ADD reclaiming the stale
# record. The file ADD made goes with the record, once the VF is restored; one it merged into stays.
# di_dies CONTAINER — ADD on VF 1 with the file $f, then the pod's netns dies without DEL
di_dies() {
	local d
	d=$(mkns "$1")
	add "$d" "$1" net1 "$c"
	check_eq "ADD $1 with a device-info file: exits 0, the file there" "0 yes" "$CNI_RC$(jv .msg | grep -v null) $(test -f "$f" && echo yes)"
	netns_dies "$d" net1 1 >/dev/null
}
di_dies ctr-dir
out=$(DM release "${VF[1]}"); rc=$?
check_eq "devmgr release after the pod died: exit 0, nothing else said" "0 released ${VF[1]}" "$rc $out"
check "  ... the device-info file ADD made is removed" test ! -e "$f"
sysfs_sync 1 ens1f0v1
restored 1 "devmgr release of an attachment with a device-info file"

di_dies ctr-dig
out=$(DM gc --json); rc=$?
check_eq "devmgr gc after the pod died: exit 0, one released" '0 {"released": 1, "corrupt": 0, "kept": 0, "busy": 0}' "$rc $out"
check "  ... the device-info file ADD made is removed" test ! -e "$f"
sysfs_sync 1 ens1f0v1
restored 1 "devmgr gc of an attachment with a device-info file"

# a restore that fails keeps the record and the file: the netdev in a third namespace
di_dies ctr-dik
dev=$(n -j link show | jq -r --arg m "${MACS[1]}" '.[] | select(.address == $m) | .ifname')
away=$(mkns away) && n link set "$dev" netns "$away"
out=$(DM release "${VF[1]}"); rc=$?
check_eq "devmgr release when the VF cannot be restored: exit 6, the record kept" "6 ctr-dik" \
	"$rc $(record "${VF[1]}" | jq -r .owner)"
check "  ... the device-info file kept with it" test -f "$f"
ip -n "$away" link set "$dev" netns "$NODE"
out=$(DM release --owner ctr-dik); rc=$?
check_eq "devmgr release --owner once the netdev is back: exit 0" "0 released ${VF[1]}" "$rc $out"
check "  ... the device-info file removed" test ! -e "$f"
sysfs_sync 1 ens1f0v1
restored 1 "devmgr release --owner of an attachment with a device-info file"

# --force drops a live attachment's record without a restore: its file goes with it (nothing
# would know of it after; the pod's DEL finds no record)
fl=$(mkns dif)
add "$fl" ctr-dif net1 "$c"
out=$(DM release --force "${VF[1]}"); rc=$?
check_eq "devmgr release --force of a live attachment with a device-info file: dropped" "0 released ${VF[1]}" "$rc $out"
check "  ... the device-info file removed with the record" test ! -e "$f"
del "$fl" ctr-dif net1 "$c"
ip -n "$fl" link set net1 netns "$NODE" name ens1f0v1
restored 1 "devmgr release --force (put back by hand)"

# the plugin's own reclaim: a new pod's ADD takes the VF of a dead one (without a file of its own)
di_dies ctr-dia
rb=$(mkns dib)
add "$rb" ctr-dib net1 "$(conf 1.1.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d}')")"
check_eq "ADD reclaiming the VF of a dead pod: exits 0, the record is the new pod's" "0 ctr-dib" \
	"$CNI_RC $(record "${VF[1]}" | jq -r .owner)"
check "  ... the dead pod's device-info file removed" test ! -e "$f"
del "$rb" ctr-dib net1 "$(conf 1.1.0 "$(jq -nc --arg d "${VF[1]}" '{deviceID: $d}')")"
sysfs_sync 1 ens1f0v1
restored 1 "DEL after the reclaim"

# a file that was there before ADD (merged into) is not the attachment's: release and gc leave it
for how in release gc; do
	printf '{"type":"pci","version":"1.1.0","owner":"runtime"}' >"$f"
	di_dies "ctr-dm$how"
	if [ "$how" = release ]; then out=$(DM release "${VF[1]}"); else out=$(DM gc); fi
	rc=$?
	check_eq "devmgr $how of an attachment that merged into a file: exit 0" 0 "$rc"
	check_eq "  ... the file stays, the runtime's key in it" runtime "$(jq -r .owner "$f" 2>&1)"
	sysfs_sync 1 ens1f0v1
	restored 1 "devmgr $how of an attachment that merged into a file"
	rm -f "$f"
done

# the node's devinfoDirs no longer allow the directory: the file is left, the release done, a line says so
echo "{\"devinfoDirs\": [\"$T_TMP/elsewhere\"]}" >"$T_TMP/node-moved.json"
di_dies ctr-dmv
out=$(DM_NODE=$T_TMP/node-moved.json DM release "${VF[1]}"); rc=$?
check_eq "devmgr release when devinfoDirs no longer allow the file: exit 0" 0 "$rc"
check_match "  ... says the file is left and why" \
	"release: VF ${VF[1]}: device-info file $f left in place: .*$T_TMP/elsewhere" "$out"
check "  ... the file is left" test -f "$f"
sysfs_sync 1 ens1f0v1
restored 1 "devmgr release when devinfoDirs no longer allow the file"
rm -f "$f"
di_dies ctr-dmg
out=$(DM_NODE=$T_TMP/node-moved.json DM gc); rc=$?
check_eq "devmgr gc when devinfoDirs no longer allow the file: exit 0" 0 "$rc"
check_match "  ... says the file is left" "gc: 1 device-info file left in place; it: $f: " "$out"
check "  ... the file is left" test -f "$f"
sysfs_sync 1 ens1f0v1
restored 1 "devmgr gc when devinfoDirs no longer allow the file"
rm -f "$f"

# a symbolic link put in place of the file: neither gc nor release follows it, both leave it
for how in gc release; do
	di_dies "ctr-dl$how"
	rm "$f" && ln -s "$T_TMP/elsewhere/target" "$f"
	if [ "$how" = release ]; then out=$(DM release "${VF[1]}"); else out=$(DM gc); fi
	rc=$?
	check_eq "devmgr $how with a symbolic link in place of the file: exit 0" 0 "$rc"
	check_match "  ... says the link is left" "device-info file.* $f.*is a symbolic link" "$out"
	check_eq "  ... the link left, what it names untouched" "$T_TMP/elsewhere/target target" \
		"$(readlink "$f") $(cat "$T_TMP/elsewhere/target")"
	sysfs_sync 1 ens1f0v1
	restored 1 "devmgr $how with a symbolic link in place of the file"
	rm -f "$f"
done

# --- the example conflists ------------------------------------------------------------------
for f in conf/sriov.conflist conf/sriov-pool.conflist; do
	pl=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$f")
	check_match "$f: the plugin's keys parse (only the device is missing here)" \
		'"code": (102|7)' "$(add "$ns" ctr-conf net1 "$pl"; echo "$CNI_OUT" | tr '\n' ' ')"
done
finish
