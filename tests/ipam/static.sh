#!/bin/bash
# static IPAM: ucni's against the reference binary (Debian's /usr/lib/cni/static).
#
#   request ──┬── $UCNI_BIN/static     ─── result / error ──┐
#             └── $REF_CNI/static      ─── result / error ──┴── compared with jq
#
# The same request (verb, environment, CNI_ARGS, config) goes to both plugins. A result
# must be the same, field by field, in every cniVersion the reference speaks (0.3.0 to
# 1.0.0); 1.1.0, which it does not, is checked against its 1.0.0 answer. An error must
# have the reference's code where the reference gives a specific one; where it gives
# 999 (its "anything else"), ucni gives the specific code the spec has (4 environment,
# 7 config, 2 unknown CNI_ARGS key) and its message names the key. The few answers
# that differ on purpose are checked as such, with the reason.
# The comparisons need no root (a static plugin touches nothing); the last section runs
# conf/macvlan-static.conflist end to end with ucni alone on CNI_PATH (root, namespaces).
source "$(dirname "$0")/../lib.sh"
UCNI=$UCNI_BIN/static
REF=$REF_CNI/static
[ -x "$UCNI" ] || { fail "ucni's static is built" "$UCNI missing"; finish; }
[ -x "$REF" ] || { skip "the reference static plugin is installed" "$REF missing"; finish; }
REF_VERSIONS=(0.3.0 0.3.1 0.4.0 1.0.0)

ARGS= # CNI_ARGS of the next runs ("" for none)
ENVX=() # more environment (K=V) of the next runs
# run PLUGIN VERB CONF — stdout in OUT, exit status in RC
run() {
	local envs=(CNI_COMMAND="$2" CNI_CONTAINERID=ctr-1 CNI_NETNS=/var/run/netns/x CNI_IFNAME=eth0
		CNI_PATH="$REF_CNI")
	[ -n "$ARGS" ] && envs+=(CNI_ARGS="$ARGS")
	OUT=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${envs[@]}" "${ENVX[@]}" "$1" <<<"$3" 2>"$T_TMP/stderr")
	RC=$?
}
# both VERB CONF — run both: UOUT/URC, ROUT/RRC
both() {
	run "$UCNI" "$1" "$2"; UOUT=$OUT URC=$RC
	run "$REF" "$1" "$2"; ROUT=$OUT RRC=$RC
}
canon() { jq -S -c . <<<"$1" 2>/dev/null || echo "not JSON: $1"; }
# The leaves where a and b differ, as "path: a ≠ b".
diffs() {
	jq -n -c --argjson a "$1" --argjson b "$2" \
		'[($a, $b) | paths(scalars)] | unique | map(. as $p | select(($a | getpath($p)) != ($b | getpath($p)))
		 | "\(map(tostring) | join(".")): \($a | getpath($p)) ≠ \($b | getpath($p))") | join("; ")' 2>/dev/null
}
# same "what" — both succeeded with the same output (results: the same JSON; else both empty)
same() {
	if [ "$URC" -ne 0 ] || [ "$RRC" -ne 0 ]; then
		fail "$1" "exit ucni $URC, reference $RRC: ucni $UOUT | reference $ROUT"
	elif [ -z "$ROUT$UOUT" ]; then
		ok "$1 (both succeed, print nothing)"
	elif [ "$(canon "$UOUT")" == "$(canon "$ROUT")" ]; then
		ok "$1"
	else
		fail "$1" "$(diffs "$UOUT" "$ROUT") | ucni $(canon "$UOUT") | reference $(canon "$ROUT")"
	fi
}
# same_err "what" CODE [part…] — both failed; the reference with CODE, or 999; ucni with
# CODE and a message holding every part. With the reference's 999, the ucni code is the
# spec's for the case and the parts name the key.
same_err() {
	local what=$1 code=$2 rcode ucode umsg part
	shift 2
	rcode=$(jq -r .code <<<"$ROUT" 2>/dev/null) ucode=$(jq -r .code <<<"$UOUT" 2>/dev/null)
	umsg=$(jq -r '.msg + " " + (.details // "")' <<<"$UOUT" 2>/dev/null)
	if [ "$URC" -ne 1 ] || [ "$RRC" -ne 1 ]; then
		fail "$what" "exit ucni $URC, reference $RRC: ucni $UOUT | reference $ROUT"; return
	fi
	if [ "$rcode" != "$code" ] && [ "$rcode" != 999 ]; then
		fail "$what" "the reference gives code $rcode (suite expects $code or 999): $ROUT"; return
	fi
	if [ "$ucode" != "$code" ]; then
		fail "$what" "ucni code $ucode, want $code (reference $rcode): $umsg"; return
	fi
	for part in "$@"; do
		[[ "$umsg" == *"$part"* ]] || { fail "$what" "ucni's message '$umsg' lacks '$part'"; return; }
	done
	if [ "$rcode" == "$code" ]; then ok "$what → code $code, as the reference"
	else ok "$what → code $code (reference: 999 \"$(jq -r .msg <<<"$ROUT")\")"; fi
}
# conf VERSION IPAM [jq filter] — a config with that ipam section
conf() {
	jq -c "${3:-.}" <<<"{\"cniVersion\":\"$1\",\"name\":\"net-$T_ID\",\"type\":\"macvlan\",\"master\":\"eth0\",\"ipam\":$2}"
}

