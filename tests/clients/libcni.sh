#!/bin/bash
# The official CNI library as a client: every host-runnable conflist in conf/ and
# tests/clients/ goes through libcni (our driver, tests/clients/libcni) for every
# cniVersion that both libcni and the conflist's plugins support: VERSION probe,
# ADD, CHECK, cached result, DEL, DEL again; the result must parse in libcni's
# own types without losing a field, match what is really in the container, and
# leave nothing behind.
#
#   host ns                                     peer ns ($T_ID-lcpeer)
#   ${T_ID}lc (veth, macvlan master) <--veth--> ${T_ID}lp 10.99.8.1/24 fd99:8::1/64
#      \-- macvlan eth0 in the container ns ($T_ID-lcctr), made by the plugin
#
# Conflists are rewritten before use (see doc/testing.md, "Real CNI clients"):
# cniVersion; `master` of macvlan plugins → the test veth; host-local ranges →
# 10.99.8.100-150 / fd99:8::100-150 with a private dataDir; static addresses →
# 10.99.8.50/24, fd99:8::50/64; gateways and route gws → 10.99.8.1 / fd99:8::1.
#
# Environment: UCNI_BIN (ucni's plugins, default build/bin); REF_CNI (reference
# IPAM and meta plugins, default /usr/lib/cni); UCNI_CLIENTS_REFERENCE=1 runs the
# reference macvlan instead of ucni's (for comparison); CLIENT_CONFS overrides
# the list of conflists.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$UCNI_TOP" || exit 1

DRIVER=$BUILD/tests/ucni-libcni
if [ "${UCNI_CLIENTS_REFERENCE:-0}" = 1 ]; then
	PLUGIN_DIR=$REF_CNI
else
	PLUGIN_DIR=$UCNI_BIN
fi
CNIPATH="$PLUGIN_DIR:$REF_CNI"
echo "# macvlan under test: $PLUGIN_DIR/macvlan"
if [ ! -x "$PLUGIN_DIR/macvlan" ]; then
	fail "macvlan plugin present" "$PLUGIN_DIR/macvlan missing (run make, or set UCNI_CLIENTS_REFERENCE=1)"
	finish
fi

