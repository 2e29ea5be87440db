#!/bin/bash
# Churn in the test VM (tests/churn/run boots it with one igb NIC): many ADD/DEL cycles,
# several at a time, then nothing may be left behind.
#
#   VM root namespace (the node; the plugins run here)
#   mchurn (dummy) ── ipvlan eth0 in pod namespaces i0..i3 (one worker each, host-local)
#   eth0 (igb PF)  ── VF 0..3 (igbvf netdevs) ── net1 in pod namespaces s0..s3
#                     worker w owns VF w (deviceID), sets vlan, mac, spoofchk
#
# UCNI_CHURN_CYCLES (default 200) is the number of ADD/DEL cycles per plugin, shared out
# over the workers. Afterwards: every call succeeded; no ipvlan link, address, host-local
# reservation or registry entry is left; every VF is back as the PF showed it before
# (name, MAC, MTU, VF vlan/mac/spoofchk), no allocation record is left and no lock is held.
# Process starts are slow under TCG (jq ≈0.7 s): results are matched in bash, not jq.
source "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "tests/churn/vm-churn.sh runs inside the test VM (tests/churn/run)" >&2; exit 2; }
CYCLES=${UCNI_CHURN_CYCLES:-200}
WORKERS=4
CNI_PATH_OVERRIDE=$UCNI_BIN:$REF_CNI