FULL='{"type":"static",
 "addresses":[{"address":"10.10.0.5/24","gateway":"10.10.0.1"},{"address":"10.11.0.5/16"},
              {"address":"fd00:10::5/64","gateway":"fd00:10::1"},{"address":"2001:db8::5/128"}],
 "routes":[{"dst":"0.0.0.0/0"},{"dst":"10.20.0.0/16","gw":"10.10.0.254"},{"dst":"10.30.1.2/8"},
           {"dst":"::/0","gw":"fd00:10::1"},{"dst":"fd00:20::/48"}],
 "dns":{"nameservers":["10.10.0.53","fd00:10::53"],"domain":"example.org","search":["a.example.org","b"],
        "options":["ndots:2","rotate"]}}'
EMPTY='{"type":"static"}'
ONE='{"type":"static","addresses":[{"address":"10.10.0.5/24","gateway":"10.10.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}'

# ---------------------------------------------------------------------------
section "ADD, CHECK, DEL in every cniVersion"
for v in "${REF_VERSIONS[@]}"; do
	for name in FULL EMPTY ONE; do
		c=$(conf "$v" "${!name}")
		both ADD "$c"; same "ADD $name $v"
		add=$ROUT
		if [ "$v" = 0.3.0 ] || [ "$v" = 0.3.1 ]; then
			both CHECK "$(jq -c --argjson p "$add" '. + {prevResult: $p}' <<<"$c")"
			same_err "CHECK $name $v: no CHECK before 0.4.0" 1
		else
			both CHECK "$(jq -c --argjson p "$add" '. + {prevResult: $p}' <<<"$c")"; same "CHECK $name $v"
		fi
		both DEL "$(jq -c --argjson p "$add" '. + {prevResult: $p}' <<<"$c")"; same "DEL $name $v"
		both DEL "$c"; same "DEL $name $v again, without prevResult"
	done
done

section "cniVersion 1.1.0 (the reference of this host stops at 1.0.0)"
for name in FULL EMPTY ONE; do
	run "$REF" ADD "$(conf 1.0.0 "${!name}")"; want=$(jq -S -c '.cniVersion = "1.1.0"' <<<"$OUT")
	run "$UCNI" ADD "$(conf 1.1.0 "${!name}")"
	check_eq "ADD $name 1.1.0: the reference's 1.0.0 answer in 1.1.0" "$want" "$(canon "$OUT")"
	run "$UCNI" CHECK "$(conf 1.1.0 "${!name}" ".prevResult = $OUT")"
	check_eq "CHECK $name 1.1.0" "0:" "$RC:$OUT"
	run "$UCNI" DEL "$(conf 1.1.0 "${!name}")"
	check_eq "DEL $name 1.1.0" "0:" "$RC:$OUT"
