#!/bin/bash
# devmgr serve against a kubelet stand-in on real gRPC (tests/devmgr/kubelet.py, Debian's
# python3-grpcio, the messages of devmgr/rpc/api.proto compiled here), on the fake sysfs
# tree: registration of every pool, ListAndWatch (health, NUMA, excludeTopology), a carrier
# change, GetPreferredAllocation (must-include, packing, NUMA), Allocate (env, device
# specs, device-info files), unknown and unhealthy IDs, 8 concurrent Allocate calls, SIGHUP
# reload, a kubelet restart, a second serve, SIGTERM cleanup, socket modes under umask 000.
#
#   kubelet.py ── kubelet.sock <── Register ── devmgr serve ──> <resource>.sock (one per pool)
#        └──────── ListAndWatch / Allocate / GetPreferredAllocation ──┘
#   fake sysfs: ens1f0 (NUMA 0) 8 VFs, 6..7 vfio-pci; ens1f1 (NUMA 0) 4 VFs; ens2f0 (NUMA 1)
#   8 VFs, VF 7 unbound
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

PY=/usr/bin/python3
if ! "$PY" -c 'import grpc, grpc_tools.protoc, google.protobuf' 2>/dev/null; then
	skip "devmgr serve" "python3-grpcio, python3-grpc-tools or python3-protobuf missing (make deps)"
	finish
fi
GEN=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
SYS=$T_TMP/sys ST=$T_TMP/state KD=$T_TMP/kubelet DI=$T_TMP/devinfo PYD=$T_TMP/py
LOG=$T_TMP/kubelet.log CFG=$T_TMP/pools.json
mkdir -p "$KD" "$PYD"
"$GEN" "$SYS" || { fail "generate the fake sysfs"; finish; }
"$PY" -m grpc_tools.protoc -Idevmgr/rpc --python_out="$PYD" --grpc_python_out="$PYD" api.proto ||
	{ fail "compile api.proto for the stand-in"; finish; }
# ens1f1's link up: every PF of the pools below starts healthy
printf '1\n' >"$SYS/class/net/ens1f1/carrier"
printf 'up\n' >"$SYS/class/net/ens1f1/operstate"
printf '0x1003\n' >"$SYS/class/net/ens1f1/flags"

addr() { # addr PF-NETDEV VF-INDEX — the VF's PCI address on the fixture
	"$UCNI_BIN/devmgr" --sysfs-root "$SYS" list --json |
		jq -r --arg pf "$1" --argjson i "$2" '.pfs[] | select(.netdev == $pf) | .vfs[] | select(.vfIndex == $i) | .pciAddress'
}
A0=$(addr ens1f0 0) A1=$(addr ens1f0 1) A6=$(addr ens1f0 6) A7=$(addr ens1f0 7)
B0=$(addr ens1f1 0) B1=$(addr ens1f1 1) B2=$(addr ens1f1 2) B3=$(addr ens1f1 3)
M0=$(addr ens2f0 0) M1=$(addr ens2f0 1) M2=$(addr ens2f0 2) M3=$(addr ens2f0 3) M4=$(addr ens2f0 4) M7=$(addr ens2f0 7)

MLX=', { "resourceName": "mlx", "selectors": { "rootDevices": ["0000:af:00.0#3-7"] } }'
pools() { # pools [OTHER-RESOURCES-JSON] [NET-EXCLUDE-TOPOLOGY]
	local others=${1-$MLX} excl=${2:+"\"excludeTopology\": $2,"}
	cat >"$CFG" <<EOF
{ "resourceList": [
  { "resourceName": "dpdk", "resourcePrefix": "ucni.io", "selectors": { "drivers": ["vfio-pci"] } },
  { "resourceName": "net", "resourcePrefix": "ucni.io", $excl
    "selectors": [ { "pfNames": ["ens1f0#0-5", "ens1f1"] }, { "rootDevices": ["0000:af:00.0#0-2"] } ] }
  $others
] }
EOF
}
pools

