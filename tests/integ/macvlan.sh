#!/bin/bash
# macvlan on the host kernel, in throw-away namespaces.
#
#   gw ns                 node ns (the plugin runs here)          pod namespaces
#   gw0 10.77.0.1/24 ─── m0 (veth, the macvlan master) ──┬── eth0 (macvlan) in pod A
#       10.78.0.1/24                                      └── eth0 (macvlan) in pod B
#
# Every cniVersion × ADD/CHECK/DEL with static and host-local IPAM, L2 only,
# modes, mtu, mac precedence, linkInContainer, default master, DEL
# idempotency, rollback, STATUS, GC, the conf/ examples and bad input.
source "$(dirname "$0")/../lib.sh"
PLUGIN=$UCNI_BIN/macvlan
# UCNI_MACVLAN_VERSIONS narrows the version loop and UCNI_QUICK=1 skips the
# kernel-independent bad-input section: for the second run inside the VM.
read -r -a VERSIONS <<<"${UCNI_MACVLAN_VERSIONS:-0.3.0 0.3.1 0.4.0 1.0.0 1.1.0}"
HL=$T_TMP/hl
FAKE_LOG=$T_TMP/fake-ipam.log
export CNI_PATH_OVERRIDE="$UCNI_BIN:$REF_CNI:$UCNI_TOP/tests/integ"

NODE=$(mkns node) && GW=$(mkns gw) || { fail "creating namespaces"; finish; }
CNI_NODE=$NODE
ip link add m0 netns "$NODE" type veth peer name gw0 netns "$GW"
ip -n "$NODE" link set m0 up
ip -n "$GW" link set gw0 up
ip -n "$GW" addr add 10.77.0.1/24 dev gw0
ip -n "$GW" addr add 10.78.0.1/24 dev gw0