done
run "$UCNI" ADD "$(conf 1.1.0 '{"type":"static","routes":[{"dst":"10.40.0.0/16","gw":"10.10.0.1","mtu":1400,"advmss":1360,"priority":10,"table":100,"scope":0}]}')"
check_eq "1.1.0 routes keep mtu, advmss, priority, table and scope" \
	'[{"advmss":1360,"dst":"10.40.0.0/16","gw":"10.10.0.1","mtu":1400,"priority":10,"scope":0,"table":100}]' \
	"$(jq -S -c .routes <<<"$OUT")"
run "$UCNI" ADD "$(conf 1.0.0 '{"type":"static","routes":[{"dst":"10.40.0.0/16","mtu":1400,"table":100}]}')"
check_eq "1.0.0 routes print dst and gw only" '[{"dst":"10.40.0.0/16"}]' "$(jq -c .routes <<<"$OUT")"
run "$UCNI" STATUS "$(conf 1.1.0 "$ONE")"
check_eq "STATUS 1.1.0: available, prints nothing" "0:" "$RC:$OUT"
run "$UCNI" GC "$(conf 1.1.0 "$ONE" '. + {"cni.dev/valid-attachments": [{"containerID": "x", "ifname": "eth0"}]}')"
check_eq "GC 1.1.0: nothing to collect" "0:" "$RC:$OUT"
run "$UCNI" STATUS "$(conf 1.0.0 "$ONE")"
check_eq "STATUS 1.0.0: code 1" "1:1" "$RC:$(jq -r .code <<<"$OUT")"
run "$UCNI" GC "$(conf 1.0.0 "$ONE")"
check_eq "GC 1.0.0: code 1" "1:1" "$RC:$(jq -r .code <<<"$OUT")"

section "addresses and gateways"
for a in 10.10.0.5/32 10.10.0.0/24 0.0.0.0/0 255.255.255.255/32 fd00::/8 ::1/128 '::ffff:10.10.0.5/120' \
	'::ffff:a0a:6/104' '::ffff:10.10.0.7/64' '2001:DB8:0:0:0:0:0:5/64' 'fd00:0::0005/64' 10.10.0.5/024; do
	both ADD "$(conf 1.0.0 "{\"type\":\"static\",\"addresses\":[{\"address\":\"$a\"}]}")"; same "address $a"
done
for g in 10.10.0.1 10.99.0.1 10.10.0.5 '::ffff:10.10.0.1'; do
	both ADD "$(conf 0.4.0 "{\"type\":\"static\",\"addresses\":[{\"address\":\"10.10.0.5/24\",\"gateway\":\"$g\"}]}")"
	same "gateway $g (inside, outside, the address itself, IPv4-mapped)"
done
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5/24"},{"address":"10.10.0.5/24"}]}')"
same "the same address twice"
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[]}')"; same "no addresses"
both ADD "$(conf 1.0.0 '{"type":"static","addresses":null,"routes":null,"dns":null}')"; same "null keys"
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5/24","Version":"6","other":1}],"x":2}')"
same "unknown keys are ignored"
both ADD "$(conf 1.0.0 "$ONE" '. + {dns: {nameservers: ["9.9.9.9"]}}')"; same "the top-level dns is not static's"

section "routes and dns"
both ADD "$(conf 1.0.0 '{"type":"static","routes":[{"dst":"::ffff:10.40.0.0/112","gw":"::ffff:10.10.0.1"},{"dst":"10.50.0.0/16","gw":"10.10.0.1","mtu":1400}]}')"
same "IPv4-mapped route, and 1.1.0 keys dropped in 1.0.0"
both ADD "$(conf 0.3.1 '{"type":"static","routes":[]}')"; same "empty routes"
both ADD "$(conf 1.0.0 '{"type":"static","dns":{"nameservers":[],"domain":"","search":[],"options":[]}}')"
same "empty dns lists and domain are left out"
both ADD "$(conf 1.0.0 '{"type":"static","dns":{"domain":"d","sortlist":["x"]}}')"; same "dns: unknown keys dropped"