# The driver is built by `make tests` (tests/clients/module.mk); rebuild it the
# same way when run on its own and the binary is missing or older than its source.
if [ ! -x "$DRIVER" ] || [ tests/clients/libcni/main.go -nt "$DRIVER" ]; then
	if ! out=$(GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' CGO_ENABLED=0 \
		GOCACHE="$UCNI_TOP/$BUILD/go-cache" go build -o "$DRIVER" ./tests/clients/libcni 2>&1); then
		fail "build the libcni driver" "$(echo "$out" | tail -n3 | tr '\n' ' ')"
		finish
	fi
fi
ok "libcni driver built ($DRIVER)"

lib_versions=$("$DRIVER" versions | jq -r '.supportedVersions[]')
lib_current=$("$DRIVER" versions | jq -r '.current')
plugin_versions=$(env -i CNI_COMMAND=VERSION "$PLUGIN_DIR/macvlan" </dev/null | jq -r '.supportedVersions[]' 2>/dev/null)
echo "# libcni supports: $(tr '\n' ' ' <<<"$lib_versions"); macvlan supports: $(tr '\n' ' ' <<<"$plugin_versions")"

MASTER=${T_ID}lc PEER=${T_ID}lp
# mkns runs here, not in $(…), so that its cleanup registration is kept.
if ! mkns lcpeer >/dev/null || ! mkns lcctr >/dev/null; then
	fail "create namespaces"
	finish
fi
PEERNS=$T_ID-lcpeer CTR=$T_ID-lcctr
# No IPv6 duplicate address detection in the container: the plugins wait for
# addresses to settle, which costs ~1.5 s per dual-stack ADD and proves nothing here.
ip netns exec "$CTR" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
CTRPATH=/var/run/netns/$CTR
if ip link add "$MASTER" type veth peer name "$PEER" netns "$PEERNS" &&
	ip link set "$MASTER" up && ip -n "$PEERNS" link set "$PEER" up &&
	ip -n "$PEERNS" addr add 10.99.8.1/24 dev "$PEER" &&
	ip -n "$PEERNS" addr add fd99:8::1/64 dev "$PEER" nodad; then
	on_exit ip link del "$MASTER"
	ok "test topology: veth $MASTER, peer namespace $PEERNS"
else
	fail "test topology"
	finish
fi

HLDIR=$T_TMP/host-local CACHE=$T_TMP/cache TRACE=$T_TMP/trace
mkdir -p "$HLDIR" "$CACHE"

# rewrite CONFLIST VERSION > out — the substitution described at the top.
rewrite() {
	jq --arg ver "$2" --arg master "$MASTER" --arg hl "$HLDIR" '
	def v6: test(":");
	def range4: {subnet: "10.99.8.0/24", rangeStart: "10.99.8.100", rangeEnd: "10.99.8.150", gateway: "10.99.8.1"};
	def range6: {subnet: "fd99:8::/64", rangeStart: "fd99:8::100", rangeEnd: "fd99:8::150", gateway: "fd99:8::1"};
	.cniVersion = $ver
	| .plugins |= map(
		del(.cniVersion)
		| if .type == "macvlan" then .master = $master else . end
		| if .ipam.type == "host-local" then
			(if .ipam.subnet then
				.ipam.ranges = [[if (.ipam.subnet | v6) then range6 else range4 end]]
				| del(.ipam.subnet, .ipam.rangeStart, .ipam.rangeEnd, .ipam.gateway)
			 else . end)
			| .ipam.ranges |= map(map(if (.subnet | v6) then range6 else range4 end))
			| .ipam.dataDir = $hl
		  else . end
		| if .ipam.type == "static" then
			.ipam.addresses |= map(if (.address | v6)
				then {address: "fd99:8::50/64", gateway: "fd99:8::1"}
				else {address: "10.99.8.50/24", gateway: "10.99.8.1"} end)
		  else . end
		| if .ipam.routes then
			.ipam.routes |= map(if .gw then .gw = (if (.gw | v6) then "fd99:8::1" else "10.99.8.1" end) else . end)
		  else . end)' "$1"
}

# runnable CONFLIST — why a conflist cannot run on the host kernel (empty: it can).
runnable() {
	local t
	for t in $(jq -r '.plugins[] | .type, (.ipam.type // empty)' "$1"); do
		case $t in
		ipvlan | sriov | host-device | dhcp) echo "plugin $t needs the VM or hardware"; return ;;
		esac
		[ -x "$PLUGIN_DIR/$t" ] || [ -x "$REF_CNI/$t" ] || { echo "plugin $t not found"; return; }
	done
	[ "$(jq -r '.plugins[0].type' "$1")" = macvlan ] || echo "first plugin is not macvlan"
}

drv() { # drv VERB CONF [driver flags…] — output in $OUT, status in $RC
	local verb=$1 conf=$2
	shift 2
	OUT=$("$DRIVER" -path "$CNIPATH" -cache "$CACHE" -netns "$CTRPATH" -id "$CID" -ifname eth0 \
		-args "IgnoreUnknown=1;K8S_POD_NAME=$CID" -trace "$TRACE" "$@" "$verb" "$conf" 2>"$T_TMP/drv.err")
	RC=$?
}
# A result without the fields libcni leaves out when empty, keys sorted.
norm() { jq -S 'walk(if type == "object" then with_entries(select(.value != {} and .value != [] and .value != null and .value != "")) else . end)'; }

# nothing_left WHAT — the container namespace holds only lo, no macvlan hangs
# on the master in the host, host-local holds no reservation, libcni no cache.
nothing_left() {
	local what=$1 links leftovers
	links=$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | tr '\n' ' ')
	leftovers=$(ip -d -j link show | jq -r --arg m "$MASTER" '.[] | select(.link == $m) | .ifname' | tr '\n' ' ')
	leftovers+=$(find "$HLDIR" -type f ! -name lock ! -name 'last_reserved_ip.*' -printf '%P ')
	leftovers+=$(find "$CACHE" -type f -printf 'cache:%P ')
	if [ "$links" = "lo " ] && [ -z "${leftovers// /}" ]; then
		ok "$what: nothing left"
	else
		fail "$what: nothing left" "container links: $links; leftovers: $leftovers"
	fi
}

