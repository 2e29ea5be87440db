#!/bin/bash
# Churn: CHURN_CYCLES (default 1000) ADD/DEL cycles of macvlan with host-local
# IPAM, CHURN_WORKERS (default 8) at a time, all on one master. Afterwards:
# no link, address or reservation is left, and every call succeeded.
# Then CHURN_KILLS (default 80) ADDs killed (kill -9) at a random moment, each
# followed at once by its DEL, as a runtime that timed out does; the same
# workers. The IPAM plugin there is tests/integ/fake-ipam, which takes a random
# 0-0.3 s and reserves with a single open(2) (a file named after the container
# ID): an ADD killed at any point, its IPAM plugin included, leaves nothing once
# its DEL returned, and nothing appears later.
# Then CHURN_RACES (default 40) DELs sent while their ADD still runs (an IPAM
# that takes 0.1-0.5 s), 4 at a time: every DEL waits for its ADD (the
# attachment lock) and nothing is left.
#
#   node ns: m0 (master) ── m1        pod namespaces w0..w7, one per worker
source "$(dirname "$0")/../lib.sh"
CYCLES=${CHURN_CYCLES:-1000}
WORKERS=${CHURN_WORKERS:-8}
PLUGIN=$UCNI_BIN/macvlan
HL=$T_TMP/hl
NODE=$(mkns node)
ip -n "$NODE" link add m0 type veth peer name m1
ip -n "$NODE" link set m0 up
ip -n "$NODE" link set m1 up
conf=$(jq -nc --arg hl "$HL" '{cniVersion: "1.0.0", name: "churn", type: "macvlan", master: "m0",
	ipam: {type: "host-local", ranges: [[{subnet: "10.81.0.0/24", gateway: "10.81.0.1"}]], dataDir: $hl}}')

worker() { # worker INDEX CYCLES
	local ns=$1 n=$2 errors=0 i
	for ((i = 0; i < n; i++)); do
		cni ADD "$PLUGIN" "$ns" eth0 "$ns-$i" <<<"$conf"
		if [ "$CNI_RC" -ne 0 ] || [ "$(jv '.ips[0].address')" = null ]; then
			errors=$((errors + 1)); echo "ADD $ns-$i: $CNI_OUT" >&2
		fi
		cni DEL "$PLUGIN" "$ns" eth0 "$ns-$i" <<<"$conf"
		[ "$CNI_RC" -ne 0 ] && { errors=$((errors + 1)); echo "DEL $ns-$i: $CNI_OUT" >&2; }
	done
	echo "$errors" >"$T_TMP/errors.$ns"
}

CNI_NODE=$NODE
pods=()
for ((w = 0; w < WORKERS; w++)); do pods+=("$(mkns "w$w")"); done
per=$(( (CYCLES + WORKERS - 1) / WORKERS ))
start=$(date +%s.%N)
for p in "${pods[@]}"; do worker "$p" "$per" 2>>"$T_TMP/worker.log" & done
wait
secs=$(echo "$(date +%s.%N) - $start" | bc)
errors=$(cat "$T_TMP"/errors.* | paste -sd+ | bc)
check_eq "$((per * WORKERS)) ADD/DEL cycles with $WORKERS workers: every call succeeded" 0 "$errors"
[ "$errors" -ne 0 ] && head -n5 "$T_TMP/worker.log"
echo "churn: $((per * WORKERS)) cycles in ${secs}s"
check_eq "no reservation left" 0 "$(ls "$HL/churn" 2>/dev/null | grep -c -v -e lock -e last_reserved)"
check_eq "node has only m0 and m1" "lo m0 m1" "$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ' | sed 's/ $//')"
left=0
for p in "${pods[@]}"; do
	[ "$(ip -n "$p" -o link | wc -l)" -eq 1 ] || left=$((left + 1))
	[ -z "$(ip -n "$p" -o addr show scope global)" ] || left=$((left + 1))
done
check_eq "every pod namespace is back to lo only, no address" 0 "$left"