section "requested addresses: CNI_ARGS, args, runtimeConfig and their precedence"
ARGS="IP=10.60.0.5/24"
both ADD "$(conf 1.0.0 "$ONE")"; same "CNI_ARGS IP= follows the configured addresses"
ARGS="IP=10.60.0.5/24, 10.61.0.5/16 ,fd00:60::5/64;GATEWAY=10.60.0.1, fd00:60::1,10.61.255.254"
for v in "${REF_VERSIONS[@]}"; do
	both ADD "$(conf "$v" "$EMPTY")"; same "CNI_ARGS IP= list, GATEWAY= to each address whose subnet holds it ($v)"
done
ARGS="IP=10.60.0.5/24;GATEWAY=10.60.0.1,10.60.0.2"; both ADD "$(conf 1.0.0 "$EMPTY")"; same "GATEWAY=: the last that fits wins"
ARGS="GATEWAY=10.10.0.99"; both ADD "$(conf 1.0.0 "$ONE")"; same "GATEWAY= sets no configured address's gateway"
ARGS="IP=10.60.0.5/24;IP=10.62.0.5/24"; both ADD "$(conf 1.0.0 "$EMPTY")"; same "IP= twice: the later counts"
ARGS="IP=;GATEWAY="; both ADD "$(conf 1.0.0 "$ONE")"; same "empty IP= and GATEWAY="
ARGS="IgnoreUnknown=1;K8S_POD_NAME=p;K8S_POD_NAMESPACE=ns;IP=10.60.0.5/24"
both ADD "$(conf 1.0.0 "$ONE")"; same "IgnoreUnknown=1 with the keys kubelet sends"
ARGS="IgnoreUnknown=true;FOO=bar"; both ADD "$(conf 1.0.0 "$ONE")"; same "IgnoreUnknown=true"
ARGS="IP=10.60.0.5/24"
ARGSCNI='. + {args: {cni: {ips: ["10.70.0.5/24", "fd00:70::5/64"]}}}'
RUNTIME='. + {runtimeConfig: {ips: ["10.80.0.5/24"]}}'
both ADD "$(conf 1.0.0 "$ONE" "$ARGSCNI")"; same "args.cni.ips replace addresses and CNI_ARGS IP="
both ADD "$(conf 1.0.0 "$ONE" "$ARGSCNI | $RUNTIME")"; same "runtimeConfig.ips replace all the others"
both ADD "$(conf 1.0.0 "$ONE" "$RUNTIME")"; same "runtimeConfig.ips replace addresses and CNI_ARGS IP="
ARGS=
both ADD "$(conf 1.0.0 "$ONE" '. + {runtimeConfig: {ips: []}, args: {cni: {ips: []}}}')"; same "empty lists replace nothing"
both ADD "$(conf 1.0.0 "$ONE" '. + {args: {cni: {}}, runtimeConfig: {}}')"; same "args.cni and runtimeConfig without ips"
both ADD "$(conf 1.0.0 "$ONE" '. + {args: {other: 1}, runtimeConfig: {mac: "02:00:00:00:00:01"}}')"; same "other args and capabilities"
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"nope"}]}' "$RUNTIME")"
same "a bad configured address is not read when runtimeConfig.ips replace it"
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"nope"}]}' "$ARGSCNI")"
same "... nor when args.cni.ips replace it"
for v in "${REF_VERSIONS[@]}"; do
	c=$(conf "$v" "$ONE" "$RUNTIME")
	both ADD "$c"; same "runtimeConfig.ips ($v)"
	[ "$v" = 0.3.0 ] || [ "$v" = 0.3.1 ] && continue
	both CHECK "$(jq -c --argjson p "$ROUT" '. + {prevResult: $p}' <<<"$c")"; same "CHECK runtimeConfig.ips ($v)"
done