static_ipam() { # static_ipam ADDRESS
	echo "{\"type\":\"static\",\"addresses\":[{\"address\":\"$1\",\"gateway\":\"10.77.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}"
}
hl_ipam() { # hl_ipam [rangeStart rangeEnd]
	local extra=
	[ $# -eq 2 ] && extra=",\"rangeStart\":\"$1\",\"rangeEnd\":\"$2\""
	echo "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.78.0.0/24\",\"gateway\":\"10.78.0.1\"$extra}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"$HL\"}"
}
# conf VERSION [jq filter]  — a macvlan config on master m0
conf() {
	jq -c "${2:-.}" <<<"{\"cniVersion\":\"$1\",\"name\":\"net-$T_ID\",\"type\":\"macvlan\",\"master\":\"m0\"}"
}
with_prev() { # with_prev CONF RESULT
	jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"
}
reservations() { ls "$HL/net-$T_ID" 2>/dev/null | grep -v -e lock -e last_reserved | wc -l; }
pod_links() { ip -n "$1" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' '; }
# What a bad input must leave alone: links in node and pod, addresses, reservations.
snapshot() { echo "node:[$(pod_links "$NODE")] pod:[$(pod_links "$1")] res:$(reservations)"; }


notify_of() { # notify_of POD — "arp_notify ndisc_notify" of its eth0
	ip netns exec "$1" cat /proc/sys/net/ipv4/conf/eth0/arp_notify /proc/sys/net/ipv6/conf/eth0/ndisc_notify | xargs
}

# ---------------------------------------------------------------------------
echo "# every cniVersion × ADD/CHECK/DEL, static and host-local IPAM"
for v in "${VERSIONS[@]}"; do
	for ipam in static host-local; do
		pod=$(mkns "p-$v-$ipam")
		if [ $ipam = static ]; then i=$(static_ipam 10.77.0.10/24); want=10.77.0.10/24
		else i=$(hl_ipam); want=; fi
		c=$(conf "$v" ".ipam = $i")
		cni ADD "$PLUGIN" "$pod" eth0 "c-$v" <<<"$c"
		expect_ok "$v $ipam: ADD"
		res=$CNI_OUT
		addr=$(jv '.ips[0].address')
		[ -n "$want" ] && check_eq "$v $ipam: result address" "$want" "$addr"
		check_eq "$v $ipam: result cniVersion" "$v" "$(jv .cniVersion)"
		check_eq "$v $ipam: result interface" "eth0 /var/run/netns/$pod" "$(jv '.interfaces[0].name + " " + .interfaces[0].sandbox')"
		check_eq "$v $ipam: result MAC is the link's" "$(ip -n "$pod" -j link show eth0 | jq -r '.[0].address')" "$(jv '.interfaces[0].mac')"
		if [[ $v == 0.* ]]; then check_eq "$v $ipam: ips[].version" 4 "$(jv '.ips[0].version')"
		else check_eq "$v $ipam: no ips[].version" null "$(jv '.ips[0].version')"; fi
		if [ "$v" = 1.1.0 ]; then check_eq "$v $ipam: interface mtu" 1500 "$(jv '.interfaces[0].mtu')"
		else check_eq "$v $ipam: no interface mtu" null "$(jv '.interfaces[0].mtu')"; fi
		check_match "$v $ipam: address on eth0" "inet ${addr%/*}/" "$(ip -n "$pod" -o addr show eth0)"
		check_match "$v $ipam: default route" "default via 10.7[78].0.1 dev eth0" "$(ip -n "$pod" route)"
		check_match "$v $ipam: eth0 is up" "UP" "$(ip -n "$pod" -o link show eth0)"
		check_eq "$v $ipam: arp_notify on (IPv4 addresses), ndisc_notify as it was (none)" "1 0" "$(notify_of "$pod")"
		check "$v $ipam: pod reaches the gateway" ip netns exec "$pod" ping -c1 -W2 -q "$(jv '.ips[0].gateway')"
		cni CHECK "$PLUGIN" "$pod" eth0 "c-$v" <<<"$(with_prev "$c" "$res")"
		if [[ $v == 0.3.* ]]; then expect_err "$v $ipam: CHECK refused below 0.4.0" 1 "CHECK"
		else expect_ok "$v $ipam: CHECK"; fi
		cni DEL "$PLUGIN" "$pod" eth0 "c-$v" <<<"$(with_prev "$c" "$res")"
		expect_ok "$v $ipam: DEL"
		check_eq "$v $ipam: DEL removed eth0" "lo " "$(pod_links "$pod")"
		check_eq "$v $ipam: DEL released the IP" 0 "$(reservations)"
		[ -z "$CNI_OUT" ] && ok "$v $ipam: DEL prints nothing" || fail "$v $ipam: DEL prints nothing" "$CNI_OUT"
	done
done

# ---------------------------------------------------------------------------
echo "# announcements and logging"
ip netns exec "$GW" sysctl -qw net.ipv4.conf.gw0.arp_accept=1
ip -n "$GW" addr add 2001:db8:77::1/64 dev gw0 nodad
if [ -e /proc/sys/net/ipv6/conf/all/accept_untracked_na ]; then
	# RFC 9131: only a router creates an entry from an untracked NA
	ip netns exec "$GW" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns exec "$GW" sysctl -qw net.ipv6.conf.gw0.accept_untracked_na=1
fi
pod=$(mkns ann)
# a logFile lies in a directory the node settings allow (tests/security/hostile.sh has the rest)
mkdir -p "$T_TMP/log" && echo "{\"logDirs\": [\"$T_TMP/log\"], \"dataDirs\": [\"$T_TMP\"]}" >"$T_TMP/node.json"
CNI_EXTRA_ENV=(UCNI_NODE_CONFIG="$T_TMP/node.json")
c=$(conf 1.0.0 ".ipam = {type: \"static\", addresses: [{address: \"10.77.0.12/24\"}, {address: \"2001:db8:77::12/64\"}]} | .logLevel = \"debug\" | .logFile = \"$T_TMP/log/plugin.log\"")
cni ADD "$PLUGIN" "$pod" eth0 ann <<<"$c"
expect_ok "dual-stack ADD with logging"
mac=$(jv '.interfaces[0].mac')
check_eq "dual-stack: arp_notify and ndisc_notify on" "1 1" "$(notify_of "$pod")"
check_match "gratuitous ARP reached the neighbour" "lladdr $mac" "$(ip -n "$GW" neigh show 10.77.0.12 dev gw0)"
if [ -e /proc/sys/net/ipv6/conf/all/accept_untracked_na ]; then
	check_match "unsolicited NA reached the neighbour" "lladdr $mac" "$(ip -n "$GW" -6 neigh show 2001:db8:77::12 dev gw0)"
fi
check_eq "IPv6 address is past DAD when ADD returns" "" "$(ip -n "$pod" -6 addr show dev eth0 tentative)"
check "IPv6 traffic works right away" ip netns exec "$pod" ping -6 -c1 -W2 -q 2001:db8:77::1
check_match "logFile has the ADD" "info: ADD ann: macvlan eth0 on m0" "$(cat "$T_TMP/log/plugin.log")"
check_match "logFile has debug lines" "debug: running .*/static ADD" "$(cat "$T_TMP/log/plugin.log")"
cni DEL "$PLUGIN" "$pod" eth0 ann <<<"$c"
check_match "logFile has the DEL" "DEL ann: macvlan eth0 removed" "$(cat "$T_TMP/log/plugin.log")"
check_eq "logging never reaches stdout or stderr" "" "$CNI_OUT$(cat "$T_TMP/stderr")"
CNI_EXTRA_ENV=()

# ---------------------------------------------------------------------------
echo "# CHECK finds what is wrong"
pod=$(mkns chk)
c=$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.11/24)")
cni ADD "$PLUGIN" "$pod" eth0 chk <<<"$c"; res=$CNI_OUT
ip -n "$pod" addr del 10.77.0.11/24 dev eth0
cni CHECK "$PLUGIN" "$pod" eth0 chk <<<"$(with_prev "$c" "$res")"
expect_err "CHECK: missing address" 102 "10.77.0.11/24"
cni CHECK "$PLUGIN" "$pod" eth0 chk <<<"$(with_prev "$(conf 1.0.0 '.mode="private"')" "$res")"
expect_err "CHECK: wrong mode" 102 "mode private"
cni CHECK "$PLUGIN" "$pod" eth0 chk <<<"$(with_prev "$c" "$(jq -c '.interfaces[0].mac="02:00:00:00:00:99"' <<<"$res")")"
expect_err "CHECK: wrong MAC" 102 "02:00:00:00:00:99"
cni CHECK "$PLUGIN" "$pod" eth0 chk <<<"$c"
expect_err "CHECK: needs prevResult" 7 "prevResult"
ip -n "$pod" link del eth0
cni CHECK "$PLUGIN" "$pod" eth0 chk <<<"$(with_prev "$c" "$res")"
expect_err "CHECK: link gone" 102 "eth0"