# ---- helpers (bash only: no process per check) -----------------------------------
links_of() { # links_of [ip options] — link names, space-separated
	local _ name out=
	while read -r _ name _; do name=${name%:}; out+=" ${name%%@*}"; done < <(ip "$@" -o link)
	echo "${out# }"
}
# netdev NAME — "name mac mtu UP|DOWN" of a node netdev
netdev() {
	local l name flags mtu mac
	l=$(ip -o link show "$1" 2>/dev/null) || { echo "absent"; return; }
	name=${l#*: } name=${name%%:*}
	flags=${l#*<} flags=${flags%%>*}
	mtu=${l#* mtu } mtu=${mtu%% *}
	mac=${l#*link/ether } mac=${mac%% *}
	[[ ",$flags," == *,UP,* ]] && flags=UP || flags=DOWN
	echo "$name $mac $mtu $flags"
}
vfline() { ip link show "$1" | sed -n "s/^ *vf $2 //p"; } # vfline PF N
vf_netdev() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n1; }
# held LOCKFILE… — the lock files some process holds a flock on (flock -n fails)
held() {
	local f out=
	for f; do [ -e "$f" ] && ! flock -n -x "$f" true && out+=" ${f##*/}"; done
	echo "${out# }"
}
# run_workers NAME FUNCTION CYCLES-PER-WORKER — start the workers, wait, time them;
# sets SECS and ERRORS (sum of the workers' failed calls)
run_workers() {
	local name=$1 fn=$2 per=$3 w t0 t1
	t0=$(date +%s%N)
	for ((w = 0; w < WORKERS; w++)); do
		(
			mkdir -p "$T_TMP/$name$w"
			T_TMP=$T_TMP/$name$w # the worker's own stderr file for cni()
			"$fn" "$w" "$per" 2>>"$T_TMP/log"
		) &
	done
	wait
	t1=$(date +%s%N)
	SECS=$(((t1 - t0) / 1000000))
	SECS=$((SECS / 1000)).$((SECS % 1000 / 100))
	ERRORS=0
	for ((w = 0; w < WORKERS; w++)); do
		ERRORS=$((ERRORS + $(cat "$T_TMP/$name$w/errors" 2>/dev/null || echo 1000000)))
	done
}
worker_log() { # worker_log NAME — the first failures, for the reader
	local w
	for ((w = 0; w < WORKERS; w++)); do head -n3 "$T_TMP/$1$w/log" 2>/dev/null; done | sed 's/^/#   /'
}
PER=$(((CYCLES + WORKERS - 1) / WORKERS))

# ---- ipvlan ------------------------------------------------------------------------
section "ipvlan: $((PER * WORKERS)) ADD/DEL cycles, $WORKERS workers, one dummy master, host-local"
IPV=$UCNI_BIN/ipvlan
IPVREG=$T_TMP/ipvlan-registry
HL=$T_TMP/hl
IPVNET=churn-ipvlan
ip link add mchurn type dummy && ip link set mchurn up || { fail "dummy master mchurn"; finish; }
on_exit ip link del mchurn
IPVCONF="{\"cniVersion\":\"1.0.0\",\"name\":\"$IPVNET\",\"type\":\"ipvlan\",\"master\":\"mchurn\",\"mode\":\"l2\",\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.82.0.0/24\",\"gateway\":\"10.82.0.1\"}]],\"dataDir\":\"$HL\"}}"
node_before=$(links_of)
IPODS=()
for ((w = 0; w < WORKERS; w++)); do IPODS+=("$(mkns "i$w")"); done
ipvlan_worker() { # ipvlan_worker W CYCLES
	local pod=${IPODS[$1]} n=$2 i errors=0 cid
	CNI_EXTRA_ENV=(UCNI_IPVLAN_DIR="$IPVREG")
	for ((i = 0; i < n; i++)); do
		cid=churn-i$1-$i
		cni ADD "$IPV" "$pod" eth0 "$cid" <<<"$IPVCONF"
		# a result with the pod's eth0 and an address from the range
		if [ "$CNI_RC" -ne 0 ] || [[ $CNI_OUT != *'"name": "eth0"'* && $CNI_OUT != *'"name":"eth0"'* ]] ||
			! [[ $CNI_OUT =~ \"address\":\ ?\"10\.82\.0\.[0-9]+/24\" ]]; then
			errors=$((errors + 1))
			echo "ADD $cid: rc $CNI_RC $CNI_OUT $(<"$T_TMP/stderr")" >&2
		fi
		cni DEL "$IPV" "$pod" eth0 "$cid" <<<"$IPVCONF"
		if [ "$CNI_RC" -ne 0 ] || [ -n "$CNI_OUT" ]; then
			errors=$((errors + 1))
			echo "DEL $cid: rc $CNI_RC $CNI_OUT $(<"$T_TMP/stderr")" >&2
		fi
	done
	echo "$errors" >"$T_TMP/errors"
}
run_workers ipv ipvlan_worker "$PER"
check_eq "ipvlan: $((PER * WORKERS)) ADD/DEL cycles, every call succeeded with an address" 0 "$ERRORS"
[ "$ERRORS" -ne 0 ] && worker_log ipv
echo "# ipvlan churn: $((PER * WORKERS)) cycles ($((PER * WORKERS * 2)) calls) with $WORKERS workers in ${SECS}s"
left=
for p in "${IPODS[@]}"; do
	[ "$(links_of -n "$p")" = lo ] || left+=" $p:[$(links_of -n "$p")]"
	a=$(ip -n "$p" -o addr show scope global)
	[ -z "$a" ] || left+=" $p:[$a]"
done
check_eq "ipvlan: every pod namespace is back to lo only, no address" "" "${left# }"
check_eq "ipvlan: node links as before (no ipvlan, no temporary name)" "$node_before" "$(links_of)"
res=
for f in "$HL/$IPVNET"/*; do
	[ -e "$f" ] && [[ ${f##*/} != lock && ${f##*/} != last_reserved* ]] && res+=" ${f##*/}"
done
check_eq "ipvlan: no host-local reservation left" "" "${res# }"
entries= re='"containerID":[[:space:]]*"([^"]*)"'
for f in "$IPVREG"/*.json; do
	[ -e "$f" ] || continue
	s=$(<"$f")
	while [[ $s =~ $re ]]; do entries+=" ${BASH_REMATCH[1]}"; s=${s#*"${BASH_REMATCH[0]}"}; done
done
check_eq "ipvlan: no registry entry left in $IPVREG" "" "${entries# }"
echo "# ipvlan registry afterwards: [$(ls -A "$IPVREG" 2>/dev/null | xargs)]"
check_eq "ipvlan: no registry lock held" "" "$(held "$IPVREG"/*)"

# ---- sriov -------------------------------------------------------------------------
section "sriov: $((PER * WORKERS)) ADD/DEL cycles, one VF per worker (vlan, mac, spoofchk)"
SRIOV=$UCNI_BIN/sriov
STATE=$T_TMP/state
up=$("$UCNI_TOP/tests/vm/guest-sriov-up" $WORKERS 2>&1) || { fail "guest-sriov-up $WORKERS" "$up"; finish; }
ok "VFs up: $up"
read -r PF _ <<<"$up"
VF=() VFL=() ND=()
for ((w = 0; w < WORKERS; w++)); do
	VF[w]=$(basename "$(readlink "/sys/class/net/$PF/device/virtfn$w")")
	VFL[w]=$(vfline "$PF" $w)
	ND[w]=$(netdev "$(vf_netdev "${VF[w]}")")
done
node_before=$(links_of)
SPODS=()
for ((w = 0; w < WORKERS; w++)); do SPODS+=("$(mkns "s$w")"); done
sriov_conf() { # sriov_conf W
	echo "{\"cniVersion\":\"1.1.0\",\"name\":\"churn-sriov\",\"type\":\"sriov\",\"deviceID\":\"${VF[$1]}\",\"vlan\":$((100 + $1)),\"mac\":\"02:00:00:c4:00:0$1\",\"spoofchk\":\"off\"}"
}
sriov_worker() { # sriov_worker W CYCLES
	local w=$1 pod=${SPODS[$1]} n=$2 i errors=0 cid conf l
	local mac=02:00:00:c4:00:0$w
	conf=$(sriov_conf "$w")
	CNI_EXTRA_ENV=(UCNI_STATE_DIR="$STATE")
	for ((i = 0; i < n; i++)); do
		cid=churn-s$w-$i
		cni ADD "$SRIOV" "$pod" net1 "$cid" <<<"$conf"
		if [ "$CNI_RC" -ne 0 ] || [[ $CNI_OUT != *"\"$mac\""* ]] || [[ $CNI_OUT != *"${VF[w]}"* ]]; then
			errors=$((errors + 1))
			echo "ADD $cid: rc $CNI_RC $CNI_OUT $(<"$T_TMP/stderr")" >&2
		elif ((i % 10 == 0)); then # what the PF reports, every tenth cycle
			l=$(vfline "$PF" "$w")
			if ! [[ $l =~ link/ether\ $mac.*vlan\ $((100 + w)).*spoof\ checking\ off ]]; then
				errors=$((errors + 1))
				echo "ADD $cid: the PF shows vf $w as: $l" >&2
			fi
		fi
		cni DEL "$SRIOV" "$pod" net1 "$cid" <<<"$conf"
		if [ "$CNI_RC" -ne 0 ] || [ -n "$CNI_OUT" ]; then
			errors=$((errors + 1))
			echo "DEL $cid: rc $CNI_RC $CNI_OUT $(<"$T_TMP/stderr")" >&2
		fi
	done
	echo "$errors" >"$T_TMP/errors"
}
run_workers sr sriov_worker "$PER"
check_eq "sriov: $((PER * WORKERS)) ADD/DEL cycles, every call succeeded, the PF showed the settings" 0 "$ERRORS"
[ "$ERRORS" -ne 0 ] && worker_log sr
echo "# sriov churn: $((PER * WORKERS)) cycles ($((PER * WORKERS * 2)) calls) with $WORKERS workers in ${SECS}s"
for ((w = 0; w < WORKERS; w++)); do
	check_eq "sriov: VF $w (${VF[w]}) settings on $PF as before" "${VFL[w]}" "$(vfline "$PF" $w)"
	check_eq "sriov: VF $w netdev back (name mac mtu state)" "${ND[w]}" "$(netdev "$(vf_netdev "${VF[w]}")")"
done
left=
for p in "${SPODS[@]}"; do [ "$(links_of -n "$p")" = lo ] || left+=" $p:[$(links_of -n "$p")]"; done
check_eq "sriov: every pod namespace is back to lo only" "" "${left# }"
check_eq "sriov: node links as before" "$node_before" "$(links_of)"
check_eq "sriov: no allocation record (or temporary record) left" "" "$(ls -A "$STATE/vfs" 2>/dev/null | xargs)"
check_match "sriov: the VFs' lock files exist" "${VF[0]}\.lock" "$(ls "$STATE/locks" 2>/dev/null | xargs)"
check_eq "sriov: no lock held (store.lock, locks/*)" "" "$(held "$STATE/store.lock" "$STATE"/locks/*)"
finish