section "CHECK"
c=$(conf 1.0.0 "$ONE")
both CHECK "$c"; same_err "CHECK without prevResult" 7 prevResult
prev='{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/x"}],"ips":[{"interface":0,"address":"10.10.0.5/24","gateway":"10.10.0.1"}]}'
both CHECK "$(jq -c --argjson p "$prev" '. + {prevResult: $p}' <<<"$c")"; same "CHECK against a macvlan's result"
both CHECK "$(jq -c --argjson p "$prev" '. + {prevResult: ($p | .ips[0].address = "10.10.0.5/16")}' <<<"$c")"
same "CHECK compares addresses, not prefix lengths"
both CHECK "$(jq -c --argjson p "$prev" '. + {prevResult: ($p | .ips[0].gateway = "10.10.0.2")}' <<<"$c")"
same_err "CHECK: another gateway in prevResult" 7 10.10.0.5 10.10.0.2 10.10.0.1
both CHECK "$(jq -c --argjson p "$prev" '. + {prevResult: ($p | del(.ips[0].gateway))}' <<<"$c")"
same_err "CHECK: no gateway in prevResult" 7 10.10.0.5
both CHECK "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5/24"}]}' ". + {prevResult: ($prev | .ips[0].gateway = \"10.10.0.2\")}")"
same "CHECK: an address configured without gateway takes any"
# On purpose: the reference passes a CHECK whose prevResult lacks a configured address
# (it only compares the gateways of the addresses it finds); ucni's CHECK fails then.
both CHECK "$(jq -c --argjson p "$prev" '. + {prevResult: ($p | .ips[0].address = "10.10.0.6/24")}' <<<"$c")"
check_eq "CHECK: an address missing from prevResult (the reference passes it)" "0" "$RRC"
check_match "... ucni fails it with code 7, naming the address" \
	'^1 7 .*10\.10\.0\.5.*not in prevResult' "$URC $(jq -r '"\(.code) \(.msg)"' <<<"$UOUT")"

section "bad configs and environments"
# On purpose: a gateway of the other family is refused (the reference prints it, and a
# plugin reading that result, ucni's among them, refuses it or cannot set it up).
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5/24","gateway":"fd00::1"}]}')"
check_eq "an IPv6 gateway for an IPv4 address: the reference prints it" "0" "$RRC"
check_match "... ucni refuses it with code 7, naming the key" '^1 7 .*ipam.addresses\[0\].gateway.*fd00::1' \
	"$URC $(jq -r '"\(.code) \(.msg)"' <<<"$UOUT")"
both ADD "$(conf 1.0.0 '{"type":"static","routes":[{"dst":"0.0.0.0/0","gw":"fd00::1"}]}')"
check_eq "a route whose gw is of the other family: the reference prints it" "0" "$RRC"
check_match "... ucni refuses it with code 7, naming the route" '^1 7 .*ipam.routes\[0\].*gw' \
	"$URC $(jq -r '"\(.code) \(.msg)"' <<<"$UOUT")"
ARGS=
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5"}]}')"
same_err "address without a prefix length" 7 'ipam.addresses[0].address' 10.10.0.5
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"gateway":"10.10.0.1"}]}')"
same_err "address missing" 7 'ipam.addresses[0].address'
for a in 10.10.0.256/24 10.10.0.5/33 fd00::5/129 '10.10.0.5/ 24' ' 10.10.0.5/24' 010.10.0.5/24 fe80::1%eth0/64 10.10.0.5/-1; do
	both ADD "$(conf 1.0.0 "{\"type\":\"static\",\"addresses\":[{\"address\":\"$a\"}]}")"
	same_err "address \"$a\"" 7 'ipam.addresses[0].address' "$a"
