#!/bin/bash
# podman 4.3 (Debian, CNI network backend, runc) as a real runtime on the host
# kernel: containers attached through the macvlan plugin get their address,
# reach a peer, survive stop/start, take a requested IP and MAC, talk to each
# other, and leave nothing behind once removed — also when the plugin fails.
#
#   host ns                                      peer ns ($T_ID-pmpeer)
#   ${T_ID}pm (veth, macvlan master) <--veth-->  ${T_ID}pp 10.99.9.1/24
#      |                                                   10.99.10.1/24 fd99:9::1/64
#      |-- eth0 of each container on network ucni-$T_ID (macvlan, bridge mode), 10.99.9.100-150
#      \-- eth1 of the dual-stack container on ucni-$T_ID-ds, 10.99.10.100-150, fd99:9::100-150
#
# podman runs fully isolated: its own containers.conf, storage.conf (vfs,
# graphroot/runroot under a temp dir), registries.conf, network config dir and
# CNI plugin dirs ($UCNI_BIN then $REF_CNI), passed through CONTAINERS_* and to
# conmon's cleanup process through conmon_env_vars (with tests/lib.sh's node settings,
# UCNI_NODE_CONFIG, that allow host-local's store in the temp dir). The host's podman state and
# any user config are never read or written. Only two host paths are shared with
# any other podman/CNI user: libcni's cache /var/lib/cni/results (checked to
# hold nothing of ours afterwards) and the image blob-info cache
# /var/lib/containers/cache; either is removed afterwards if this run created it.
#
# Environment: UCNI_BIN, REF_CNI, UCNI_CLIENTS_REFERENCE=1 as in libcni.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$UCNI_TOP" || exit 1

if [ "${UCNI_CLIENTS_REFERENCE:-0}" = 1 ]; then
	PLUGIN_DIR=$REF_CNI
else
	PLUGIN_DIR=$UCNI_BIN
fi
echo "# macvlan under test: $PLUGIN_DIR/macvlan"
for c in podman runc conmon busybox jq; do
	command -v "$c" >/dev/null || { fail "$c installed" "run make deps"; finish; }
done
if [ ! -x "$PLUGIN_DIR/macvlan" ]; then
	fail "macvlan plugin present" "$PLUGIN_DIR/macvlan missing (run make, or set UCNI_CLIENTS_REFERENCE=1)"
	finish
fi

PM=$T_TMP/podman NET=ucni-$T_ID IMG=localhost/ucni-busybox:$T_ID
MASTER=${T_ID}pm PEER=${T_ID}pp
mkdir -p "$PM"/{net,host-local,tmp,rootfs/bin,rootfs/etc,rootfs/proc,rootfs/sys,rootfs/dev}
# Host paths shared with other users: remember what existed, remove what we made.
[ -e /var/lib/containers ] && had_containers=1 || had_containers=0
[ -e /var/lib/cni ] && had_cni=1 || had_cni=0
[ -e /run/runc ] && had_runc=1 || had_runc=0

cat >"$PM/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PLUGIN_DIR", "$REF_CNI"]
network_config_dir = "$PM/net"
default_network = "$NET-default"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
tmp_dir = "$PM/tmp"
volume_path = "$PM/volumes"
image_copy_tmp_dir = "$PM/tmp"
conmon_env_vars = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "CONTAINERS_CONF=$PM/containers.conf", "CONTAINERS_STORAGE_CONF=$PM/storage.conf", "CONTAINERS_REGISTRIES_CONF=$PM/registries.conf", "UCNI_NODE_CONFIG=$UCNI_NODE_CONFIG"]
EOF
cat >"$PM/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$PM/graph"
runroot = "$PM/run"
EOF
echo 'unqualified-search-registries = []' >"$PM/registries.conf"