# ---------------------------------------------------------------------------
echo "# L2 only"
pod=$(mkns l2)
cni ADD "$PLUGIN" "$pod" eth0 l2 <<<"$(conf 1.0.0)"
expect_ok "L2: ADD without ipam"
check_eq "L2: no IPs in the result" null "$(jv .ips)"
check_eq "L2: no IPv4 address" "" "$(ip -n "$pod" -4 -o addr show eth0)"
check_match "L2: link up" "UP" "$(ip -n "$pod" -o link show eth0)"
check_eq "L2: arp_notify and ndisc_notify left alone (nothing to announce)" "0 0" "$(notify_of "$pod")"
res=$CNI_OUT
cni CHECK "$PLUGIN" "$pod" eth0 l2 <<<"$(with_prev "$(conf 1.0.0)" "$res")"
expect_ok "L2: CHECK"
cni ADD "$PLUGIN" "$pod" eth1 l2 <<<"$(conf 1.0.0 '.ipam = {}')"
expect_ok "L2: ADD with empty ipam object"
cni DEL "$PLUGIN" "$pod" eth0 l2 <<<"$(conf 1.0.0)"; expect_ok "L2: DEL eth0"
cni DEL "$PLUGIN" "$pod" eth1 l2 <<<"$(conf 1.0.0)"; expect_ok "L2: DEL eth1"
check_eq "L2: both gone" "lo " "$(pod_links "$pod")"

# ---------------------------------------------------------------------------
echo "# modes"
for mode in bridge private vepa passthru; do
	pod=$(mkns "m-$mode")
	cni ADD "$PLUGIN" "$pod" eth0 "m-$mode" <<<"$(conf 1.0.0 ".mode = \"$mode\"")"
	expect_ok "mode $mode: ADD"
	check_match "mode $mode: kernel says so" "macvlan mode $mode" "$(ip -d -n "$pod" link show eth0)"
	cni CHECK "$PLUGIN" "$pod" eth0 "m-$mode" <<<"$(with_prev "$(conf 1.0.0 ".mode = \"$mode\"")" "$CNI_OUT")"
	expect_ok "mode $mode: CHECK"
	cni DEL "$PLUGIN" "$pod" eth0 "m-$mode" <<<"$(conf 1.0.0 ".mode = \"$mode\"")"
done
pod=$(mkns mdef)
cni ADD "$PLUGIN" "$pod" eth0 mdef <<<"$(conf 1.0.0)"
check_match "mode: bridge by default" "macvlan mode bridge" "$(ip -d -n "$pod" link show eth0)"
cni DEL "$PLUGIN" "$pod" eth0 mdef <<<"$(conf 1.0.0)"

echo "# traffic between two pods (bridge mode) and isolation (private mode)"
pa=$(mkns ta) pb=$(mkns tb)
cni ADD "$PLUGIN" "$pa" eth0 ta <<<"$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.21/24)")"
cni ADD "$PLUGIN" "$pb" eth0 tb <<<"$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.22/24)")"
check "bridge: pod A pings pod B" ip netns exec "$pa" ping -c1 -W2 -q 10.77.0.22
cni DEL "$PLUGIN" "$pa" eth0 ta <<<"$(conf 1.0.0)"; cni DEL "$PLUGIN" "$pb" eth0 tb <<<"$(conf 1.0.0)"
cni ADD "$PLUGIN" "$pa" eth0 ta <<<"$(conf 1.0.0 ".mode=\"private\" | .ipam = $(static_ipam 10.77.0.21/24)")"
cni ADD "$PLUGIN" "$pb" eth0 tb <<<"$(conf 1.0.0 ".mode=\"private\" | .ipam = $(static_ipam 10.77.0.22/24)")"
if ip netns exec "$pa" ping -c1 -W1 -q 10.77.0.22 >/dev/null 2>&1; then fail "private: pods isolated"; else ok "private: pods isolated"; fi
check "private: pod still reaches the outside (gateway)" ip netns exec "$pa" ping -c1 -W2 -q 10.77.0.1
cni DEL "$PLUGIN" "$pa" eth0 ta <<<"$(conf 1.0.0)"; cni DEL "$PLUGIN" "$pb" eth0 tb <<<"$(conf 1.0.0)"