done
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"10.10.0.5/24","gateway":"10.10.0.300"}]}')"
same_err "bad gateway" 7 'ipam.addresses[0].gateway' 10.10.0.300
both ADD "$(conf 1.0.0 '{"type":"static","addresses":[{"address":10}]}')"
same_err "address of the wrong type" 7 'ipam.addresses[0].address'
both ADD "$(conf 1.0.0 '{"type":"static","addresses":{"address":"10.10.0.5/24"}}')"
same_err "addresses not a list" 7 'ipam.addresses'
both ADD "$(conf 1.0.0 '{"type":"static","routes":[{"dst":"10.40.0.0"}]}')"
same_err "route dst without a prefix length" 7 'ipam.routes[0]' dst
both ADD "$(conf 1.0.0 '{"type":"static","routes":[{"dst":"10.40.0.0/16","gw":"nope"}]}')"
same_err "bad route gw" 7 'ipam.routes[0]' gw
both ADD "$(conf 1.0.0 '{"type":"static","dns":{"nameservers":"10.10.0.53"}}')"
same_err "dns nameservers not a list" 7 'ipam.dns.nameservers'
both ADD "$(conf 1.0.0 '{"type":"static","dns":[]}')"
same_err "dns not an object" 7 'ipam.dns'
both ADD '{"cniVersion":"1.0.0","name":"n","type":"macvlan"}'; same_err "no ipam section" 7 '"ipam" is missing'
both ADD '{"cniVersion":"1.0.0","name":"n","ipam":null}'; same_err "ipam null" 7 '"ipam" is missing'
both ADD "$(conf 1.0.0 "$ONE" '. + {runtimeConfig: {ips: ["10.80.0.5"]}}')"
same_err "runtimeConfig.ips entry without a prefix length" 7 'runtimeConfig.ips[0]' 10.80.0.5
both ADD "$(conf 1.0.0 "$ONE" '. + {args: {cni: {ips: ["10.70.0.5/24", "x"]}}}')"
same_err "args.cni.ips bad entry" 7 'args.cni.ips[1]' '"x"'
both ADD "$(conf 1.0.0 "$ONE" '. + {runtimeConfig: {ips: "10.80.0.5/24"}}')"
same_err "runtimeConfig.ips not a list" 7 'runtimeConfig.ips'
both ADD "$(conf 1.0.0 "$ONE" '. + {args: {cni: {ips: [1]}}}')"
same_err "args.cni.ips entry not a string" 7 'args.cni.ips[0]'
ARGS="IP=10.60.0.5"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS IP= without a prefix length" 4 'IP value "10.60.0.5"'
ARGS="IP=10.60.0.5/24,"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS IP= with an empty item" 4 'IP value ""'
ARGS="IP=10.60.0.5/24;GATEWAY=gw"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS GATEWAY= not an address" 4 'GATEWAY value "gw"'
ARGS="K8S_POD_NAME=p"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS unknown key" 2 K8S_POD_NAME IgnoreUnknown
ARGS="ip=10.60.0.5/24"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS keys are case-sensitive" 2 '"ip"'
ARGS="IP"; both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_ARGS pair without =" 4 'invalid pair "IP"'
ARGS="IP=10.60.0.5/24"
both CHECK "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"bad"}]}' ". + {prevResult: $prev}")"
same_err "CHECK reads the config as ADD does" 7 'ipam.addresses[0].address'
ARGS=
both ADD 'nope'; same_err "not JSON" 6
both ADD ''; same_err "empty stdin" 6
both ADD '{"cniVersion":"1.0.0","ipam":{"type":"static"}}'; same_err "name missing" 7 name
both ADD '{"cniVersion":"0.5.0","name":"n","ipam":{"type":"static"}}'; same_err "unknown cniVersion" 1
for verb in ADD CHECK DEL; do
	c=$(conf 1.0.0 "$ONE" ". + {prevResult: $prev}")
	ENVX=(CNI_CONTAINERID=); both "$verb" "$c"; same_err "$verb without CNI_CONTAINERID" 4 CNI_CONTAINERID
	ENVX=(CNI_IFNAME=); both "$verb" "$c"; same_err "$verb without CNI_IFNAME" 4 CNI_IFNAME
	ENVX=(CNI_PATH=); both "$verb" "$c"; same_err "$verb without CNI_PATH" 4 CNI_PATH