SPID= KPID=
start_kubelet() {
	"$PY" tests/devmgr/kubelet.py "$PYD" kubelet "$KD" "$LOG" 2>>"$T_TMP/kubelet.err" &
	KPID=$!
	wait_for "the stand-in's kubelet.sock" 10 test -S "$KD/kubelet.sock"
}
stop_kubelet() { [ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null; KPID=; }
# serve runs in a network namespace of the suite: its link notifications are the ones made there
NS=$(mkns serve) || { fail "create a network namespace"; finish; }
# a link named as the fixture's PF ens1f1 (made before serve starts: its creation is a
# device event of its own)
ip -n "$NS" link add ens1f1 type veth peer name ens1f1p || { fail "a veth in $NS"; finish; }
start_serve() {
	(umask 000; exec ip netns exec "$NS" "$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$CFG" serve \
		--kubelet-dir "$KD" --devinfo-dir "$DI") 2>>"$T_TMP/serve.err" &
	SPID=$!
}
on_exit 'stop_kubelet; [ -n "$SPID" ] && kill $SPID'
# wait_for "what" SECONDS command… — true once the command succeeds (polled every 50 ms)
wait_for() {
	local what=$1 end=$((SECONDS + $2)); shift 2
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
# jlog FILTER — jq -s FILTER over the stand-in's log
jlog() { jq -sc "$1" "$LOG" 2>/dev/null; }
logtrue() { [ "$(jlog "$1")" == true ]; }
# last list of RESOURCE as "ID health numa" lines, sorted
last_list() {
	jlog "[.[] | select(.event == \"list\" and .resource == \"$1\")] | last | .devices[] |
		\"\\(.ID) \\(.health) \\(.topology.nodes[0].ID // \"-\")\"" | tr -d '"' | sort
}
call() { # call RESOURCE-SOCKET METHOD JSON [N] — the answers in $OUT
	OUT=$("$PY" tests/devmgr/kubelet.py "$PYD" call "$KD/$1" "$2" "$3" ${4:-} 2>&1)
}

# ---- start: registration of every pool
section "registration"
# mlx's VF 4 allocated by `devmgr alloc` before serve starts (a pool of another config)
echo '{"resourceList": [{"resourceName": "side", "selectors": {"rootDevices": ["0000:af:00.0#4"]}}]}' >"$T_TMP/side.json"
check_eq "devmgr alloc before serve: mlx's VF 4" "$M4" \
	"$("$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$T_TMP/side.json" alloc --pool side \
		--owner early --json | jq -r .pciAddress)"
start_kubelet || { fail "the stand-in did not start" "$(cat "$T_TMP/kubelet.err")"; finish; }
start_serve
if wait_for "registrations" 10 logtrue '[.[] | select(.event == "list")] | map(.resource) | unique | length == 3'; then
	ok "serve registered every pool and the stand-in got their lists"
else
	fail "registration" "$(cat "$T_TMP/serve.err"; cat "$LOG")"
fi
check_eq "the registered resources, v1beta1, preferred allocation on, no PreStart" \
	'["intel.com/mlx v1beta1 true false","ucni.io/dpdk v1beta1 true false","ucni.io/net v1beta1 true false"]' \
	"$(jlog '[.[] | select(.event == "register") | .request | "\(.resource_name) \(.version) \(.options.get_preferred_allocation_available) \(.options.pre_start_required)"] | sort')"
EP_NET=$(jlog '[.[] | select(.event == "register" and .request.resource_name == "ucni.io/net")][0].request.endpoint' | tr -d '"')
EP_DPDK=$(jlog '[.[] | select(.event == "register" and .request.resource_name == "ucni.io/dpdk")][0].request.endpoint' | tr -d '"')
EP_MLX=$(jlog '[.[] | select(.event == "register" and .request.resource_name == "intel.com/mlx")][0].request.endpoint' | tr -d '"')
check "each endpoint is a socket in the kubelet dir" test -S "$KD/$EP_NET" -a -S "$KD/$EP_DPDK" -a -S "$KD/$EP_MLX"
check_eq "the sockets are 0600 although serve runs under umask 000" "600 600 600" \
	"$(stat -c %a "$KD/$EP_NET" "$KD/$EP_DPDK" "$KD/$EP_MLX" | tr '\n' ' ' | sed 's/ $//')"
check_eq "GetDevicePluginOptions: preferred allocation available" "true" \
	"$(jlog '[.[] | select(.event == "options")][0].options.get_preferred_allocation_available')"

# ---- ListAndWatch contents
section "ListAndWatch"
check_eq "net: ens1f0 VFs 0-5, ens1f1, ens2f0 VFs 0-2, healthy, NUMA 0 and 1" \
	"$(for a in $(addr ens1f0 0) $(addr ens1f0 1) $(addr ens1f0 2) $(addr ens1f0 3) $(addr ens1f0 4) $(addr ens1f0 5) $B0 $B1 $B2 $B3; do echo "$a Healthy 0"; done
	   for a in $M0 $M1 $M2; do echo "$a Healthy 1"; done | sort)" \
	"$(last_list ucni.io/net | sort)"
check_eq "dpdk: the two vfio-pci VFs" "$A6 Healthy 0
$A7 Healthy 0" "$(last_list ucni.io/dpdk)"
check_match "mlx: the unbound VF 7 is Unhealthy, on NUMA 1" "$M7 Unhealthy 1" "$(last_list intel.com/mlx)"
check_eq "mlx: five devices" 5 "$(last_list intel.com/mlx | wc -l)"
check_match "mlx: VF 4, held by devmgr alloc, is Unhealthy (the kubelet must not hand it out)" \
	"$M4 Unhealthy 1" "$(last_list intel.com/mlx)"
check_eq "... the others of mlx are Healthy" 3 "$(last_list intel.com/mlx | grep -c ' Healthy ')"

# ---- a carrier change on the PF reaches the stream (the event: SIGHUP on a fake tree)
section "health"
printf '0\n' >"$SYS/class/net/ens1f1/carrier"
printf 'down\n' >"$SYS/class/net/ens1f1/operstate"
kill -HUP "$SPID"
if wait_for "the update" 5 logtrue "[.[] | select(.event == \"list\" and .resource == \"ucni.io/net\")] | last | .devices[] | select(.ID == \"$B0\") | .health == \"Unhealthy\""; then
	ok "ens1f1 without carrier: its VFs stream as Unhealthy"
else
	fail "carrier loss" "$(last_list ucni.io/net)"
fi
check_eq "... the other PFs' VFs stay Healthy" "9" "$(last_list ucni.io/net | grep -c ' Healthy ')"
check_eq "... dpdk did not change: no second list on its stream" 1 \
	"$(jlog '[.[] | select(.event == "list" and .resource == "ucni.io/dpdk")] | length')"
# back up, told by a link notification only (no signal): one of another link (lo) is not
# about a served device and changes nothing; one of a link named as the PF (a veth in
# serve's namespace standing in for ens1f1) brings the change to the stream
printf '1\n' >"$SYS/class/net/ens1f1/carrier"
printf 'up\n' >"$SYS/class/net/ens1f1/operstate"
n_lists=$(jlog '[.[] | select(.event == "list" and .resource == "ucni.io/net")] | length')
ip -n "$NS" link set lo down && ip -n "$NS" link set lo up
sleep 0.5
check_eq "a notification of an unrelated link (lo) costs no rebuild: no new list" "$n_lists" \
	"$(jlog '[.[] | select(.event == "list" and .resource == "ucni.io/net")] | length')"
t0=$(date +%s%N)
ip -n "$NS" link set ens1f1 up
if wait_for "the update" 1 logtrue "[.[] | select(.event == \"list\" and .resource == \"ucni.io/net\")] | last | [.devices[] | select(.health != \"Healthy\")] | length == 0"; then
	ok "a notification of the PF's link alone brings the change to the stream within a second ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	fail "link notification" "no update within a second: $(last_list ucni.io/net | grep -c Unhealthy) still Unhealthy"
fi
wait_for "the update" 5 logtrue "[.[] | select(.event == \"list\" and .resource == \"ucni.io/net\")] | last | [.devices[] | select(.health != \"Healthy\")] | length == 0"
check_eq "carrier back: every net VF Healthy again" 13 "$(last_list ucni.io/net | grep -c ' Healthy ')"
check "the notification updated the health in place (serve's log)" grep -q "link ens1f1: health updated without a rescan" "$T_TMP/serve.err"
check_eq "... without a rescan" 0 "$(grep -c 'rescan:' "$T_TMP/serve.err")"

# ---- GetPreferredAllocation
section "GetPreferredAllocation"
ALL_NET=$(last_list ucni.io/net | awk '{printf "%s\"%s\"", (NR > 1 ? "," : ""), $1}')
pref() { # pref AVAILABLE-JSON-LIST MUST-JSON-LIST SIZE — the preferred IDs, sorted
	call "$EP_NET" GetPreferredAllocation "{\"container_requests\": [{\"available_deviceIDs\": [$1], \"must_include_deviceIDs\": [$2], \"allocation_size\": $3}]}"
	jq -r '.container_responses[0].deviceIDs // [] | sort | join(" ")' <<<"$OUT" 2>/dev/null || echo "$OUT"
}
check_eq "packing: 4 of 13 come from the PF with exactly 4 free (ens1f1)" "$B0 $B1 $B2 $B3" "$(pref "$ALL_NET" "" 4)"
check_eq "packing: 2 of 13 come from the PF with the fewest free (ens2f0, 3)" \
	"$(printf '%s\n' "$M0" "$M1" "$M2" | sort | head -2 | tr '\n' ' ' | sed 's/ $//')" "$(pref "$ALL_NET" "" 2)"
check_eq "must-include: the must VF, then its own PF's" "$A0 $A1 $(addr ens1f0 2)" "$(pref "$ALL_NET" "\"$A0\"" 3)"
check_eq "NUMA: with the must VF's PF exhausted, its NUMA node (ens1f1) before a fuller fit on NUMA 1" \
	"$A0 $B0 $B1" "$(pref "\"$A0\",\"$B0\",\"$B1\",\"$B2\",\"$B3\",\"$M0\",\"$M1\",\"$M2\"" "\"$A0\"" 3)"