KILLS=${CHURN_KILLS:-80}
BIN=$T_TMP/bin RES=$T_TMP/res
mkdir -p "$BIN" "$RES"
ln -s "$UCNI_TOP/tests/integ/fake-ipam" "$BIN/fake-ipam"
on_exit "pkill -KILL -f -- '$BIN/fake-ipam'"
export CNI_PATH_OVERRIDE=$BIN
kconf() { # kconf DELAY
	jq -nc --arg res "$RES" --argjson d "$1" '{cniVersion: "1.0.0", name: "churn-kill", type: "macvlan",
		master: "m0", ipam: {type: "fake-ipam", dir: $res, delay: $d, result: {ips: [{address: "10.81.1.5/24"}]}}}'
}
killer() { # killer NS CYCLES
	local ns=$1 n=$2 errors=0 i c pid rc
	for ((i = 0; i < n; i++)); do
		c=$(kconf "$(printf '0.%03d' $((RANDOM % 300)))")
		ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=ADD CNI_CONTAINERID="$ns-k$i" \
			CNI_NETNS="/var/run/netns/$ns" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$PLUGIN" <<<"$c" >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % 400)))"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=$?
		[ "$rc" -eq 137 ] && echo killed >>"$T_TMP/killed.$ns"
		cni DEL "$PLUGIN" "$ns" eth0 "$ns-k$i" <<<"$c"
		[ "$CNI_RC" -ne 0 ] && { errors=$((errors + 1)); echo "DEL $ns-k$i after kill: $CNI_OUT" >&2; }
		[ "$(ip -n "$ns" -o link | wc -l)" -eq 1 ] || { errors=$((errors + 1)); echo "DEL $ns-k$i: a link is left" >&2; }
		[ -e "$RES/$ns-k$i" ] && { errors=$((errors + 1)); echo "DEL $ns-k$i: the reservation is left" >&2; }
	done
	echo "$errors" >"$T_TMP/kerrors.$ns"
}
kper=$(( (KILLS + WORKERS - 1) / WORKERS ))
: >"$T_TMP/worker.log"
for p in "${pods[@]}"; do killer "$p" "$kper" 2>>"$T_TMP/worker.log" & done
wait
errors=$(cat "$T_TMP"/kerrors.* | paste -sd+ | bc)
killed=$(cat "$T_TMP"/killed.* 2>/dev/null | wc -l)
check_eq "$((kper * WORKERS)) killed ADDs ($killed killed while running), each DEL at once: succeeded, no link or reservation left" 0 "$errors"
[ "$errors" -ne 0 ] && head -n5 "$T_TMP/worker.log"
sleep 1.5 # longer than any IPAM delay: an IPAM plugin that outlived its caller would reserve by now
check_eq "killed ADDs: no reservation appeared afterwards" 0 "$(find "$RES" -type f | wc -l)"
check_eq "killed ADDs: no IPAM process left" 0 "$(pgrep -f -- "$BIN/fake-ipam" | wc -l)"
check_eq "killed ADDs: node has only m0 and m1" "lo m0 m1" "$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ' | sed 's/ $//')"
left=0
for p in "${pods[@]}"; do
	[ "$(ip -n "$p" -o link | wc -l)" -eq 1 ] || left=$((left + 1))
done
check_eq "killed ADDs: every pod namespace is back to lo only" 0 "$left"
# DEL racing ADD: slow-ipam is host-local after a pause (the file ipam-delay.<ID>),
# and tells when it started, that is when the ADD holds its attachment's lock.
RACES=${CHURN_RACES:-40}
mkdir -p "$T_TMP/bin"
cat >"$T_TMP/bin/slow-ipam" <<EOF
#!/bin/bash
[ "\$CNI_COMMAND" = ADD ] && touch "$T_TMP/started.\$CNI_CONTAINERID"
sleep "\$(cat "$T_TMP/ipam-delay.\$CNI_CONTAINERID" 2>/dev/null || echo 0)"
exec "$REF_CNI/host-local"
EOF
chmod +x "$T_TMP/bin/slow-ipam"
export CNI_PATH_OVERRIDE="$UCNI_BIN:$REF_CNI:$T_TMP/bin"
race_conf=$(jq -c '.name = "race" | .ipam.type = "slow-ipam"' <<<"$conf")
racer() { # racer POD CYCLES
	local ns=$1 n=$2 bad=0 i k cid
	for ((i = 0; i < n; i++)); do
		cid="$ns-r$i"
		printf '0.%03d\n' $((RANDOM % 400 + 100)) >"$T_TMP/ipam-delay.$cid"
		( cni ADD "$PLUGIN" "$ns" eth0 "$cid" <<<"$race_conf"; echo "$CNI_RC" >"$T_TMP/add-rc.$cid" ) &
		for ((k = 0; k < 750; k++)); do [ -e "$T_TMP/started.$cid" ] && break; sleep 0.02; done
		sleep "$(printf '0.%03d' $((RANDOM % 300)))"
		cni DEL "$PLUGIN" "$ns" eth0 "$cid" <<<"$race_conf"
		[ "$CNI_RC" -ne 0 ] && { bad=$((bad + 1)); echo "DEL $cid: $CNI_OUT" >&2; }
		wait
		[ "$(cat "$T_TMP/add-rc.$cid")" = 0 ] || { bad=$((bad + 1)); echo "ADD $cid failed" >&2; }
		[ "$(ip -n "$ns" -o link | wc -l)" -eq 1 ] || { bad=$((bad + 1)); echo "link left after $cid" >&2; }
	done
	echo "$bad" >"$T_TMP/race-errors.$ns"
}
per=$(( (RACES + 3) / 4 ))
for p in "${pods[@]:0:4}"; do racer "$p" "$per" 2>>"$T_TMP/race.log" & done
wait
bad=$(cat "$T_TMP"/race-errors.* | paste -sd+ | bc)
check_eq "$((per * 4)) DELs racing their ADDs: every call succeeded, no link left" 0 "$bad"
[ "$bad" -ne 0 ] && head -n5 "$T_TMP/race.log"
check_eq "DEL racing ADD: no reservation left" 0 "$(ls "$HL/race" 2>/dev/null | grep -c -v -e lock -e last_reserved)"
finish
