#!/bin/bash
# devmgr serve against real VFs, INSIDE the VM (tests/devmgr/serve-vm.sh boots it with --igb 1):
#
#   kubelet.py ── kubelet.sock <── devmgr serve ──> ucni-ucni.io_igb.sock
#   PF (igb 8086:10c9) ──virtfn0..1──> VFs 8086:10ca (igbvf): the pool "igb"
#
# The VFs stream Healthy; a real `ip link set PF down` reaches the stream as Unhealthy
# within a second (rtnetlink, no signal), `up` brings them back Healthy once the PF has
# carrier again; Allocate of a real VF; SIGTERM ends serve with status 0.
. "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "serve-vm-guest.sh runs inside the VM (tests/devmgr/serve-vm.sh)"; exit 2; }
cd "$UCNI_TOP" || exit 1
PY=/usr/bin/python3
DM=("$UCNI_BIN/devmgr" --state-dir "$T_TMP/state")
KD=$T_TMP/kubelet PYD=$T_TMP/py LOG=$T_TMP/kubelet.log
mkdir -p "$KD" "$PYD"
wait_for() { local i; for ((i = 0; i < $1 * 20; i++)); do "${@:2}" && return 0; sleep 0.05; done; return 1; }
jlog() { jq -sc "$1" "$LOG" 2>/dev/null; }
logtrue() { [ "$(jlog "$1")" == true ]; }

pfs=()
for d in /sys/bus/pci/drivers/igb/0000:*; do [ -d "$d/net" ] && pfs+=("${d##*/}"); done
[ "${#pfs[@]}" -ge 1 ] || { fail "an igb PF in the VM"; finish; }
A=${pfs[0]} SA=/sys/bus/pci/devices/${pfs[0]}
AN=$(ls "$SA/net")
ip link set "$AN" up
check "two VFs on $AN" "${DM[@]}" vfs "$AN" 2
wait_for 15 grep -qx 1 "/sys/class/net/$AN/carrier" || fail "PF $AN has carrier"
modprobe igbvf
has_vf_netdevs() { compgen -G "$SA/virtfn0/net/*" >/dev/null && compgen -G "$SA/virtfn1/net/*" >/dev/null; }
wait_for 15 has_vf_netdevs || fail "VF netdevs appear"
vf0=$(basename "$(readlink "$SA/virtfn0")") vf1=$(basename "$(readlink "$SA/virtfn1")")
cat >"$T_TMP/pools.json" <<EOC
{"resourceList": [{"resourceName": "igb", "resourcePrefix": "ucni.io", "selectors": {"rootDevices": ["$A"]}}]}
EOC

"$PY" -m grpc_tools.protoc -Idevmgr/rpc --python_out="$PYD" --grpc_python_out="$PYD" api.proto ||
	{ fail "compile api.proto for the stand-in"; finish; }
"$PY" tests/devmgr/kubelet.py "$PYD" kubelet "$KD" "$LOG" 2>"$T_TMP/kubelet.err" &
KPID=$!
on_exit "kill $KPID"
wait_for 20 test -S "$KD/kubelet.sock" || { fail "the stand-in did not start" "$(cat "$T_TMP/kubelet.err")"; finish; }
"${DM[@]}" --config "$T_TMP/pools.json" serve --kubelet-dir "$KD" --devinfo-dir "$T_TMP/devinfo" 2>"$T_TMP/serve.err" &
SPID=$!
on_exit "kill $SPID"

# state HEALTH — every device of the last list of ucni.io/igb has HEALTH (and there are 2)
state() {
	logtrue "[.[] | select(.event == \"list\" and .resource == \"ucni.io/igb\")] | last | .devices as \$d | (\$d | length) == 2 and all(\$d[]; .health == \"$1\")"
}
if wait_for 15 state Healthy; then
	ok "serve registered the pool; both VFs stream Healthy"
else
	fail "registration and first list" "$(cat "$T_TMP/serve.err"; tail -3 "$LOG")"
fi
check_eq "the stream lists the real VFs" "$(printf '%s\n' "$vf0" "$vf1" | sort | xargs)" \
	"$(jlog '[.[] | select(.event == "list")] | last | [.devices[].ID] | sort | join(" ")' | tr -d '"')"

# the stand-in stamps each list on arrival ("t"): the delay is measured from those stamps,
# not from this script's polling (slow under TCG)
t0=$(date +%s.%N)
ip link set "$AN" down
if wait_for 10 state Unhealthy; then
	dt=$(jlog "[.[] | select(.event == \"list\" and .t > $t0)] | first | ((.t - $t0) * 1000 | floor)")
	if [ -n "$dt" ] && [ "$dt" -lt 1000 ]; then
		ok "ip link set $AN down: Unhealthy on the stream within a second ($dt ms)"
	else
		fail "PF down" "the Unhealthy list came $dt ms after the link went down"
	fi
else
	fail "PF down" "no Unhealthy list: $(jlog '[.[] | select(.event == "list")] | last')"
fi
ip link set "$AN" up
if wait_for 20 state Healthy; then
	ok "ip link set $AN up: Healthy again once the PF has carrier"
else
	fail "PF up" "$(jlog '[.[] | select(.event == "list")] | last')"
fi

out=$("$PY" tests/devmgr/kubelet.py "$PYD" call "$KD/ucni-ucni.io_igb.sock" Allocate \
	"{\"container_requests\": [{\"devices_ids\": [\"$vf0\"]}]}" 2>&1)
check_eq "Allocate of a real VF: its env" "$vf0" "$(jq -r '.container_responses[0].envs.PCIDEVICE_UCNI_IO_IGB' <<<"$out" 2>&1)"
check "... and its device-info file" test -f "$T_TMP/devinfo/dp/ucni.io-igb-$vf0-device.json"

kill -TERM "$SPID"
wait "$SPID"
check_eq "SIGTERM: serve exits 0" 0 $?
check_eq "... its socket and device-info files are gone" "kubelet.sock" "$(ls "$KD"; ls "$T_TMP/devinfo/dp" 2>/dev/null)"
"${DM[@]}" vfs "$AN" 0 >/dev/null 2>&1
finish