# ---------------------------------------------------------------------------
echo "# mtu, bcqueuelen"
pod=$(mkns mtu)
cni ADD "$PLUGIN" "$pod" eth0 mtu <<<"$(conf 1.1.0 '.mtu = 1400')"
expect_ok "mtu 1400: ADD"
check_eq "mtu 1400: link mtu" 1400 "$(ip -n "$pod" -j link show eth0 | jq '.[0].mtu')"
check_eq "mtu 1400: result mtu (1.1.0)" 1400 "$(jv '.interfaces[0].mtu')"
cni DEL "$PLUGIN" "$pod" eth0 mtu <<<"$(conf 1.1.0)"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 mtu <<<"$(conf 1.0.0 '.mtu = 9000')"
expect_err "mtu above the master's" 7 "above the MTU 1500"
check_eq "mtu above: nothing changed" "$before" "$(snapshot "$pod")"
cni ADD "$PLUGIN" "$pod" eth0 bq <<<"$(conf 1.0.0 '.bcqueuelen = 2000')"
expect_ok "bcqueuelen: ADD"
check_match "bcqueuelen: kernel has it" "bcqueuelen 2000" "$(ip -d -n "$pod" link show eth0)"
cni DEL "$PLUGIN" "$pod" eth0 bq <<<"$(conf 1.0.0)"

# ---------------------------------------------------------------------------
echo "# mac precedence: runtimeConfig > CNI_ARGS MAC > config"
pod=$(mkns mac)
mac_of() { ip -n "$pod" -j link show eth0 | jq -r '.[0].address'; }
cni ADD "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0 '.mac = "02:00:00:00:aa:01"')"
check_eq "mac: from config" 02:00:00:00:aa:01 "$(mac_of)"
check_eq "mac: in the result" 02:00:00:00:aa:01 "$(jv '.interfaces[0].mac')"
cni DEL "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0)"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:00:00:00:aa:02")
cni ADD "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0 '.mac = "02:00:00:00:aa:01"')"
check_eq "mac: CNI_ARGS beats config" 02:00:00:00:aa:02 "$(mac_of)"
cni DEL "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0)"
cni ADD "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0 '.mac = "02:00:00:00:aa:01" | .runtimeConfig = {mac: "02:00:00:00:aa:03"}')"
check_eq "mac: runtimeConfig beats CNI_ARGS" 02:00:00:00:aa:03 "$(mac_of)"
cni DEL "$PLUGIN" "$pod" eth0 mac <<<"$(conf 1.0.0)"
CNI_EXTRA_ENV=()

# ---------------------------------------------------------------------------
echo "# the node has an interface of the container's interface name"
# Kernels before 6.14 look a new link's name up in the caller's namespace: ucni
# then makes it under a temporary name (the VM's 6.1 kernel takes that path).
pod=$(mkns same)
ip -n "$NODE" link add net7 type veth peer name net7p
node_net7=$(ip -n "$NODE" -o link show net7 | cut -d: -f1)
c=$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.31/24)")
cni ADD "$PLUGIN" "$pod" net7 same <<<"$c"
expect_ok "same name: ADD net7"
check_eq "same name: net7 made in the pod, a macvlan" macvlan "$(ip -n "$pod" -d -j link show net7 | jq -r '.[0].linkinfo.info_kind')"
check_match "same name: with its address" "inet 10.77.0.31/24" "$(ip -n "$pod" -o addr show net7)"
check_match "same name: up" "<[^>]*,UP[,>]" "$(ip -n "$pod" -o link show net7)"
check_eq "same name: the node's net7 untouched" "$node_net7 veth DOWN" \
	"$(ip -n "$NODE" -d -j link show net7 | jq -r '.[0] | "\(.ifindex) \(.linkinfo.info_kind) \(.operstate)"')"
check_eq "same name: no temporary name left" "" "$(ip -n "$pod" -o link | grep -o 'ucni[0-9a-f]\{8\}')"
cni DEL "$PLUGIN" "$pod" net7 same <<<"$c"
expect_ok "same name: DEL"
check_eq "same name: DEL removed net7 from the pod only" "lo |net7 net7p" \
	"$(pod_links "$pod")|$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | grep net7 | sort | xargs)"
ip -n "$NODE" link del net7