pm() {
	env CONTAINERS_CONF="$PM/containers.conf" CONTAINERS_STORAGE_CONF="$PM/storage.conf" \
		CONTAINERS_REGISTRIES_CONF="$PM/registries.conf" TMPDIR="$PM/tmp" \
		podman "$@"
}
pm_cleanup() {
	pm rm -a -f -t 0
	findmnt -rn -o TARGET | grep "^$PM/" | sort -r | xargs -r -n1 umount -l
	[ "$had_containers" = 1 ] || rm -rf /var/lib/containers
	[ "$had_cni" = 1 ] || { rmdir /var/lib/cni/results && rmdir /var/lib/cni; }
	[ "$had_runc" = 1 ] || rmdir /run/runc
}
on_exit pm_cleanup

# The master: a veth whose other end sits in a namespace of ours.
mkns pmpeer >/dev/null || { fail "create namespace"; finish; }
PEERNS=$T_ID-pmpeer
if ip link add "$MASTER" type veth peer name "$PEER" netns "$PEERNS" &&
	ip link set "$MASTER" up && ip -n "$PEERNS" link set "$PEER" up &&
	ip -n "$PEERNS" addr add 10.99.9.1/24 dev "$PEER" &&
	ip -n "$PEERNS" addr add 10.99.10.1/24 dev "$PEER" &&
	ip -n "$PEERNS" addr add fd99:9::1/64 dev "$PEER" nodad; then
	on_exit ip link del "$MASTER"
	ok "test topology: veth $MASTER, peer namespace $PEERNS"
else
	fail "test topology"
	finish
fi

jq --arg name "$NET" --arg master "$MASTER" --arg hl "$PM/host-local" '
	.name = $name
	| .plugins[0].master = $master
	| .plugins[0].ipam.dataDir = $hl
	| .plugins[0].ipam.ranges = [[{subnet: "10.99.9.0/24", rangeStart: "10.99.9.100", rangeEnd: "10.99.9.150", gateway: "10.99.9.1"}]]
	' tests/clients/macvlan-podman.conflist >"$PM/net/$NET.conflist"
# A network whose master does not exist: the plugin must fail and leave nothing.
# A dual-stack network on the same master, for a second interface.
jq --arg name "$NET-ds" '.name = $name | .plugins[0].ipam.ranges = [
	[{subnet: "10.99.10.0/24", rangeStart: "10.99.10.100", rangeEnd: "10.99.10.150", gateway: "10.99.10.1"}],
	[{subnet: "fd99:9::/64", rangeStart: "fd99:9::100", rangeEnd: "fd99:9::150", gateway: "fd99:9::1"}]]
	| .plugins[0].ipam.routes = [{dst: "::/0"}]' \
	"$PM/net/$NET.conflist" >"$PM/net/$NET-ds.conflist"
jq --arg name "$NET-bad" --arg master "${T_ID}nx" '.name = $name | .plugins[0].master = $master' \
	"$PM/net/$NET.conflist" >"$PM/net/$NET-bad.conflist"

# --- podman sees only our private setup
info=$(pm info --format json 2>&1)
check_eq "podman uses the CNI backend, runc, vfs under the test dir" \
	"cni runc vfs $PM/graph" \
	"$(jq -r '"\(.host.networkBackend) \(.host.ociRuntime.name) \(.store.graphDriverName) \(.store.graphRoot)"' <<<"$info" 2>/dev/null)"
check_eq "podman lists our macvlan network" "macvlan" \
	"$(pm network inspect "$NET" --format '{{.Driver}}' 2>&1)"

# --- an image from busybox-static, offline
cp /bin/busybox "$PM/rootfs/bin/busybox"
for a in sh ip ping sleep cat true; do ln -s busybox "$PM/rootfs/bin/$a"; done
tar -C "$PM/rootfs" -cf "$PM/rootfs.tar" .
check "podman import of a busybox rootfs" pm import "$PM/rootfs.tar" "$IMG"

# in_ctr NAME CMD… — run a command in a container, output in $OUT
in_ctr() { local c=$1; shift; OUT=$(pm exec "$c" "$@" 2>&1); }
# reservations [NETWORK] — the addresses host-local holds (default: all our networks)
reservations() { find "$PM/host-local/${1:-}" -type f ! -name lock ! -name 'last_reserved_ip.*' -printf '%f ' 2>/dev/null; }
ctr_ip() { ip -n "$1" -j addr show dev eth0 2>/dev/null | jq -r '[.[0].addr_info[]? | select(.family == "inet") | .local] | join(" ")'; }