call "$EP_NET" GetPreferredAllocation "{\"container_requests\": [{\"available_deviceIDs\": [\"$A0\"], \"allocation_size\": 2}]}"
check_match "more than available: INVALID_ARGUMENT with the model's reason" '"code": 3, "message": "GetPreferredAllocation ucni.io/net: ' "$OUT"

# ---- Allocate
section "Allocate"
call "$EP_NET" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$A0\", \"$M0\"]}]}"
check_eq "env PCIDEVICE_UCNI_IO_NET: the IDs, comma-separated" "$A0,$M0" \
	"$(jq -r '.container_responses[0].envs.PCIDEVICE_UCNI_IO_NET' <<<"$OUT")"
check_eq "env ..._INFO as the device plugin shapes it" \
	"{\"$A0\":{\"generic\":{\"deviceID\":\"$A0\"}},\"$M0\":{\"generic\":{\"deviceID\":\"$M0\"}}}" \
	"$(jq -r '.container_responses[0].envs.PCIDEVICE_UCNI_IO_NET_INFO' <<<"$OUT" | jq -cS .)"
check_eq "a kernel-driver VF needs no device spec" "0" "$(jq -r '.container_responses[0].devices // [] | length' <<<"$OUT")"
DIF=$DI/dp/ucni.io-net-$A0-device.json
check "the VF's device-info file exists" test -f "$DIF"
check_eq "... mode 0444" 444 "$(stat -c %a "$DIF" 2>/dev/null)"
check_eq "... type pci, its PCI address and its PF's" "pci $A0 0000:3b:00.0" \
	"$(jq -r '"\(.type) \(.pci["pci-address"]) \(.pci["pf-pci-address"])"' "$DIF" 2>/dev/null)"