# ---------------------------------------------------------------------------
echo "# linkInContainer, default master"
pod=$(mkns lic)
ip link add lm0 netns "$pod" type veth peer name lm1 netns "$pod"
ip -n "$pod" link set lm0 up
cni ADD "$PLUGIN" "$pod" eth0 lic <<<"$(conf 1.0.0 '.master = "lm0" | .linkInContainer = true')"
expect_ok "linkInContainer: ADD"
check_match "linkInContainer: eth0 on lm0" "eth0@lm0" "$(ip -n "$pod" -o link show eth0)"
cni CHECK "$PLUGIN" "$pod" eth0 lic <<<"$(with_prev "$(conf 1.0.0 '.master = "lm0" | .linkInContainer = true')" "$CNI_OUT")"
expect_ok "linkInContainer: CHECK"
cni DEL "$PLUGIN" "$pod" eth0 lic <<<"$(conf 1.0.0 '.master = "lm0" | .linkInContainer = true')"
check_eq "linkInContainer: DEL keeps the master" "eth0-gone lm0 lm1" "eth0-gone $(pod_links "$pod" | tr ' ' '\n' | grep lm | tr '\n' ' ' | sed 's/ $//')"
cni ADD "$PLUGIN" "$pod" eth0 lic <<<"$(conf 1.0.0 '.master = "m0" | .linkInContainer = true')"
expect_err "linkInContainer: master must be in the container" 7 "does not exist in the container namespace"

pod=$(mkns dflt)
cni ADD "$PLUGIN" "$pod" eth0 dflt <<<"$(conf 1.0.0 'del(.master)')"
expect_err "no master, no default route" 7 "no default route"
ip -n "$NODE" addr add 10.77.0.5/24 dev m0
ip -n "$NODE" route add default via 10.77.0.1
cni ADD "$PLUGIN" "$pod" eth0 dflt <<<"$(conf 1.0.0 'del(.master)')"
expect_ok "no master: ADD uses the default route's interface"
check_match "default master is m0" "link-netns|@if" "$(ip -n "$pod" -o link show eth0)"
check_eq "default master ifindex" "$(ip -n "$NODE" -j link show m0 | jq '.[0].ifindex')" "$(ip -n "$pod" -j link show eth0 | jq '.[0].link_index')"
cni DEL "$PLUGIN" "$pod" eth0 dflt <<<"$(conf 1.0.0 'del(.master)')"
ip -n "$NODE" route del default; ip -n "$NODE" addr del 10.77.0.5/24 dev m0

# ---------------------------------------------------------------------------
echo "# DEL is idempotent"
pod=$(mkns del)
c=$(conf 1.0.0 ".ipam = $(hl_ipam)")
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL once"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL twice"
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
ip -n "$pod" link del eth0
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL after the link was deleted"
check_eq "DEL after link deleted: IP released" 0 "$(reservations)"
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
ip netns del "$pod"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL after the netns was deleted"
check_eq "DEL after netns deleted: IP released" 0 "$(reservations)"
cni DEL "$PLUGIN" "" eth0 del <<<"$c"; expect_ok "DEL without CNI_NETNS"
cni DEL "$PLUGIN" "" eth0 del <<<"$(conf 1.0.0 '.master = "gone0"')"; expect_ok "DEL with the master gone"
pod=$(mkns del2)
ip -n "$pod" link add eth0 type veth peer name eth0p
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$(conf 1.0.0)"; expect_ok "DEL of a non-macvlan eth0"
check_match "DEL leaves another plugin's eth0 alone" "eth0" "$(pod_links "$pod")"

# ---------------------------------------------------------------------------
echo "# ADD twice, rollback"
pod=$(mkns twice)
c=$(conf 1.0.0 ".ipam = $(hl_ipam)")
cni ADD "$PLUGIN" "$pod" eth0 twice <<<"$c"; first_mac=$(jv '.interfaces[0].mac')
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 twice <<<"$c"
expect_err "ADD twice" 4 "already exists"
check_eq "ADD twice: first link and its IP intact" "$before" "$(snapshot "$pod")"
check_eq "ADD twice: same link" "$first_mac" "$(ip -n "$pod" -j link show eth0 | jq -r '.[0].address')"
cni DEL "$PLUGIN" "$pod" eth0 twice <<<"$c"

