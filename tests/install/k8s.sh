#!/bin/bash
# The Kubernetes-facing files: every Multus NetworkAttachmentDefinition in conf/, and
# `devmgr export --format device-plugin` against the SR-IOV network device plugin's
# config rules.
#
#   node ns: eth0 (veth) ── peer ns "gw"        pod ns: the NAD's interface
#
# A NAD's spec.config is run as Multus runs it: the plugin inside the "node" namespace
# (whose eth0 is the master the examples name), the interface into a "pod" namespace.
# Only host-local's dataDir is redirected into the suite's temp dir. The host kernel has
# no ipvlan and no VFs: there the test proves the config passes every check of the plugin
# and reaches the kernel (code 100) or the device (code 102); a broken copy of each config
# must fail with code 7, so the check can tell the difference.
#
# The device plugin's rules (k8snetworkplumbingwg/sriov-network-device-plugin,
# pkg/types/types.go, cmd/sriovdp/manager.go, pkg/factory/factory.go):
# - {"resourceList": [ResourceConfig…]}; ResourceConfig keys resourceName (required,
#   ^[a-zA-Z0-9_-]+$, unique per prefix), resourcePrefix, deviceType (netDevice,
#   accelerator, auxNetDevice; empty = netDevice), excludeTopology (bool), selectors (an
#   object or a non-empty list of objects), additionalInfo (object of string maps);
# - netDevice selector keys: vendors, devices, drivers, pciAddresses, pfNames, rootDevices,
#   linkTypes, acpiIndexes, ddpProfiles, pKeys (string lists), needVhostNet, IsRdma (bool),
#   vdpaType (string);
# - pciAddresses are compared as strings with the sysfs form 0000:bb:dd.f, and an empty
#   list is no filter at all (FilterBySelector: len(values) > 0), so a pool exported with
#   no addresses would take every device left over.
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
DEVMGR=$UCNI_BIN/devmgr
MKFAKESYSFS=${MKFAKESYSFS:-$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs}
PLUGINS=" $(make --no-print-directory -s print-cni-plugins) "

node=$(mkns node) && pod=$(mkns pod) && gw=$(mkns gw) || { fail "namespaces"; finish; }
T_NS+=("$node" "$pod" "$gw")
ip -n "$node" link add eth0 type veth peer name gw0 netns "$gw"
ip -n "$node" link set eth0 up
ip -n "$gw" link set gw0 up
FAKE=$T_TMP/sys
"$MKFAKESYSFS" "$FAKE" >/dev/null || fail "mkfakesysfs"

# run_nad VERB FILE CONFIG — the plugin of CONFIG, run in the node namespace.
run_nad() {
	local type
	type=$(jq -r .type <<<"$3")
	# (an array cannot be a command's temporary assignment: set it, then reset it)
	CNI_EXTRA_ENV=(UCNI_SYSFS_ROOT="$FAKE" UCNI_STATE_DIR="$T_TMP/state" UCNI_IPVLAN_DIR="$T_TMP/ipvlan")
	CNI_NODE=$node cni "$1" "$UCNI_BIN/$type" "$pod" net1 "k8s-$(basename "$2" .yaml)" <<<"$3"
	CNI_EXTRA_ENV=()
}
code() { jq -r '.code // empty' <<<"$CNI_OUT" 2>/dev/null; }