call "$EP_DPDK" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$A6\"]}]}"
check_eq "vfio-pci VF: /dev/vfio/vfio and its group, rw" "/dev/vfio/9 /dev/vfio/9 rw|/dev/vfio/vfio /dev/vfio/vfio rw" \
	"$(jq -r '[.container_responses[0].devices[] | "\(.host_path) \(.container_path) \(.permissions)"] | sort | join("|")' <<<"$OUT")"
call "$EP_NET" Allocate '{"container_requests": [{"devices_ids": ["0000:ff:00.0"]}]}'
check_match "unknown ID: an RPC error naming it" '"code": (3|9), "message": ".*0000:ff:00.0' "$OUT"
call "$EP_MLX" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$M7\"]}]}"
check_match "unhealthy ID: an RPC error naming it" "\"code\": (3|9), \"message\": \".*$M7" "$OUT"
check "no device-info file for a refused Allocate" test ! -e "$DI/dp/intel.com-mlx-$M7-device.json"
call "$EP_NET" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$B3\"]}, {\"devices_ids\": [\"0000:ff:00.0\"]}]}"
check_match "two containers, the second's ID unknown: INVALID_ARGUMENT naming it" '"code": 3, "message": ".*0000:ff:00.0' "$OUT"
check "... and no device-info file for the first container's VF" test ! -e "$DI/dp/ucni.io-net-$B3-device.json"
call "$EP_NET" GetDevicePluginOptions '{}'
check_match "the server keeps serving after the errors" '"get_preferred_allocation_available": true' "$OUT"
call "$EP_NET" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$B0\"]}, {\"devices_ids\": [\"$B1\", \"$B2\"]}]}" 8
check_eq "8 concurrent Allocate calls, two containers each: all answered" \
	"$(printf '%s,%s\n' "$B1" "$B2" | sed 'p;p;p;p;p;p;p' )" \
	"$(jq -r '.container_responses[1].envs.PCIDEVICE_UCNI_IO_NET' <<<"$OUT")"