pod=$(mkns rb)
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 '.ipam = {type: "no-such-ipam"}')"
expect_err "unknown IPAM type" 7 "no-such-ipam"
check_eq "unknown IPAM: nothing left (no DOWN eth0)" "$before" "$(snapshot "$pod")"
p1=$(mkns rb1)
c=$(conf 1.0.0 ".ipam = $(hl_ipam 10.78.0.50 10.78.0.50)")
cni ADD "$PLUGIN" "$p1" eth0 rb1 <<<"$c"; expect_ok "exhaust host-local: first ADD takes the only IP"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$c"
check_eq "exhausted range: ADD fails" 1 "$CNI_RC"
check_match "exhausted range: host-local's message" "host-local" "$(jv .msg)"
check_eq "exhausted range: nothing left, one reservation" "$before" "$(snapshot "$pod")"
cni DEL "$PLUGIN" "$p1" eth0 rb1 <<<"$c"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 ".ipam = {type: \"fake-ipam\", mode: \"fail\"}")"
expect_err "IPAM error is passed on" 11 "no addresses left"
check_eq "failing IPAM: nothing left" "$before" "$(snapshot "$pod")"
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 ".ipam = {type: \"fake-ipam\", mode: \"garbage\", log: \"$FAKE_LOG\"}")"
expect_err "IPAM garbage output" 101 "not a JSON object"
check_match "IPAM garbage: IPAM DEL ran for the rollback" "^DEL " "$(tail -n1 "$FAKE_LOG")"
check_eq "IPAM garbage: nothing left" "$before" "$(snapshot "$pod")"
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 ".ipam = {type: \"fake-ipam\", mode: \"crash\"}")"
expect_err "IPAM crash" 101 "signal"
head -c 300000 /dev/zero | tr '\0' x >"$T_TMP/big"
CNI_EXTRA_ENV=(FAKE_IPAM_EARLY=1)
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 '.ipam = {type: "fake-ipam"}' | jq -c --rawfile b "$T_TMP/big" '.padding = $b')"
expect_err "IPAM that exits without reading a large config: its answer, no SIGPIPE" 11 "gone early"
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=500)
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 ".ipam = {type: \"fake-ipam\", mode: \"hang\"}")"
expect_err "IPAM that hangs is stopped" 101 "within 500 ms"
CNI_EXTRA_ENV=()
check_eq "hung IPAM: nothing left" "$before" "$(snapshot "$pod")"
# an address the kernel refuses, after IPAM succeeded: IPAM DEL must run
: >"$FAKE_LOG"
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(conf 1.0.0 ".ipam = {type: \"fake-ipam\", log: \"$FAKE_LOG\", result: {ips: [{address: \"10.77.0.30/24\"}], routes: [{dst: \"10.99.0.0/16\", gw: \"10.55.0.1\"}]}}")"
expect_err "route the kernel refuses" 100 "10.99.0.0/16"
check_eq "refused route: IPAM ADD then DEL" "ADD DEL" "$(cut -d' ' -f1 "$FAKE_LOG" | tr '\n' ' ' | sed 's/ $//')"
check_eq "refused route: nothing left" "$before" "$(snapshot "$pod")"

# ---------------------------------------------------------------------------
echo "# chaining: prevResult is passed on"
pod=$(mkns chain)
prev='{"cniVersion":"1.0.0","interfaces":[{"name":"lo0","sandbox":"/x"}],"ips":[{"address":"10.1.1.1/32","interface":0}],"dns":{"nameservers":["10.1.1.53"]}}'
cni ADD "$PLUGIN" "$pod" eth1 chain <<<"$(with_prev "$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.40/24)")" "$prev")"
expect_ok "chained ADD"
check_eq "chained: interfaces appended" "lo0 eth1" "$(jv '[.interfaces[].name] | join(" ")')"
check_eq "chained: new IP points at the new interface" "0 1" "$(jv '[.ips[].interface] | join(" ")')"
check_eq "chained: dns kept" 10.1.1.53 "$(jv '.dns.nameservers[0]')"
cni DEL "$PLUGIN" "$pod" eth1 chain <<<"$(conf 1.0.0 ".ipam = $(static_ipam 10.77.0.40/24)")"
cni ADD "$PLUGIN" "$pod" eth0 chain <<<"$(conf 1.0.0 '.dns = {nameservers: ["10.9.9.9"]}')"
check_eq "config dns in the result" 10.9.9.9 "$(jv '.dns.nameservers[0]')"
cni DEL "$PLUGIN" "$pod" eth0 chain <<<"$(conf 1.0.0)"

# ---------------------------------------------------------------------------
echo "# STATUS and GC (1.1.0)"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0)"; expect_ok "STATUS: master present"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 '.master = "gone0"')"; expect_err "STATUS: master missing" 50 "gone0"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.0.0)"; expect_err "STATUS below 1.1.0" 1 "STATUS"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 ".ipam = $(hl_ipam)")"; expect_ok "STATUS: host-local 1.1.1 predates STATUS, not asked"
: >"$FAKE_LOG"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 ".ipam = {type: \"fake-ipam\", log: \"$FAKE_LOG\"}")"
expect_ok "STATUS: forwarded to IPAM"
 check_eq "STATUS: IPAM asked" "STATUS" "$(cut -d' ' -f1 "$FAKE_LOG" | tr '\n' ' ' | sed 's/ $//')"
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf 1.1.0 ".ipam = {type: \"fake-ipam\", mode: \"fail\"}")"
expect_err "STATUS: IPAM's answer is passed on" 11
: >"$FAKE_LOG"
gc=$(conf 1.1.0 ".ipam = {type: \"fake-ipam\", log: \"$FAKE_LOG\"} | .[\"cni.dev/valid-attachments\"] = [{containerID: \"a\", ifname: \"eth0\"}]")
cni GC "$PLUGIN" "" "" "" <<<"$gc"; expect_ok "GC"
check_match "GC: valid attachments reach IPAM" '^GC .*"cni.dev/valid-attachments":\[\{"containerID":"a","ifname":"eth0"\}\]' "$(tail -n1 "$FAKE_LOG")"
cni GC "$PLUGIN" "" "" "" <<<"$(conf 0.4.0)"; expect_err "GC below 1.1.0" 1 "GC"
cni VERSION "$PLUGIN" "" "" "" <<<""
check_eq "VERSION lists every version" '1.1.0 ["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' "$(jv '.cniVersion + " " + (.supportedVersions|tojson)')"
out=$(env -i "$PLUGIN" 2>&1 >/dev/null); rc=$?
check_eq "no CNI_COMMAND: about text, exit 0" "0 yes" "$rc $([[ $out == *macvlan* ]] && echo yes)"