# --- one container, attached through macvlan
if ! out=$(pm run -d --name "$T_ID-c1" --network "$NET" "$IMG" sleep 600 2>&1); then
	fail "podman run -d on the macvlan network" "$out"
	finish
fi
ok "podman run -d on the macvlan network"
C1=$(pm inspect "$T_ID-c1" --format '{{.Id}}')
NS1=$(pm inspect "$T_ID-c1" --format '{{.NetworkSettings.SandboxKey}}')
ip1=$(pm inspect "$T_ID-c1" --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
mac1=$(pm inspect "$T_ID-c1" --format "{{(index .NetworkSettings.Networks \"$NET\").MacAddress}}")
check_match "podman reports an address from the range" '^10\.99\.9\.(1[0-4][0-9]|150)$' "$ip1"
in_ctr "$T_ID-c1" ip -o -4 addr show dev eth0
check_match "the container sees $ip1/24 on eth0" "inet $ip1/24 " "$OUT"
in_ctr "$T_ID-c1" cat /sys/class/net/eth0/address
check_eq "the container's eth0 MAC is the one podman reports" "$mac1" "$OUT"
check_match "eth0 is a macvlan in bridge mode on $MASTER" "macvlan mode bridge" \
	"$(ip netns exec "$(basename "$NS1")" ip -d link show eth0 2>&1)"
in_ctr "$T_ID-c1" ping -c1 -W2 10.99.9.1
check_match "the container reaches the peer" '1 packets received' "$OUT"
check_eq "host-local holds the container's address" "$ip1 " "$(reservations "$NET")"

# --- stop tears the attachment down, start brings it back
check "podman stop" pm stop -t 0 "$T_ID-c1"
if [ -e "$NS1" ]; then fail "stop removes the network namespace" "$NS1 still there"; else ok "stop removes the network namespace"; fi
check_eq "stop releases the address" "" "$(reservations)"
check "podman start" pm start "$T_ID-c1"
NS1=$(pm inspect "$T_ID-c1" --format '{{.NetworkSettings.SandboxKey}}')
ip1=$(pm inspect "$T_ID-c1" --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
in_ctr "$T_ID-c1" ping -c1 -W2 10.99.9.1
check_match "after start the container reaches the peer again" '1 packets received' "$OUT"

# --- a requested IP and MAC (runtimeConfig ips and mac) and container-to-container
if out=$(pm run -d --name "$T_ID-c2" --network "$NET" --ip 10.99.9.140 --mac-address 02:00:5e:10:99:40 \
	"$IMG" sleep 600 2>&1); then
	ok "podman run --ip --mac-address"
	in_ctr "$T_ID-c2" ip -o -4 addr show dev eth0
	check_match "the container has the requested IP" 'inet 10\.99\.9\.140/24 ' "$OUT"
	in_ctr "$T_ID-c2" cat /sys/class/net/eth0/address
	check_eq "the container has the requested MAC" 02:00:5e:10:99:40 "$OUT"
	in_ctr "$T_ID-c2" ping -c1 -W2 "$ip1"
	check_match "the two containers reach each other (macvlan bridge mode)" '1 packets received' "$OUT"
else
	fail "podman run --ip --mac-address" "$out"
fi
C2=$(pm inspect "$T_ID-c2" --format '{{.Id}}' 2>/dev/null)
NS2=$(pm inspect "$T_ID-c2" --format '{{.NetworkSettings.SandboxKey}}' 2>/dev/null)

# --- two networks on one container (eth0, eth1), the second dual-stack.
# podman keeps a container's networks in a map, so without interface_name
# which network gets eth0 varies from run to run.
if out=$(pm run -d --name "$T_ID-c3" --network "$NET:interface_name=eth0" \
	--network "$NET-ds:interface_name=eth1" "$IMG" sleep 600 2>&1); then
	ok "podman run on two networks"
	ip6=$(pm inspect "$T_ID-c3" --format "{{(index .NetworkSettings.Networks \"$NET-ds\").GlobalIPv6Address}}")
	ip4=$(pm inspect "$T_ID-c3" --format "{{(index .NetworkSettings.Networks \"$NET-ds\").IPAddress}}")
	check_match "podman reports both families on the dual-stack network" '^10\.99\.10\.[0-9]+ fd99:9::[0-9a-f]+$' "$ip4 $ip6"
	in_ctr "$T_ID-c3" ip -o addr show scope global
	check_match "the container has eth0 on the first network" 'eth0 +inet 10\.99\.9\.' "$OUT"
	check_match "the container has eth1 with $ip4 and $ip6" "eth1 +inet $ip4/24 .*eth1 +inet6 $ip6/64 " "${OUT//$'\n'/ }"
	in_ctr "$T_ID-c3" ping -6 -c1 -W2 fd99:9::1
	check_match "the container reaches the peer over IPv6 on eth1" '1 packets received' "$OUT"
else
	fail "podman run on two networks" "$out"
fi
C3=$(pm inspect "$T_ID-c3" --format '{{.Id}}' 2>/dev/null)
NS3=$(pm inspect "$T_ID-c3" --format '{{.NetworkSettings.SandboxKey}}' 2>/dev/null)

# --- a one-shot container: the network is torn down by conmon's cleanup process
out=$(pm run --rm --network "$NET" "$IMG" sh -c 'ip -o -4 addr show dev eth0; ping -c1 -W2 10.99.9.1' 2>&1)
check_match "podman run --rm: address and peer reachable" 'inet 10\.99\.9\.[0-9]+/24 .*1 packets received' "${out//$'\n'/ }"

# --- remove everything and look for leftovers
check "podman rm -f" pm rm -f -t 0 "$T_ID-c1" "$T_ID-c2" "$T_ID-c3"
check_eq "podman has no containers left" "" "$(pm ps -a -q 2>&1)"
left=
for ns in $NS1 $NS2 $NS3; do [ -e "$ns" ] && left+="netns:$ns "; done
left+=$(ip -d -j link show | jq -r --arg m "$MASTER" '.[] | select(.link == $m) | "link:\(.ifname) "' | tr -d '\n')
left+=$(reservations)
left+=$(find /var/lib/cni/results -name "$NET-*" -printf 'cache:%f ' 2>/dev/null)
for id in $C1 $C2 $C3; do
	[ -e "/run/runc/$id" ] && left+="runc:$id "
	pgrep -f "conmon.* -c $id" >/dev/null && left+="conmon:$id "
done
left+=$(findmnt -rn -o TARGET | grep "^$PM/" | tr '\n' ' ')
check_eq "nothing left: netns, links, IP reservations, CNI cache, runc state, conmon, mounts" "" "$left"

# --- the plugin fails (master missing): podman reports it, nothing is left
netns_before=$(ls /run/netns)
out=$(pm run -d --name "$T_ID-bad" --network "$NET-bad" "$IMG" sleep 600 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then ok "podman run fails when the master is missing"; else
	fail "podman run fails when the master is missing" "exit status 0"; fi
if [ "$PLUGIN_DIR" = "$REF_CNI" ]; then
	skip "the error names the missing master" "the reference macvlan says only 'Link not found'"
else
	check_match "the error names the missing master" "${T_ID}nx" "$out"
fi
pm rm -f -t 0 "$T_ID-bad" >/dev/null 2>&1
left=$(comm -13 <(echo "$netns_before") <(ls /run/netns) | sed 's/^/netns:/' | tr '\n' ' ')
left+=$(reservations)
left+=$(find /var/lib/cni/results -name "$NET-bad-*" -printf 'cache:%f ' 2>/dev/null)
left+=$(findmnt -rn -o TARGET | grep "^$PM/" | tr '\n' ' ')
check_eq "failed attach leaves no netns, reservation, cache or mount" "" "$left"
finish