# check_add WHAT CONF VERSION — assert the ADD result ($OUT) against the container.
check_add() {
	local what=$1 conf=$2 ver=$3 want got raw parsed
	check_eq "$what: libcni parsed the result as $ver" "$ver" "$(jq -r .resultVersion <<<"$OUT")"
	raw=$(jq '.raw' <<<"$OUT" | norm) parsed=$(jq '.result' <<<"$OUT" | norm)
	if [ "$raw" = "$parsed" ]; then
		ok "$what: libcni's types keep every field of the plugin's result"
	else
		fail "$what: libcni's types keep every field of the plugin's result" \
			"$(diff <(echo "$raw") <(echo "$parsed") | grep '^[<>]' | head -n4 | tr '\n' ' ')"
	fi
	# interfaces: the container one, with the real MAC and the sandbox path.
	got=$(jq -r '.result.interfaces[] | select(.sandbox != null and .sandbox != "") | "\(.name) \(.mac) \(.sandbox)"' <<<"$OUT")
	want="eth0 $(ip -n "$CTR" -j link show eth0 2>/dev/null | jq -r '.[0].address') $CTRPATH"
	check_eq "$what: result interface is eth0 with its MAC in the container netns" "$want" "$got"
	# ips: exactly the global addresses configured on eth0, each pointing at eth0.
	want=$(ip -n "$CTR" -j addr show dev eth0 scope global 2>/dev/null | jq -r '.[0].addr_info[]? | select(.local) | "\(.local)/\(.prefixlen)"' | sort | tr '\n' ' ')
	got=$(jq -r '.result.ips[]?.address' <<<"$OUT" | sort | tr '\n' ' ')
	check_eq "$what: result ips are the addresses on eth0" "$want" "$got"
	got=$(jq -r '[.result.interfaces | to_entries[] | select(.value.name == "eth0" and .value.sandbox != null) | .key] as $i
		| [.result.ips[]? | select(.interface != $i[0])] | length' <<<"$OUT")
	check_eq "$what: every ip points at the container interface" 0 "$got"
	got=$(jq -r '.result.ips[]? | select(.gateway) | .gateway' <<<"$OUT" | grep -vxE '10\.99\.8\.1|fd99:8::1' | tr '\n' ' ')
	check_eq "$what: result gateways are the configured ones" "" "$got"
	case $ver in
	0.3.* | 0.4.0)
		got=$(jq -r '[.raw.ips[]? | select((.version == "4") != (.address | test("\\.")))] | length' <<<"$OUT")
		check_eq "$what: $ver ips carry the right version field" 0 "$got" ;;
	*)
		check_eq "$what: $ver ips have no version field" 0 "$(jq -r '[.raw.ips[]? | select(has("version"))] | length' <<<"$OUT")" ;;
	esac
	# The expected address for the IPAM in use, and traffic to the peer.
	case $(jq -r '.plugins[0].ipam.type // ""' "$conf") in
	host-local) check_match "$what: IPv4 from the test range" '^10\.99\.8\.(1[0-4][0-9]|150)/24$' \
		"$(jq -r '.result.ips[]?.address | select(test("\\."))' <<<"$OUT")" ;;
	static) check_match "$what: the static IPv4 address" '10\.99\.8\.50/24' "$(jq -r '.result.ips[]?.address' <<<"$OUT")" ;;
	esac
	if jq -e '.result.ips[]? | select(.address | test("^10\\.99\\.8\\."))' <<<"$OUT" >/dev/null; then
		check "$what: container reaches the peer through the macvlan" \
			ip netns exec "$CTR" busybox ping -c1 -W2 10.99.8.1
	fi
	# macvlan reports the plugin-level `dns` key (as the reference plugin does).
	if jq -e '.plugins[0].dns' "$conf" >/dev/null; then
		check_eq "$what: result dns is the configured one" "$(jq -cS '.plugins[0].dns' "$conf")" "$(jq -cS '.result.dns' <<<"$OUT")"
	fi
}