# ---------------------------------------------------------------------------
echo "# the conf/ examples"
for f in "$UCNI_TOP"/conf/*.conflist; do
	[ -e "$f" ] || continue
	jq -e '.plugins[0].type == "macvlan"' "$f" >/dev/null || continue
	name=$(basename "$f" .conflist)
	pod=$(mkns "cf-$name")
	# As libcni does: each plugin gets the list's name and cniVersion. Tests
	# substitute the master and keep host-local state in the test's folder.
	c=$(jq -c --arg hl "$HL" '.plugins[0] + {name: .name, cniVersion: .cniVersion} | .master = "m0"
		| if .ipam.type == "host-local" then .ipam.dataDir = $hl | .ipam.ranges = [[{subnet: "10.78.0.0/24", gateway: "10.78.0.1"}]] else . end
		| if .ipam.type == "static" then .ipam.addresses[0].address = "10.77.0.60/24" | .ipam.addresses[0].gateway = "10.77.0.1" else . end' "$f")
	cni ADD "$PLUGIN" "$pod" eth0 "cf-$name" <<<"$c"; expect_ok "conf/$name: ADD"
	res=$CNI_OUT
	if [ "$(jq -r .cniVersion <<<"$c")" != 0.3.1 ] && [ "$(jq -r .cniVersion <<<"$c")" != 0.3.0 ]; then
		cni CHECK "$PLUGIN" "$pod" eth0 "cf-$name" <<<"$(with_prev "$c" "$res")"; expect_ok "conf/$name: CHECK"
	fi
	cni DEL "$PLUGIN" "$pod" eth0 "cf-$name" <<<"$(with_prev "$c" "$res")"; expect_ok "conf/$name: DEL"
	check_eq "conf/$name: clean" "lo  0" "$(pod_links "$pod") $(reservations)"
done

if [ -n "${UCNI_QUICK:-}" ]; then
	echo "# bad input: skipped (UCNI_QUICK)"
	finish
fi

# ---------------------------------------------------------------------------
echo "# bad input: the right code, and nothing changes"
pod=$(mkns bad)
touch "$T_TMP/regular-file"; mkdir -p "$T_TMP/a-dir"
good=$(conf 1.0.0 ".ipam = $(hl_ipam)")
# bad_case "what" CODE msg-part NETNS IFNAME CID CONFIG — the error is on stdout only
bad_case() {
	local before; before=$(snapshot "$pod")
	cni ADD "$PLUGIN" "$4" "$5" "$6" <<<"$7"
	expect_err "bad: $1" "$2" "$3"
	check_eq "bad: $1: nothing changed, nothing on stderr" "$before" "$(snapshot "$pod")$(<"$T_TMP/stderr")"
}
bad_case "ifname too long" 4 "too long" "$pod" eth0123456789012 bad "$good"
bad_case "ifname with /" 4 "invalid character" "$pod" "a/b" bad "$good"
bad_case "ifname with :" 4 "invalid character" "$pod" "a:b" bad "$good"
bad_case "ifname ." 4 "not a valid name" "$pod" "." bad "$good"
bad_case "ifname .." 4 "not a valid name" "$pod" ".." bad "$good"
bad_case "containerid with /" 4 "CNI_CONTAINERID" "$pod" eth0 "a/b" "$good"
bad_case "containerid .." 4 "CNI_CONTAINERID" "$pod" eth0 ".." "$good"
bad_case "missing containerid" 4 "CNI_CONTAINERID" "$pod" eth0 "" "$good"
bad_case "missing netns" 4 "CNI_NETNS" "" eth0 bad "$good"
bad_case "netns is a regular file" 4 "not a network namespace" "$T_TMP/regular-file" eth0 bad "$good"
bad_case "netns is a directory" 4 "not a network namespace" "$T_TMP/a-dir" eth0 bad "$good"
bad_case "netns is another namespace type" 4 "not a network namespace" /proc/self/ns/uts eth0 bad "$good"
bad_case "netns does not exist" 3 "does not exist" /var/run/netns/no-such-ns-$T_ID eth0 bad "$good"
bad_case "empty stdin" 6 "no network configuration" "$pod" eth0 bad ""
bad_case "malformed JSON" 6 "not valid JSON" "$pod" eth0 bad '{"cniVersion": "1.0.0", "name":'
bad_case "JSON array" 6 "not a JSON object" "$pod" eth0 bad '[1]'
bad_case "missing name" 7 '"name" is missing' "$pod" eth0 bad "$(conf 1.0.0 'del(.name)')"
bad_case "missing cniVersion" 7 '"cniVersion" is missing' "$pod" eth0 bad "$(conf 1.0.0 'del(.cniVersion)')"
bad_case "unsupported cniVersion" 1 '"0.2.0"' "$pod" eth0 bad "$(conf 0.2.0)"
bad_case "unknown mode" 7 '"mode" has unknown value "loud"' "$pod" eth0 bad "$(conf 1.0.0 '.mode = "loud"')"
bad_case "mtu as a string" 7 '"mtu" must be an integer' "$pod" eth0 bad "$(conf 1.0.0 '.mtu = "1400"')"
bad_case "negative mtu" 7 '"mtu" value -1' "$pod" eth0 bad "$(conf 1.0.0 '.mtu = -1')"
bad_case "mtu below 68" 7 '"mtu" value 60' "$pod" eth0 bad "$(conf 1.0.0 '.mtu = 60')"
bad_case "master missing" 7 '"master": interface "nope0"' "$pod" eth0 bad "$(conf 1.0.0 '.master = "nope0"')"
bad_case "master with /" 7 'master' "$pod" eth0 bad "$(conf 1.0.0 '.master = "../m0"')"
bad_case "master not a string" 7 '"master" must be a string' "$pod" eth0 bad "$(conf 1.0.0 '.master = 3')"
bad_case "malformed mac" 7 '"mac" value "02:00:00:00:00"' "$pod" eth0 bad "$(conf 1.0.0 '.mac = "02:00:00:00:00"')"
bad_case "multicast mac" 7 'multicast' "$pod" eth0 bad "$(conf 1.0.0 '.mac = "01:00:00:00:00:01"')"
bad_case "runtimeConfig mac malformed" 7 '"runtimeConfig.mac"' "$pod" eth0 bad "$(conf 1.0.0 '.runtimeConfig = {mac: "zz"}')"
bad_case "relative logFile" 7 '"logFile" value "x.log" must be an absolute path' "$pod" eth0 bad "$(conf 1.0.0 '.logFile = "x.log"')"
bad_case "negative bcqueuelen" 7 '"bcqueuelen"' "$pod" eth0 bad "$(conf 1.0.0 '.bcqueuelen = -5')"
bad_case "linkInContainer not a bool" 7 '"linkInContainer" must be true or false' "$pod" eth0 bad "$(conf 1.0.0 '.linkInContainer = "yes"')"
bad_case "ipam.type with a path" 7 '"ipam.type" value "../../bin/sh"' "$pod" eth0 bad "$(conf 1.0.0 '.ipam = {type: "../../bin/sh"}')"
bad_case "ipam without type" 7 '"ipam.type" is missing' "$pod" eth0 bad "$(conf 1.0.0 '.ipam = {subnet: "10.0.0.0/8"}')"
bad_case "prevResult with a bad address" 6 'prevResult: ips[0]' "$pod" eth0 bad "$(conf 1.0.0 '.prevResult = {ips: [{address: "10.0.0.1"}]}')"
CNI_EXTRA_ENV=("CNI_ARGS=FOO=bar")
bad_case "unknown CNI_ARGS key" 2 '"FOO"' "$pod" eth0 bad "$good"
CNI_EXTRA_ENV=("CNI_ARGS=MAC")
bad_case "CNI_ARGS pair without =" 4 'invalid pair' "$pod" eth0 bad "$good"
CNI_EXTRA_ENV=("CNI_ARGS=MAC=xx:yy")
bad_case "CNI_ARGS MAC malformed" 4 'MAC value "xx:yy"' "$pod" eth0 bad "$good"
CNI_EXTRA_ENV=()
before=$(snapshot "$pod")
: >"$T_TMP/stderr"
CNI_OUT=$(ip netns exec "$NODE" env -i CNI_COMMAND=FROB "$PLUGIN" <<<"$good" 2>>"$T_TMP/stderr"); CNI_RC=$?
expect_err "bad: unknown CNI_COMMAND" 4 "FROB"
CNI_OUT=$(ip netns exec "$NODE" env -i CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/var/run/netns/$pod CNI_IFNAME=eth0 "$PLUGIN" <<<"$good" 2>>"$T_TMP/stderr"); CNI_RC=$?
expect_err "bad: missing CNI_PATH" 4 "CNI_PATH"
CNI_OUT=$(head -c 2000000 /dev/zero | tr '\0' ' ' | ip netns exec "$NODE" env -i CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/var/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH=/x "$PLUGIN" 2>>"$T_TMP/stderr"); CNI_RC=$?
expect_err "bad: oversized stdin" 6 "larger than"
check_eq "bad: env cases changed nothing" "$before" "$(snapshot "$pod")"
check_eq "bad: env cases printed nothing on stderr" "" "$(<"$T_TMP/stderr")"

check_eq "every macvlan left by the suite is gone from node" "m0" "$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$' | tr '\n' ' ' | sed 's/ $//')"
finish