# ---- SIGHUP: the configuration reloaded
section "reload"
call "$EP_MLX" Allocate "{\"container_requests\": [{\"devices_ids\": [\"$M3\"]}]}"
MIF=$DI/dp/intel.com-mlx-$M3-device.json
check "a VF of the pool the reload removes (mlx) has its device-info file" test -f "$MIF"
pools ', { "resourceName": "extra", "selectors": { "rootDevices": ["0000:af:00.0#3-6"] } }' true
kill -HUP "$SPID"
if wait_for "extra registered" 5 logtrue '[.[] | select(.event == "list" and .resource == "intel.com/extra")] | length > 0'; then
	ok "a new pool registers and streams"
else
	fail "reload: new pool" "$(tail -5 "$T_TMP/serve.err")"
fi
wait_for "mlx gone" 5 test ! -e "$KD/$EP_MLX"
check "a removed pool's socket is closed and removed" test ! -e "$KD/$EP_MLX"
check_match "... its stream ended" "stream-(end|error)" "$(jlog '[.[] | select(.resource == "intel.com/mlx") | .event] | join(" ")')"
check "... and its VF's device-info file is removed" test ! -e "$MIF"
check "... a kept pool's VF keeps its file" test -f "$DIF"
wait_for "excludeTopology" 5 logtrue '[.[] | select(.event == "list" and .resource == "ucni.io/net")] | last | [.devices[] | select(.topology)] | length == 0'
check_eq "excludeTopology: net streams without NUMA nodes" "13" "$(last_list ucni.io/net | grep -c ' -$')"