CONFS=${CLIENT_CONFS:-$(ls conf/*.conflist tests/clients/*.conflist 2>/dev/null)}
n=0
for src in $CONFS; do
	base=${src%.conflist}   # e.g. conf/macvlan, also the label of its checks
	why=$(runnable "$src")
	if [ -n "$why" ]; then
		skip "$src" "$why"
		continue
	fi
	newest=
	for ver in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
		what="$base $ver"
		if ! grep -qx "$ver" <<<"$lib_versions"; then
			skip "$what" "Debian's libcni ($lib_current) does not implement $ver"
			continue
		fi
		if ! grep -qx "$ver" <<<"$plugin_versions"; then
			skip "$what" "macvlan does not announce $ver"
			continue
		fi
		newest=$ver
		n=$((n + 1)) CID=${T_ID}-lc$n
		conf=$T_TMP/${base//\//_}-$ver.conflist
		rewrite "$src" "$ver" >"$conf" || { fail "$what: rewrite"; continue; }
		: >"$TRACE"

		drv validate "$conf"
		check_eq "$what: libcni VERSION probe accepts the plugins" 0 "$RC"
		drv add "$conf"
		if [ "$RC" -ne 0 ]; then
			fail "$what: ADD through libcni" "$OUT $(tail -c 300 "$T_TMP/drv.err")"
			drv del "$conf"
			nothing_left "$what"
			continue
		fi
		ok "$what: ADD through libcni"
		check_eq "$what: libcni ran the macvlan under test" "$PLUGIN_DIR/macvlan" \
			"$(jq -r 'select(.command == "ADD" and .plugin == "macvlan") | .path' "$TRACE")"
		check_add "$what" "$conf" "$ver"
		add_result=$(jq -S .result <<<"$OUT")

		drv cached "$conf"
		check_eq "$what: libcni cached the result" "$add_result" "$(jq -S .cached <<<"$OUT")"
		if [ "$ver" != 0.3.0 ] && [ "$ver" != 0.3.1 ]; then
			drv check "$conf"
			check_eq "$what: CHECK through libcni" "0 {\"check\":\"ok\"}" "$RC $OUT"
		fi
		drv del "$conf"
		check_eq "$what: DEL through libcni" "0 {\"del\":\"ok\"}" "$RC $OUT"
		if [ "$ver" != 0.3.0 ] && [ "$ver" != 0.3.1 ]; then
			got=$(jq -sS --argjson r "$add_result" '[.[] | select(.command == "DEL") | .stdin.prevResult == $r] | all' "$TRACE")
			check_eq "$what: every DEL got the ADD result as prevResult" true "$got"
		fi
		nothing_left "$what"
		drv del "$conf"
		check_eq "$what: second DEL succeeds" "0 {\"del\":\"ok\"}" "$RC $OUT"
	done

	# Once per conflist, at the newest version: CHECK must notice a broken
	# attachment (address, or for L2 the link, removed), and DEL still cleans up.
	case $newest in '' | 0.3.*) continue ;; esac
	what="$base $newest broken"
	n=$((n + 1)) CID=${T_ID}-lc$n
	conf=$T_TMP/${base//\//_}-$newest.conflist
	drv add "$conf"
	[ "$RC" -eq 0 ] || { fail "$what: ADD" "$OUT"; drv del "$conf"; continue; }
	addr=$(jq -r '.result.ips[0].address // empty' <<<"$OUT")
	if [ -n "$addr" ]; then
		ip -n "$CTR" addr del "$addr" dev eth0
		drv check "$conf"
		check_match "$what: CHECK fails once $addr is removed" '^1 .*"error"' "$RC $OUT"
	else
		ip -n "$CTR" link del eth0
		drv check "$conf"
		check_match "$what: CHECK fails once eth0 is gone" '^1 .*"error"' "$RC $OUT"
	fi
	drv del "$conf"
	check_eq "$what: DEL still succeeds" "0 {\"del\":\"ok\"}" "$RC $OUT"
	nothing_left "$what"
done
[ "$n" -gt 0 ] || fail "at least one conflist ran" "none of: $CONFS"
finish