nads=()
for f in conf/*.yaml; do
	[ "$(yq -r .kind "$f" 2>/dev/null)" = NetworkAttachmentDefinition ] && nads+=("$f")
done
check "conf/ has NetworkAttachmentDefinitions for macvlan, ipvlan and sriov" \
	test -e conf/macvlan-NetworkAttachmentDefinition.yaml -a -e conf/ipvlan-NetworkAttachmentDefinition.yaml \
	-a -e conf/sriov-NetworkAttachmentDefinition.yaml

for f in conf/*NetworkAttachmentDefinition*.yaml; do
	n=$(basename "$f")
	if ! doc=$(yq -c -s . "$f" 2>&1); then fail "$n: valid YAML" "$doc"; continue; fi
	check_eq "$n: one YAML document" 1 "$(jq length <<<"$doc")"
	doc=$(jq -c '.[0]' <<<"$doc")
	check_eq "$n: apiVersion" k8s.cni.cncf.io/v1 "$(jq -r .apiVersion <<<"$doc")"
	check_eq "$n: kind" NetworkAttachmentDefinition "$(jq -r .kind <<<"$doc")"
	name=$(jq -r .metadata.name <<<"$doc")
	check_match "$n: metadata.name is a DNS-1123 name" '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' "$name"
	check_eq "$n: spec holds only config, a string" '["config"] string' \
		"$(jq -c '.spec | keys' <<<"$doc") $(jq -r '.spec.config | type' <<<"$doc")"
	cfg=$(jq -r .spec.config <<<"$doc")
	if ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$cfg"; then
		fail "$n: spec.config is a JSON object"; continue
	fi
	ok "$n: spec.config is a JSON object"
	type=$(jq -r .type <<<"$cfg")
	check_match "$n: type \"$type\" is a ucni plugin" " $type " "$PLUGINS"
	check_eq "$n: config name = metadata.name (Multus' network name)" "$name" "$(jq -r .name <<<"$cfg")"
	CNI_NODE=$node cni VERSION "$UCNI_BIN/$type" "" "" "" <<<'{"cniVersion":"1.0.0"}'
	check "$n: the plugin supports cniVersion $(jq -r .cniVersion <<<"$cfg")" \
		jq -e --arg v "$(jq -r .cniVersion <<<"$cfg")" '.supportedVersions | index($v)' <<<"$CNI_OUT"
	res=$(jq -r '.metadata.annotations["k8s.v1.cni.cncf.io/resourceName"] // empty' <<<"$doc")
	if [ "$type" = sriov ]; then
		check_match "$n: resourceName annotation is prefix/name" '^[a-z0-9.-]+/[a-zA-Z0-9_-]+$' "$res"
	fi
	cfg=$(jq -c --arg d "$T_TMP/ipam" 'if .ipam.type == "host-local" then .ipam.dataDir = $d else . end' <<<"$cfg")
	case $type in
	macvlan)
		run_nad ADD "$f" "$cfg"
		check_eq "$n: ADD" 0 "$CNI_RC"
		addr=$(jq -r '.ips[0].address // empty' <<<"$CNI_OUT")
		check_match "$n: net1 in the pod carries the address of the result" "inet ${addr%/*}/" \
			"$(ip -n "$pod" -4 addr show net1 2>&1)"
		run_nad CHECK "$f" "$(jq -c --argjson p "$CNI_OUT" '.prevResult = $p' <<<"$cfg")"
		check_eq "$n: CHECK" 0 "$CNI_RC"
		run_nad DEL "$f" "$cfg"
		check_eq "$n: DEL" 0 "$CNI_RC"
		check_eq "$n: nothing left in the pod" "lo" "$(ip -n "$pod" -o link | awk -F': ' '{print $2}' | tr '\n' ' ' | xargs)"
		run_nad ADD "$f" "$(jq -c '.mode = "bogus"' <<<"$cfg")"
		check_eq "$n: a broken copy (mode bogus) is refused as invalid config" 7 "$(code)"
		;;
	ipvlan)
		run_nad ADD "$f" "$cfg"
		if [ "$CNI_RC" = 0 ]; then
			ok "$n: ADD"
			run_nad DEL "$f" "$cfg"
			check_eq "$n: DEL" 0 "$CNI_RC"
			check_eq "$n: nothing left in the pod" "lo" "$(ip -n "$pod" -o link | awk -F': ' '{print $2}' | xargs)"
		else
			check_match "$n: config accepted; only the host kernel lacks ipvlan" \
				'^100 .*(Unknown device type|not supported)' "$(code) $(jq -r .details <<<"$CNI_OUT")"
			check_eq "$n: the failed ADD left no registry file behind" "" "$(ls -A "$T_TMP/ipvlan" 2>/dev/null)"
		fi
		run_nad ADD "$f" "$(jq -c '.mode = "l4"' <<<"$cfg")"
		check_eq "$n: a broken copy (mode l4) is refused as invalid config" 7 "$(code)"
		;;
	sriov)
		# what Multus adds: the device plugin's VF as runtimeConfig.deviceID and pciBusID
		vf=0000:3b:01.0
		mcfg=$(jq -c --arg vf $vf '.runtimeConfig.deviceID = $vf | .pciBusID = $vf' <<<"$cfg")
		run_nad ADD "$f" "$mcfg"
		check_match "$n: config accepted; only the fake VF cannot be configured" '^10[02] .*'$vf \
			"$(code) $(jq -r .msg <<<"$CNI_OUT")"
		run_nad ADD "$f" "$(jq -c '.vlan = 5000' <<<"$mcfg")"
		check_eq "$n: a broken copy (vlan 5000) is refused as invalid config" 7 "$(code)"
		check_eq "$n: nothing allocated" "" "$(ls "$T_TMP/state/vfs" 2>/dev/null)"
		;;
	esac
done

# ---- devmgr export --format device-plugin against the device plugin's rules
# dp_check FILE — prints one line per violation; empty when the config is acceptable.
dp_check() {
	jq -r '
	def strs: type == "array" and all(.[]; type == "string");
	def netsel: ["vendors","devices","drivers","pciAddresses","pfNames","rootDevices","linkTypes",
	             "acpiIndexes","ddpProfiles","pKeys","needVhostNet","IsRdma","vdpaType"];
	if type != "object" or (.resourceList | type) != "array" then "not {resourceList: [...]}"
	else
	  (keys - ["resourceList"] | .[] | "unknown top-level key \(.)"),
	  (.resourceList | length == 0 | select(.) | "empty resourceList"),
	  (.resourceList | to_entries[] | .key as $i | .value as $r | "resourceList[\($i)]" as $at |
	    if ($r | type) != "object" then "\($at): not an object" else
	    ( ($r | keys) - ["resourceName","resourcePrefix","deviceType","excludeTopology","selectors","additionalInfo"]
	      | .[] | "\($at): unknown key \(.)"),
	    ( $r.resourceName | select(type != "string" or (test("^[a-zA-Z0-9_-]+$") | not))
	      | "\($at): resourceName \(tojson) is not ^[a-zA-Z0-9_-]+$"),
	    ( $r.resourcePrefix | select(. != null and type != "string") | "\($at): resourcePrefix not a string"),
	    ( $r.deviceType | select(. != null and (IN("netDevice","accelerator","auxNetDevice") | not))
	      | "\($at): deviceType \(tojson)"),
	    ( $r.excludeTopology | select(. != null and type != "boolean") | "\($at): excludeTopology not a bool"),
	    ( $r.selectors |
	      (if type == "object" then [.] elif type == "array" and length > 0 then . else null end) as $s |
	      if $s == null then "\($at): selectors must be an object or a non-empty list" else
	      $s | to_entries[] | .key as $j | .value as $o | "\($at).selectors[\($j)]" as $sat |
	      if ($o | type) != "object" then "\($sat): not an object" else
	        (($o | keys) - netsel | .[] | "\($sat): unknown selector \(.)"),
	        ($o | to_entries[] | select(.key | IN("needVhostNet","IsRdma","vdpaType") | not)
	            | select(.value | strs | not) | "\($sat).\(.key): not a list of strings"),
	        ($o.pciAddresses | select(. != null) |
	          (if length == 0 then "\($sat).pciAddresses is empty: the device plugin reads that as no filter" else empty end),
	          (.[] | select(test("^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$") | not)
	            | "\($sat): pciAddress \(tojson) is not the sysfs form"))
	      end end )
	    end),
	  ([.resourceList[] | "\(.resourcePrefix // "intel.com")/\(.resourceName)"] | group_by(.)[]
	    | select(length > 1) | "resource \(.[0]) defined twice"),
	  ([.resourceList[].selectors | if type == "array" then .[] else . end | .pciAddresses // [] | .[]]
	    | group_by(.)[] | select(length > 1) | "\(.[0]) in two resources")
	end' "$1"
}

# The checker itself must fail on what the device plugin refuses.
bad=$T_TMP/bad.json
cat >"$bad" <<'EOF'
{"resourceList": [
  {"resourceName": "a.b", "selectors": [{"pciAddresses": []}]},
  {"resourceName": "x", "deviceType": "gpu", "selectors": [{"vendor": ["8086"], "pciAddresses": ["3b:01.0"]}]},
  {"resourceName": "x", "selectors": []}]}
EOF
check_eq "the shape check catches 7 kinds of violation in a bad config" 7 "$(dp_check "$bad" | wc -l)"
# the device plugin README's own example selectors pass
good=$T_TMP/good.json
cat >"$good" <<'EOF'
{"resourceList": [
  {"resourceName": "intel_sriov_netdevice", "selectors": [{"vendors": ["8086"], "devices": ["154c", "10ed"], "drivers": ["i40evf", "ixgbevf"]}]},
  {"resourceName": "intel_sriov_dpdk", "resourcePrefix": "intel.com", "selectors": [{"vendors": ["8086"], "drivers": ["vfio-pci"], "pfNames": ["enp0s0f0", "enp2s2f1"], "needVhostNet": true}]},
  {"resourceName": "old_selectors_syntax_example", "selectors": {"vendors": ["8086"], "pciAddresses": ["0000:3b:01.0"]}}]}
EOF
check_eq "the shape check passes the device plugin's documented examples" "" "$(dp_check "$good")"

dm() { OUT=$("$DEVMGR" --sysfs-root "$FAKE" --state-dir "$T_TMP/dmstate" "$@" 2>"$T_TMP/dm.err"); RC=$?; }
export_ok() { # export_ok WHAT CONFIG
	dm --config "$2" export --format device-plugin
	if [ "$RC" != 0 ]; then fail "$1: export" "exit $RC: $(cat "$T_TMP/dm.err")"; return; fi
	echo "$OUT" >"$T_TMP/export.json"
	check_eq "$1: the export satisfies the device plugin's config rules" "" "$(dp_check "$T_TMP/export.json" | head -n3)"
}
export_ok "conf/devmgr-pools.json" conf/devmgr-pools.json
check_eq "export: every VF of a pool is listed, by address, in its resource" \
	"$(dm --config conf/devmgr-pools.json pools --json; jq -c '[.pools[] | [.name, ([.members[].pciAddress] | sort)]]' <<<"$OUT")" \
	"$(jq -c '[.resourceList[] | [.resourceName, ([.selectors[].pciAddresses[]] | sort)]]' "$T_TMP/export.json")"
check "export: every listed address is a VF of the tree" \
	bash -c 'for a in $(jq -r ".resourceList[].selectors[].pciAddresses[]" "$1"); do
		test -e "$2/bus/pci/devices/$a/physfn" || exit 1; done' _ "$T_TMP/export.json" "$FAKE"

# A pool that matches no VF: the device plugin would read an empty pciAddresses list as
# "every device"; the export must leave such a pool out (or make it match nothing).
empty=$T_TMP/empty-pool.json
echo '{"resourceList": [{"resourceName": "intel", "selectors": {"vendors": ["8086"]}},
	{"resourceName": "nothing_here", "selectors": {"vendors": ["1234"]}}]}' >"$empty"
export_ok "a pool without members" "$empty"
# A name the device plugin refuses (it allows no '.'): devmgr must refuse it (exit 3)
# rather than export a config that stops the device plugin.
dotted=$T_TMP/dotted.json
echo '{"resourceList": [{"resourceName": "intel.vf", "selectors": {"vendors": ["8086"]}}]}' >"$dotted"
dm --config "$dotted" export --format device-plugin
if [ "$RC" = 3 ]; then ok "a resourceName with '.' is refused (exit 3)"
else echo "$OUT" >"$T_TMP/export.json"
	check_eq "a resourceName with '.': the export still satisfies the device plugin" "" "$(dp_check "$T_TMP/export.json")"
fi
# ---- conf/devmgr-serve-daemonset.yaml: devmgr serve as a DaemonSet. What serve needs of
# the node: the kubelet's device-plugin dir, the devinfo dir, /sys and the store in /run/ucni
# as hostPath mounts at the same paths (serve's defaults), the node's network namespace
# (link notifications) and its pid namespace (the served marker records serve's pid, which
# the node's CNI plugins and devmgr check in the node's /proc).
ds=conf/devmgr-serve-daemonset.yaml
if ! dsj=$(yq -c . "$ds" 2>&1); then fail "$ds: valid YAML" "$dsj"
else
	check_eq "$ds: a DaemonSet" "DaemonSet" "$(jq -r .kind <<<"$dsj")"
	check_eq "... hostNetwork and hostPID" "true true" "$(jq -r '.spec.template.spec | "\(.hostNetwork) \(.hostPID)"' <<<"$dsj")"
	check_eq "... runs devmgr serve" '/usr/bin/devmgr serve' \
		"$(jq -r '.spec.template.spec.containers[0].command | join(" ")' <<<"$dsj")"
	# every mount a hostPath at the same path
	check_eq "... each mount is the node's own path" "" \
		"$(jq -r '.spec.template.spec as $s | $s.containers[0].volumeMounts[] | . as $m |
			($s.volumes[] | select(.name == $m.name) | .hostPath.path) as $h |
			select($h != $m.mountPath) | "\($m.name): \($m.mountPath) <- \($h)"' <<<"$dsj")"
	for p in /var/lib/kubelet/device-plugins /var/run/k8s.cni.cncf.io/devinfo /sys /run/ucni; do
		check_eq "... mounts $p" "$p" \
			"$(jq -r --arg p "$p" '.spec.template.spec.containers[0].volumeMounts[] | select(.mountPath == $p) | .mountPath' <<<"$dsj")"
	done
	# the mounts are serve's defaults (devmgr(8))
	check_match "devmgr(8) names the same kubelet and devinfo defaults" \
		'/var/lib/kubelet/device.plugins.*/var/run/k8s.cni.cncf.io/devinfo|/var/run/k8s.cni.cncf.io/devinfo.*/var/lib/kubelet/device.plugins' \
		"$(man -l doc/devmgr.8 2>/dev/null | tr -s ' \n' ' ' | sed 's/‐ //g')"
fi
finish