# ---- a kubelet restart: sockets removed, kubelet.sock created anew
section "kubelet restart"
stop_kubelet
rm -f "$KD"/*.sock
n_before=$(jlog '[.[] | select(.event == "register")] | length')
start_kubelet
if wait_for "re-registration" 10 logtrue "[.[] | select(.event == \"register\")] | length == $((n_before + 3))"; then
	ok "every resource registered again with the new kubelet"
else
	fail "kubelet restart" "$(tail -5 "$T_TMP/serve.err")"
fi
check "the removed sockets are back" test -S "$KD/$EP_NET" -a -S "$KD/$EP_DPDK"
call "$EP_NET" GetDevicePluginOptions '{}'
check_match "... and answer" '"get_preferred_allocation_available": true' "$OUT"

# ---- a second serve on the same state dir
section "second serve"
"$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$CFG" serve --kubelet-dir "$KD" \
	--devinfo-dir "$DI" >/dev/null 2>"$T_TMP/second.err"
check_eq "a second serve on the state dir is refused (exit 6)" 6 $?
check_match "... saying who serves it" "already serves the state directory" "$(cat "$T_TMP/second.err")"
check "... and the first one's sockets are untouched" test -S "$KD/$EP_NET"

# ---- one truth with the CNI side: the served pools are the kubelet's
dmc() { "$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$CFG" "$@"; }
check_eq "pools --json: net is kubelet-managed, as ucni.io/net" "kubelet ucni.io/net" \
	"$(dmc pools --json | jq -r '.pools[] | select(.name == "net") | "\(.managedBy) \(.kubeletResource)"')"
dmc alloc --pool net --owner t1 >/dev/null 2>&1
check_eq "alloc from a served pool is refused (exit 10)" 10 $?

# ---- a configuration that does not load: refused at start, ignored on SIGHUP
cp "$CFG" "$T_TMP/good.json"
echo '{"resourceList": [{"resourceName": "x", "bogus": 1}]}' >"$CFG"
"$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$T_TMP/state2" --config "$CFG" serve --kubelet-dir "$KD" \
	--devinfo-dir "$DI" >/dev/null 2>"$T_TMP/bad.err"
check_eq "a bad configuration at start: exit 3" 3 $?
check_match "... naming the key" "bogus" "$(cat "$T_TMP/bad.err")"
kill -HUP "$SPID"
sleep 0.5
check "a bad configuration on SIGHUP: serve goes on" kill -0 "$SPID"
call "$EP_NET" GetDevicePluginOptions '{}'
check_match "... still answering with the previous pools" '"get_preferred_allocation_available": true' "$OUT"
check "... its sockets stay" test -S "$KD/$EP_NET" -a -S "$KD/$EP_DPDK"
cp "$T_TMP/good.json" "$CFG"

# ---- bad command lines
"$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" serve --kubelet-dir "$T_TMP/nope" 2>/dev/null
check_eq "a missing kubelet dir: exit 4" 4 $?
"$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" serve --resource-prefix a/b 2>/dev/null
check_eq "a resource prefix with '/': exit 2" 2 $?

# ---- SIGTERM: everything of ours goes
section "SIGTERM"
kill -TERM "$SPID"
wait "$SPID"
check_eq "serve exits 0 on SIGTERM" 0 $?
SPID=
check_eq "its sockets are gone, kubelet.sock stays" "kubelet.sock" "$(ls "$KD")"
check_eq "its device-info files are gone" "" "$(ls "$DI/dp" 2>/dev/null)"
check_match "the log says it stopped" "devmgr: serve: stopped" "$(cat "$T_TMP/serve.err")"
check_eq "the pools are devmgr's again" "devmgr" \
	"$(dmc pools --json | jq -r '.pools[] | select(.name == "net") | .managedBy')"
finish