done
ENVX=(CNI_NETNS=); both ADD "$(conf 1.0.0 "$ONE")"; same_err "ADD without CNI_NETNS" 4 CNI_NETNS
ENVX=(CNI_NETNS=); both DEL "$(conf 1.0.0 "$ONE")"; same "DEL without CNI_NETNS"
ENVX=(CNI_IFNAME=a/b); both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_IFNAME with a /" 4 CNI_IFNAME
ENVX=(CNI_CONTAINERID=a:b); both ADD "$(conf 1.0.0 "$ONE")"; same_err "CNI_CONTAINERID with a :" 4 CNI_CONTAINERID
ENVX=(CNI_COMMAND=FOO); both ADD "$(conf 1.0.0 "$ONE")"; same_err "unknown CNI_COMMAND" 4 FOO
ENVX=()
both DEL "$(conf 1.0.0 '{"type":"static","addresses":[{"address":"bad"}],"routes":7}')"
same "DEL reads no addresses: nothing to release"
both VERSION ''
check_eq "VERSION: every version the reference has (from 0.3.0), and 1.1.0" \
	"$(jq -c '[.supportedVersions[] | select(startswith("0.1") or startswith("0.2") | not)] + ["1.1.0"]' <<<"$ROUT")" \
	"$(jq -c .supportedVersions <<<"$UOUT")"
about=$(env -i "$UCNI" 2>&1 </dev/null); rc=$?
check_match "no CNI_COMMAND: the about text, exit 0" '^0 ucni static' "$rc $about"

# ---------------------------------------------------------------------------
# conf/macvlan-static.conflist with ucni alone on CNI_PATH: macvlan runs ucni's static.
#   gw ns: gw0 198.51.100.1/24 ─── m0 (veth, the master) in node ns ─── eth0 (macvlan) in pod
section "end to end: conf/macvlan-static.conflist, ucni alone"
if [ "$(id -u)" -ne 0 ]; then
	skip "end to end" "needs root (namespaces)"
	finish
fi
NODE=$(mkns node) && GW=$(mkns gw) && POD=$(mkns pod) || { fail "creating namespaces"; finish; }
ip link add m0 netns "$NODE" type veth peer name gw0 netns "$GW"
ip -n "$NODE" link set m0 up
ip -n "$GW" link set gw0 up
ip -n "$GW" addr add 198.51.100.1/24 dev gw0
# As libcni does: the plugin gets the list's name and cniVersion; the master is the veth.
c=$(jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion} | .master = "m0" | .mode = "bridge"' \
	"$UCNI_TOP/conf/macvlan-static.conflist")
check_eq "the example's IPAM is static" static "$(jq -r .ipam.type <<<"$c")"
CNI_PATH_OVERRIDE=$UCNI_BIN CNI_NODE=$NODE cni ADD "$UCNI_BIN/macvlan" "$POD" eth0 e2e <<<"$c"
expect_ok "ADD with CNI_PATH=$UCNI_BIN only"
res=$CNI_OUT
check_eq "result: the example's address and gateway on eth0" "198.51.100.20/24 198.51.100.1 0" \
	"$(jq -r '.ips[0] | "\(.address) \(.gateway) \(.interface)"' <<<"$res")"
check_eq "result: the example's route and name server" "0.0.0.0/0 198.51.100.53" \
	"$(jq -r '"\(.routes[0].dst) \(.dns.nameservers[0])"' <<<"$res")"
check_match "the pod's eth0 has the address" "inet 198\.51\.100\.20/24" "$(ip -n "$POD" -o -4 addr show dev eth0)"
check_match "the pod's default route goes through the gateway" "default via 198\.51\.100\.1 dev eth0" \
	"$(ip -n "$POD" route show default)"
check "the pod reaches the gateway" ip netns exec "$POD" ping -c1 -W5 198.51.100.1
CNI_PATH_OVERRIDE=$UCNI_BIN CNI_NODE=$NODE cni CHECK "$UCNI_BIN/macvlan" "$POD" eth0 e2e \
	<<<"$(jq -c --argjson p "$res" '. + {prevResult: $p}' <<<"$c")"
expect_ok "CHECK"
CNI_PATH_OVERRIDE=$UCNI_BIN CNI_NODE=$NODE cni DEL "$UCNI_BIN/macvlan" "$POD" eth0 e2e \
	<<<"$(jq -c --argjson p "$res" '. + {prevResult: $p}' <<<"$c")"
expect_ok "DEL"
check_eq "the pod has only lo left" "lo" "$(ip -n "$POD" -o link | awk -F': ' '{print $2}' | xargs)"

finish
