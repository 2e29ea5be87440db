#!/bin/bash
# make demo: ucni macvlan end to end in a sandbox of network namespaces.
#
#   node namespace (plays the host)             pod namespaces
#   eth0 ── veth ── uplink                      pod1: eth0 (macvlan on node's eth0)
#    └── macvlan master                         pod2: eth0 (macvlan on node's eth0)
#
# Uses conf/macvlan.conflist unchanged except for host-local's dataDir, which
# points into a temporary folder so the demo leaves nothing on the machine.
set -u
cd "$(dirname "$0")/.."
BIN=${UCNI_BIN:-$PWD/build/bin}
CONF=conf/macvlan.conflist
ID=ucni-demo-$$
NODE=$ID-node POD1=$ID-pod1 POD2=$ID-pod2
TMP=$(mktemp -d /tmp/ucni-demo.XXXXXX)

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
	for ns in "$POD1" "$POD2" "$NODE"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# Run the plugin as a runtime would, inside the node namespace.
cni() { # cni VERB POD CONTAINERID
	ip netns exec "$NODE" env -i PATH=/usr/bin:/bin CNI_COMMAND="$1" CNI_CONTAINERID="$3" \
		CNI_NETNS="/var/run/netns/$2" CNI_IFNAME=eth0 CNI_PATH="$BIN:/usr/lib/cni" \
		"$BIN/macvlan" <"$TMP/net.json"
}

bold "Sandbox: namespaces $NODE, $POD1, $POD2"
ip netns add "$NODE" && ip netns add "$POD1" && ip netns add "$POD2" || exit 1
ip -n "$NODE" link add eth0 type veth peer name uplink
ip -n "$NODE" link set eth0 up
ip -n "$NODE" link set uplink up
ip -n "$NODE" -br link

bold "Network config ($CONF, plugins[0] with the list's name and cniVersion)"
jq --arg d "$TMP/ipam" '.plugins[0] + {name: .name, cniVersion: .cniVersion} | .ipam.dataDir = $d' "$CONF" \
	>"$TMP/net.json" || exit 1
cat "$TMP/net.json"

for pod in "$POD1" "$POD2"; do
	bold "ADD $pod"
	cni ADD "$pod" "ctr-$pod" >"$TMP/$pod.result" || { cat "$TMP/$pod.result"; exit 1; }
	cat "$TMP/$pod.result"
	echo "-- inside $pod:"
	ip -n "$pod" addr show eth0
	ip -n "$pod" -4 route
	ip -n "$pod" -6 route
done

ip2=$(jq -r '.ips[] | select(.address | contains(".")) | .address' "$TMP/$POD2.result" | cut -d/ -f1)
ip6=$(jq -r '.ips[] | select(.address | contains(":")) | .address' "$TMP/$POD2.result" | cut -d/ -f1)
bold "$POD1 pings $POD2 ($ip2, $ip6)"
ip netns exec "$POD1" ping -c 2 -W 2 "$ip2" || exit 1
ip netns exec "$POD1" ping -c 2 -W 2 "$ip6" || exit 1

bold "CHECK $POD1"
jq --slurpfile r "$TMP/$POD1.result" '. + {prevResult: $r[0]}' "$TMP/net.json" >"$TMP/check.json"
ip netns exec "$NODE" env -i CNI_COMMAND=CHECK CNI_CONTAINERID="ctr-$POD1" CNI_NETNS="/var/run/netns/$POD1" \
	CNI_IFNAME=eth0 CNI_PATH="$BIN:/usr/lib/cni" "$BIN/macvlan" <"$TMP/check.json" && echo "CHECK passed"

for pod in "$POD1" "$POD2"; do
	bold "DEL $pod"
	cni DEL "$pod" "ctr-$pod" || exit 1
	ip -n "$pod" -br link
done
echo "host-local reservations left: $(ls "$TMP/ipam/ucni-macvlan" 2>/dev/null | grep -c -v -e lock -e last_reserved)"
bold "Done: removing the sandbox"
