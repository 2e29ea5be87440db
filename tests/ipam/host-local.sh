#!/bin/bash
# host-local against the reference: the same request sequences run through ucni's
# host-local and Debian's (/usr/lib/cni/host-local), each with a store of its own; after
# every step the results are compared field by field (jq -S), a failure's message with the
# reference's (its code is the spec's specific one where the reference says 999), and the
# two stores file by file (diff -r). Then what only ucni has: the switch-over between the
# two binaries on one store in both directions, 16 parallel ADDs, kill -9 at every write
# step (a FAULTS=1 build), GC and STATUS (CNI 1.1), and the rules for tenant-named paths
# (dataDir, the network name, resolvConf), and macvlan with ucni's host-local alone.
#
#   $T_TMP/ref/<net>   the reference's store        $T_TMP/ucni/<net>   ucni's store
#   $T_TMP/etc         configDirs of the node settings ($T_TMP/node.json): resolv.conf files
#   $T_TMP             dataDirs of the node settings: every store of the suite beneath it
#   node netns: m0 (veth master) ── macvlan eth0 in the pod netns     (the last section only)
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

HL=$UCNI_BIN/host-local REF=$REF_CNI/host-local
for b in "$HL" "$REF"; do
	[ -x "$b" ] || { fail "built" "$b missing"; finish; }
done
CFGDIR=$T_TMP/etc
mkdir -p "$CFGDIR" "$T_TMP/ref" "$T_TMP/ucni"
echo "{\"configDirs\": [\"$CFGDIR\"], \"dataDirs\": [\"$T_TMP\"]}" >"$T_TMP/node.json"
export UCNI_NODE_CONFIG=$T_TMP/node.json

# hl PLUGIN VERB CID IFNAME CONF [ENV…] — out in $OUT, exit status in $RC
hl() {
	local plugin=$1 verb=$2 cid=$3 ifname=$4 conf=$5
	shift 5
	OUT=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" \
		CNI_NETNS=/var/run/netns/none CNI_IFNAME="$ifname" CNI_PATH="$UCNI_BIN:$REF_CNI" \
		UCNI_NODE_CONFIG="$UCNI_NODE_CONFIG" "$@" "$plugin" <<<"$conf" 2>"$T_TMP/stderr")
	RC=$?
}

# The config template with @DIR@ as the store's dataDir.
conf_for() { echo "${1//@DIR@/$2}"; }

# both WHAT VERB CID IFNAME CONF [ENV…] — run both; compare status, result or message, stores.
# UCODE: the code ucni must give where the reference fails (default: any). NOMSG=1: the
# messages are lib/cni's own (version and CNI_ARGS checks), not compared. NOLAST=1: the
# stores are compared without their last_reserved_ip.N files.
UCODE= NOMSG= NOLAST=
both() {
	local what=$1 verb=$2 cid=$3 ifname=$4 conf=$5
	shift 5
	hl "$REF" "$verb" "$cid" "$ifname" "$(conf_for "$conf" "$T_TMP/ref")" "$@"
	local rout=$OUT rrc=$RC
	hl "$HL" "$verb" "$cid" "$ifname" "$(conf_for "$conf" "$T_TMP/ucni")" "$@"
	local uout=$OUT urc=$RC
	if [ "$rrc" != "$urc" ]; then
		fail "$what" "exit status: reference $rrc, ucni $urc (ref: $rout; ucni: $uout)"
	elif [ "$rrc" = 0 ] && [ -n "$rout$uout" ] && [ "$(jq -S . <<<"$rout")" != "$(jq -S . <<<"$uout")" ]; then
		fail "$what" "results differ: reference $(jq -c . <<<"$rout"), ucni $(jq -c . <<<"$uout")"
	elif [ "$rrc" = 0 ] && [ -n "$uout" ] && [ -z "$rout" ]; then
		fail "$what" "ucni printed $uout, the reference nothing"
	elif [ "$rrc" != 0 ] && [ -z "$NOMSG" ] && [[ "$(jq -r .msg <<<"$uout")" != "$(jq -r .msg <<<"$rout")"* ]]; then
		fail "$what" "messages differ: reference '$(jq -r .msg <<<"$rout")', ucni '$(jq -r .msg <<<"$uout")'"
	elif [ "$rrc" != 0 ] && [ -n "$UCODE" ] && [ "$(jq -r .code <<<"$uout")" != "$UCODE" ]; then
		fail "$what" "ucni's code $(jq -r .code <<<"$uout"), want $UCODE"
	elif ! d=$(diff -r ${NOLAST:+-x 'last_reserved_ip.*'} "$T_TMP/ref" "$T_TMP/ucni" 2>&1); then
		fail "$what" "stores differ: $(echo "$d" | head -n4 | tr '\n' ' ')"
	else
		ok "$what${UCODE:+ (ucni code $UCODE)}"
	fi
	UOUT=$uout
}

reset_stores() { rm -rf "$T_TMP/ref" "$T_TMP/ucni"; mkdir -p "$T_TMP/ref" "$T_TMP/ucni"; }

section "ADD, DEL, CHECK, repeats, exhaustion: IPv4, legacy single range"
C='{"cniVersion": "1.0.0", "name": "n4", "ipam": {"type": "host-local", "dataDir": "@DIR@", "subnet": "10.9.0.0/29", "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.10.0.0/16", "gw": "10.9.0.6"}]}}'
for i in 1 2 3 4 5; do both "ADD c$i" ADD c$i eth0 "$C"; done
check_eq "the fifth address is 10.9.0.6" "10.9.0.6/29" "$(jq -r '.ips[0].address' <<<"$UOUT")"
UCODE=11 both "ADD c6: no address left" ADD c6 eth0 "$C"
UCODE=11 both "ADD c1 again: duplicate allocation" ADD c1 eth0 "$C"
both "CHECK c1" CHECK c1 eth0 "$C"
UCODE=3 both "CHECK c1 on another ifname" CHECK c1 eth1 "$C"
UCODE=3 both "CHECK of an unknown container" CHECK c9 eth0 "$C"
both "DEL c3" DEL c3 eth0 "$C"
both "DEL c3 again" DEL c3 eth0 "$C"
both "DEL of an unknown container" DEL c9 eth0 "$C"
UCODE=3 both "CHECK c3 after its DEL" CHECK c3 eth0 "$C"
both "ADD c7: the freed address, round robin" ADD c7 eth0 "$C"
check_eq "c7 got 10.9.0.4" "10.9.0.4/29" "$(jq -r '.ips[0].address' <<<"$UOUT")"
both "DEL c1, c2" DEL c1 eth0 "$C"
both "DEL c2" DEL c2 eth0 "$C"
both "ADD c8: after the last reserved, round to the start" ADD c8 eth0 "$C"
check_eq "c8 got 10.9.0.2" "10.9.0.2/29" "$(jq -r '.ips[0].address' <<<"$UOUT")"
both "ADD c1 on eth1 (another attachment of c1)" ADD c1 eth1 "$C"
both "DEL c1 eth0 leaves c1 eth1" DEL c1 eth0 "$C"
both "CHECK c1 eth1" CHECK c1 eth1 "$C"

section "every version: 0.3.0, 0.3.1, 0.4.0, 1.0.0"
for v in 0.3.0 0.3.1 0.4.0 1.0.0; do
	V=${C/1.0.0/$v}
	both "$v: DEL c8" DEL c8 eth0 "$V"
	both "$v: ADD c8" ADD c8 eth0 "$V"
	[ "$v" = 0.3.0 ] || [ "$v" = 0.3.1 ] || both "$v: CHECK c8" CHECK c8 eth0 "$V"
done
NOMSG=1 UCODE=1 both "0.3.1: CHECK is refused" CHECK c8 eth0 "${C/1.0.0/0.3.1}"

section "IPv6, dual stack, several ranges in a set, custom start, end and gateway"
reset_stores
C='{"cniVersion": "0.4.0", "name": "dual", "ipam": {"type": "host-local", "dataDir": "@DIR@", "ranges": [
	[{"subnet": "10.20.0.0/30"}, {"subnet": "10.20.1.0/24", "rangeStart": "10.20.1.10", "rangeEnd": "10.20.1.12", "gateway": "10.20.1.11"}],
	[{"subnet": "fd00:20::/120", "rangeStart": "fd00:20::fe"}]]}}'
for i in 1 2 3 4; do both "dual ADD d$i" ADD d$i eth0 "$C"; done
UCODE=11 both "dual ADD d5: the IPv4 set is used up; nothing of d5 stays" ADD d5 eth0 "$C"
both "dual DEL d2" DEL d2 eth0 "$C"
both "dual ADD d6" ADD d6 eth0 "$C"
both "dual CHECK d6" CHECK d6 eth0 "$C"
C6='{"cniVersion": "1.0.0", "name": "six", "ipam": {"type": "host-local", "dataDir": "@DIR@", "ranges": [[{"subnet": "2001:db8:0:1::/64"}]], "routes": [{"dst": "::/0"}]}}'
for i in 1 2 3; do both "IPv6 ADD s$i" ADD s$i eth0 "$C6"; done
both "IPv6 DEL s2" DEL s2 eth0 "$C6"
both "IPv6 ADD s4" ADD s4 eth0 "$C6"

section "requested addresses: CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips"
reset_stores
R='{"cniVersion": "1.0.0", "name": "req", "ipam": {"type": "host-local", "dataDir": "@DIR@", "ranges": [[{"subnet": "10.30.0.0/24"}], [{"subnet": "fd00:30::/64"}]]}@EXTRA@}'
req() { local e=$1; e=${R/@EXTRA@/$e}; echo "$e"; }
both "CNI_ARGS IP=10.30.0.9" ADD r1 eth0 "$(req '')" CNI_ARGS=IP=10.30.0.9
check_eq "r1 got 10.30.0.9" "10.30.0.9/24" "$(jq -r '.ips[0].address' <<<"$UOUT")"
both "args.cni.ips, both families" ADD r2 eth0 "$(req ', "args": {"cni": {"ips": ["10.30.0.20", "fd00:30::20"]}}')"
both "runtimeConfig.ips with prefixes" ADD r3 eth0 "$(req ', "runtimeConfig": {"ips": ["10.30.0.21/24"]}')"
UCODE=11 both "a requested address that is taken" ADD r4 eth0 "$(req ', "runtimeConfig": {"ips": ["10.30.0.21"]}')"
UCODE=7 both "the gateway requested" ADD r5 eth0 "$(req ', "args": {"cni": {"ips": ["10.30.0.1"]}}')"
UCODE=7 both "an address outside every range" ADD r6 eth0 "$(req ', "args": {"cni": {"ips": ["10.31.0.5"]}}')"
# Which of the two addresses the reference reserves first, and so names in its message and
# leaves in last_reserved_ip.0, varies from run to run (it keeps the requests in a Go map):
# the message and that file are checked on their own.
UCODE=7 NOMSG=1 NOLAST=1 both "two addresses of one range set" ADD r7 eth0 "$(req ', "args": {"cni": {"ips": ["10.30.0.40", "10.30.0.41"]}}')"
check_match "  ... the message names one of the two" '^failed to allocate all requested IPs: 10\.30\.0\.4[01]$' "$(jq -r .msg <<<"$UOUT")"
check_match "  ... last_reserved_ip.0 is one of the two" '^10\.30\.0\.4[01]$' "$(cat "$T_TMP/ucni/req/last_reserved_ip.0")"
both "the same address from two sources counts once" ADD r8 eth0 "$(req ', "args": {"cni": {"ips": ["10.30.0.50"]}}')" CNI_ARGS=IP=10.30.0.50
both "the next ADD after a requested one continues after it" ADD r9 eth0 "$(req '')"
check_eq "r9 got 10.30.0.51" "10.30.0.51/24" "$(jq -r '.ips[0].address' <<<"$UOUT")"
NOMSG=1 UCODE=2 both "CNI_ARGS with an unknown key" ADD r10 eth0 "$(req '')" "CNI_ARGS=FOO=1"
both "CNI_ARGS with an unknown key and IgnoreUnknown" ADD r10 eth0 "$(req '')" "CNI_ARGS=IgnoreUnknown=1;FOO=1"

both "runtimeConfig.ipRanges: range sets before the config's" ADD r11 eth0 "$(req ', "runtimeConfig": {"ipRanges": [[{"subnet": "10.31.0.0/24"}]]}')"
check_eq "r11 got an address of 10.31.0.0/24 first" "10.31.0.2/24 3" "$(jq -r '"\(.ips[0].address) \(.ips | length)"' <<<"$UOUT")"

section "bad configs: the reference's message, code 7"
reset_stores
bad=(
	'"subnet": "10.9.0.0/31"'
	'"subnet": "10.9.0.1/24"'
	'"subnet": "fd00::/127"'
	'"ranges": [[{"subnet": "10.8.0.0/24", "rangeStart": "10.7.0.1"}]]'
	'"ranges": [[{"subnet": "10.8.0.0/24", "rangeEnd": "10.8.1.7"}]]'
	'"ranges": [[{"subnet": "10.8.0.0/24", "rangeStart": "10.8.0.9", "rangeEnd": "10.8.0.3"}]]'
	'"ranges": [[{"subnet": "10.8.0.0/24"}], [{"subnet": "10.8.0.0/25"}]]'
	'"ranges": [[{"subnet": "10.8.0.0/24"}, {"subnet": "10.8.0.128/25"}]]'
	'"ranges": [[{"subnet": "10.8.0.0/24"}, {"subnet": "fd::/64"}]]'
	'"ranges": [[]]'
	'"ranges": []'
	'"ranges": [[{"gateway": "10.0.0.1"}]]'
	'"subnet": "nope"'
)
for b in "${bad[@]}"; do
	UCODE=7 both "bad: ${b:0:70}" ADD b1 eth0 "{\"cniVersion\": \"1.0.0\", \"name\": \"bad\", \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"@DIR@\", $b}}"
done
UCODE=7 both "bad: no ranges at all" ADD b1 eth0 '{"cniVersion": "1.0.0", "name": "bad", "ipam": {"type": "host-local", "dataDir": "@DIR@"}}'
UCODE=7 both "bad: DEL with a bad config fails too" DEL b1 eth0 '{"cniVersion": "1.0.0", "name": "bad", "ipam": {"type": "host-local", "dataDir": "@DIR@", "subnet": "10.9.0.0/31"}}'

section "resolvConf: dns from a file below configDirs"
reset_stores
printf '# a comment\n; another\nnameserver 10.0.0.53\nnameserver   fd00::53  extra\ndomain first.example\nsearch a.example b.example\n  options ndots:2 timeout:1\ndomain cluster.local\nsortlist 1.2.3.4\nnameserver\n' >"$CFGDIR/resolv.conf"
D='{"cniVersion": "1.0.0", "name": "dns", "ipam": {"type": "host-local", "dataDir": "@DIR@", "subnet": "10.40.0.0/24", "resolvConf": "@RC@"}}'
both "ADD with resolvConf" ADD e1 eth0 "${D//@RC@/$CFGDIR/resolv.conf}"
check_eq "dns as the reference reads it" '{"domain":"cluster.local","nameservers":["10.0.0.53","fd00::53"],"options":["ndots:2","timeout:1"],"search":["a.example","b.example"]}' "$(jq -cS .dns <<<"$UOUT")"
: >"$CFGDIR/empty.conf"
both "ADD with an empty resolvConf" ADD e2 eth0 "${D//@RC@/$CFGDIR/empty.conf}"
# Only ucni from here: the reference reads any file.
printf 'nameserver 10.66.0.1\n' >"$T_TMP/outside.conf"
hl "$HL" ADD e3 eth0 "$(conf_for "${D//@RC@/$T_TMP/outside.conf}" "$T_TMP/ucni")"
check_match "resolvConf outside configDirs: code 7 naming the key and the directories" \
	'"code":7.*ipam.resolvConf.*'"$CFGDIR" "$(jq -c . <<<"$OUT")"
ln -s "$T_TMP/outside.conf" "$CFGDIR/link.conf"
hl "$HL" ADD e3 eth0 "$(conf_for "${D//@RC@/$CFGDIR/link.conf}" "$T_TMP/ucni")"
check_eq "resolvConf through a symbolic link: code 7" 7 "$(jq -r .code <<<"$OUT")"
mkfifo "$CFGDIR/fifo.conf"
start=$SECONDS
hl "$HL" ADD e3 eth0 "$(conf_for "${D//@RC@/$CFGDIR/fifo.conf}" "$T_TMP/ucni")"
check_eq "resolvConf naming a FIFO: code 7, at once" "7 fast" "$(jq -r .code <<<"$OUT") $([ $((SECONDS - start)) -lt 5 ] && echo fast)"
check_eq "no reservation was left by the refused ADDs" "" "$(cd "$T_TMP/ucni/dns" && grep -l e3 -- * 2>/dev/null)"

section "the switch-over: one store, the two binaries in turn"
reset_stores
S='{"cniVersion": "1.0.0", "name": "sw", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/shared", "ranges": [[{"subnet": "10.50.0.0/28"}], [{"subnet": "fd00:50::/124"}]]}}'
declare -A seen=()
dup=0
take() { # PLUGIN CID
	hl "$1" ADD "$2" eth0 "$S"
	[ "$RC" = 0 ] || { fail "switch-over: ADD $2 with $(basename "$(dirname "$1")")" "$OUT"; return; }
	local a
	for a in $(jq -r '.ips[].address' <<<"$OUT"); do
		[ -n "${seen[$a]:-}" ] && dup=$((dup + 1))
		seen[$a]=$2
	done
}
drop() { hl "$1" DEL "$2" eth0 "$S"; local a; for a in "${!seen[@]}"; do [ "${seen[$a]}" = "$2" ] && unset "seen[$a]"; done; }
take "$REF" w1; take "$REF" w2; take "$HL" w3; take "$HL" w4; take "$REF" w5
check_eq "reference, then ucni, then the reference: in order" "10.50.0.2 10.50.0.3 10.50.0.4 10.50.0.5 10.50.0.6" \
	"$(for c in w1 w2 w3 w4 w5; do for a in "${!seen[@]}"; do [ "${seen[$a]}" = $c ] && [[ $a == 10.* ]] && echo "${a%/*}"; done; done | tr '\n' ' ' | sed 's/ $//')"
hl "$HL" CHECK w1 eth0 "$S"
check_eq "ucni's CHECK finds the reference's reservation" 0 "$RC"
hl "$REF" CHECK w3 eth0 "$S"
check_eq "the reference's CHECK finds ucni's reservation" 0 "$RC"
drop "$HL" w2
drop "$REF" w4
hl "$REF" CHECK w4 eth0 "$S"
check_eq "the reference DELs ucni's reservation" 1 "$RC"
for i in $(seq 6 15); do
	if ((i % 2)); then take "$HL" w$i; else take "$REF" w$i; fi
done
check_eq "alternating until the set is used up: no address handed out twice" 0 "$dup"
hl "$HL" ADD w16 eth0 "$S"
check_match "then ucni says none is left, as the reference would" "no IP addresses available in range set: 10.50.0.1-10.50.0.14" "$(jq -r .msg <<<"$OUT")"
hl "$REF" ADD w16 eth0 "$S"
check_match "and the reference too" "no IP addresses available" "$(jq -r .msg <<<"$OUT")"
for i in $(seq 1 15); do
	if ((i % 2)); then drop "$REF" w$i; else drop "$HL" w$i; fi
done
check_eq "everything released, by either" "last_reserved_ip.0 last_reserved_ip.1 lock" "$(ls "$T_TMP/shared/sw" | tr '\n' ' ' | sed 's/ $//')"

section "16 parallel ADDs on one network"
P='{"cniVersion": "1.0.0", "name": "par", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/par", "ranges": [[{"subnet": "10.60.0.0/24"}], [{"subnet": "fd00:60::/64"}]]}}'
parallel_adds() { # LABEL PLUGIN-FOR-ODD PLUGIN-FOR-EVEN
	local pids=() i
	rm -rf "$T_TMP/par" "$T_TMP/par-out"
	mkdir -p "$T_TMP/par-out"
	for i in $(seq 1 16); do
		local p=$2
		((i % 2)) || p=$3
		(hl "$p" ADD p$i eth0 "$P"; echo "$RC $(jq -c . <<<"$OUT")" >"$T_TMP/par-out/$i") &
		pids+=($!)
	done
	wait "${pids[@]}"
	check_eq "$1: 16 ADDs succeed" "16 " "$(grep -l '^0 ' "$T_TMP"/par-out/* | wc -l) $(grep -h -v '^0 ' "$T_TMP"/par-out/* | tr -d '\n')"
	check_eq "$1: 32 distinct addresses" 32 "$(cut -d' ' -f2- "$T_TMP"/par-out/* | jq -r '.ips[].address' | sort -u | wc -l)"
	check_eq "$1: 32 reservations on disk" 32 "$(ls "$T_TMP/par/par" | grep -c -v -e lock -e last_reserved)"
}
# Each round on a store that does not exist yet: the processes race to make it, too.
for round in 1 2 3; do
	parallel_adds "ucni, round $round" "$HL" "$HL"
	parallel_adds "ucni and the reference mixed, round $round" "$HL" "$REF"
done

section "kill -9 at every write step: a reservation is complete or absent"
# A reservation is written to a temp file and renamed (write-*#1 the first range set's,
# #2 the second's); last_reserved_ip.N is rewritten in place (hostlocal-hint-written).
if make --no-print-directory FAULTS=1 build/fault/bin/host-local >"$T_TMP/build.log" 2>&1; then
	FHL=$UCNI_TOP/build/fault/bin/host-local
	K='{"cniVersion": "1.0.0", "name": "kill", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/kill", "ranges": [[{"subnet": "10.70.0.0/24"}], [{"subnet": "fd00:70::/64"}]]}}'
	whole() { # every address file holds "<id>\r\n<ifname>", no other file but lock, last_reserved_ip.N and the temp file
		local f bad=0
		for f in "$T_TMP/kill/kill"/*; do
			case ${f##*/} in
			lock | last_reserved_ip.*) ;;
			*) [[ "$(cat "$f"; echo .)" =~ ^(ok|uk|k)[0-9]+$'\r'$'\n'eth0\.$ ]] || { bad=1; echo "${f##*/}" >&2; } ;;
			esac
		done
		echo $bad
	}
	n=0
	for p in write-tmp-created write-tmp-half write-tmp-written write-synced write-renamed hostlocal-reserved \
		write-tmp-created#2 write-tmp-half#2 write-renamed#2 hostlocal-reserved#2 hostlocal-hint-written \
		hostlocal-hint-written#2; do
		n=$((n + 1))
		hl "$FHL" ADD k$n eth0 "$K" UCNI_FAULT="$p" UCNI_FAULT_KILL=1
		check_eq "killed at $p" 137 "$RC"
		check_eq "killed at $p: every reservation file is whole" 0 "$(whole)"
		hl "$HL" DEL k$n eth0 "$K"
		check_eq "killed at $p: DEL releases what it had" "0 0" "$RC $(grep -l "^k$n" "$T_TMP/kill/kill"/* 2>/dev/null | wc -l)"
		hl "$REF" ADD ok$n eth0 "$K"
		check_eq "killed at $p: the reference ADDs after it" 0 "$RC"
		hl "$HL" ADD uk$n eth0 "$K"
		check_eq "killed at $p: ucni ADDs after it, and leaves no temp file" "0 0" "$RC $(ls -A "$T_TMP/kill/kill" | grep -c tmp)"
	done
	hl "$FHL" ADD f1 eth0 "$K" UCNI_FAULT=write-tmp-half#2
	check_eq "a failed write in the second range set: code 5, the first set's address released" "1 5 0" \
		"$RC $(jq -r .code <<<"$OUT") $(grep -l '^f1' "$T_TMP/kill/kill"/* 2>/dev/null | wc -l)"
else
	fail "building the fault-injection host-local" "$(tail -n5 "$T_TMP/build.log")"
fi

section "GC (CNI 1.1): every reservation not in cni.dev/valid-attachments goes"
G='{"cniVersion": "1.1.0", "name": "gc", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/gc", "ranges": [[{"subnet": "10.80.0.0/24"}], [{"subnet": "fd00:80::/64"}]]}@V@}'
for c in g1 g2 g3; do hl "$HL" ADD $c eth0 "${G/@V@/}"; done
hl "$HL" ADD g1 net1 "${G/@V@/}"
printf 'g4' >"$T_TMP/gc/gc/10.80.0.99" # an older reference's file: the container ID alone
: >"$T_TMP/gc/gc/10.80.0.98"             # a reference ADD killed between create and write
hl "$HL" GC "" "" "${G/@V@/, \"cni.dev/valid-attachments\": [{\"containerID\": \"g1\", \"ifname\": \"eth0\"}, {\"containerID\": \"g3\", \"ifname\": \"eth0\"}, {\"containerID\": \"g4\", \"ifname\": \"eth0\"}]}"
check_eq "GC succeeds" 0 "$RC"
owners() { for f in "$T_TMP/gc/gc"/*; do case ${f##*/} in lock | last_*) ;; *) tr -d '\r' <"$f" | tr '\n' /; echo; ;; esac; done | sort | tr '\n' ' '; }
check_eq "GC kept g1/eth0, g3/eth0 and g4's old file; released g2, g1/net1 and the empty file" \
	"g1/eth0 g1/eth0 g3/eth0 g3/eth0 g4 " "$(owners)"
hl "$HL" GC "" "" "${G/@V@/}"
check_eq "GC without the valid list: code 7, nothing released" "1 7 g1/eth0 g1/eth0 g3/eth0 g3/eth0 g4 " "$RC $(jq -r .code <<<"$OUT") $(owners)"
hl "$HL" GC "" "" "${G/@V@/, \"cni.dev/valid-attachments\": []}"
check_eq "GC with an empty valid list releases everything" "0 " "$RC $(owners)"
hl "$HL" GC "" "" "$(echo "${G/@V@/, \"cni.dev/valid-attachments\": []}" | sed 's/"gc"/"nogc"/')"
check_eq "GC of a network without a store succeeds and makes none" "0 no" "$RC $([ -e "$T_TMP/gc/nogc" ] && echo yes || echo no)"

section "STATUS (CNI 1.1): code 51 when a range set has no address left"
ST='{"cniVersion": "1.1.0", "name": "st", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/st", "ranges": [[{"subnet": "10.90.0.0/30"}], [{"subnet": "fd00:90::/64"}]]}}'
hl "$HL" STATUS "" "" "$ST"
check_eq "STATUS before any store exists: available, nothing made" "0 no" "$RC $([ -e "$T_TMP/st" ] && echo yes || echo no)"
hl "$HL" ADD t1 eth0 "$ST"
hl "$HL" STATUS "" "" "$ST"
check_eq "STATUS with 10.90.0.0/30's one address taken: code 51" "1 51" "$RC $(jq -r .code <<<"$OUT")"
check_match "... naming the range set" "range set 0: 10.90.0.1-10.90.0.2" "$(jq -r .msg <<<"$OUT")"
hl "$HL" DEL t1 eth0 "$ST"
hl "$HL" STATUS "" "" "$ST"
check_eq "STATUS after the DEL: available" 0 "$RC"
hl "$HL" STATUS "" "" "${ST/1.1.0/1.0.0}"
check_eq "STATUS at 1.0.0: code 1" "1 1" "$RC $(jq -r .code <<<"$OUT")"

section "1.1.0 results"
hl "$HL" ADD t2 eth0 "${ST}"
check_eq "ADD at 1.1.0 (IPv6 round robin: after ::2, ::3)" '1.1.0 10.90.0.2/30 10.90.0.1 fd00:90::3/64' "$(jq -r '[.cniVersion, .ips[0].address, .ips[0].gateway, .ips[1].address] | join(" ")' <<<"$OUT")"

section "reads leave the store's access times alone"
# A DEL of an unknown attachment reads every reservation; on ext4 (relatime) a read after
# the file's last change would update its access time, a journalled write of its own.
AT="$T_TMP/st/st/10.90.0.2"
touch -a -d '2001-01-01 00:00:00' "$AT"
hl "$HL" DEL nobody eth0 "$ST"
at_after=$(stat -c %X "$AT")
cat "$AT" >/dev/null
if [ "$(stat -c %X "$AT")" = "$at_after" ]; then
	skip "reservation's access time kept" "this filesystem does not update access times on reads"
else
	check_eq "a DEL reading the reservation kept its access time (2001-01-01)" \
		"0 $(date -d '2001-01-01 00:00:00' +%s)" "$RC $at_after"
fi

section "tenant-named paths: dataDir and the network name"
N='{"cniVersion": "1.0.0", "name": "@NAME@", "ipam": {"type": "host-local", "dataDir": "@DD@", "subnet": "10.99.0.0/24"}}'
nc() { local c=${N//@NAME@/$1}; echo "${c//@DD@/$2}"; }
for name in '..' '.' 'a/b' '../../etc' 'x\ny'; do
	hl "$HL" ADD n1 eth0 "$(nc "$name" "$T_TMP/names")"
	check_match "network name \"$name\": code 7 naming \"name\"" '"code":7.*\\"name\\"' "$(jq -c . <<<"$OUT")"
done
check_eq "nothing made for refused names" "" "$(ls -A "$T_TMP/names" 2>/dev/null)"
hl "$HL" ADD n1 eth0 "$(nc ok relative/dir)"
check_match "a relative dataDir: code 7 naming ipam.dataDir" '"code":7.*ipam.dataDir' "$(jq -c . <<<"$OUT")"
hl "$HL" ADD n1 eth0 "$(nc ok "$T_TMP/x/../y")"
check_match "a dataDir with \"..\": code 7" '"code":7.*ipam.dataDir' "$(jq -c . <<<"$OUT")"
mkdir -p "$T_TMP/dd/open" && chmod 777 "$T_TMP/dd/open"
hl "$HL" ADD n1 eth0 "$(nc open "$T_TMP/dd")"
check_eq "a network directory writable by others: code 5, left as it was" "5 777 0" \
	"$(jq -r .code <<<"$OUT") $(stat -c %a "$T_TMP/dd/open") $(ls -A "$T_TMP/dd/open" | wc -l)"
mkdir -p "$T_TMP/decoy" && echo keep >"$T_TMP/decoy/README"
ln -s "$T_TMP/decoy" "$T_TMP/dd/link"
hl "$HL" ADD n1 eth0 "$(nc link "$T_TMP/dd")"
check_eq "a network directory that is a symbolic link: code 5, nothing written" "5 README" \
	"$(jq -r .code <<<"$OUT") $(ls -A "$T_TMP/decoy" | tr '\n' ' ' | sed 's/ $//')"
hl "$HL" ADD n1 eth0 "$(nc decoy "$T_TMP")"
check_eq "a directory that is not a store (files, no lock): code 5, nothing written" "5 README" \
	"$(jq -r .code <<<"$OUT") $(ls -A "$T_TMP/decoy" | tr '\n' ' ' | sed 's/ $//')"
hl "$HL" DEL n1 eth0 "$(nc decoy "$T_TMP")"
check_eq "DEL there: code 5, nothing removed" "5 README" "$(jq -r .code <<<"$OUT") $(ls -A "$T_TMP/decoy" | tr '\n' ' ' | sed 's/ $//')"
mkdir -p "$T_TMP/dd/empty"
hl "$HL" ADD n1 eth0 "$(nc empty "$T_TMP/dd")"
check_eq "an empty directory of ours becomes the store" "0 10.99.0.2 last_reserved_ip.0 lock" \
	"$RC $(ls "$T_TMP/dd/empty" | tr '\n' ' ' | sed 's/ $//')"
hl "$HL" ADD n2 eth0 "$(nc new "$T_TMP/dd/a/b")"
check_eq "missing directories are made 0755 (the reference's), files 0600" "0 755 600 600" \
	"$RC $(stat -c %a "$T_TMP/dd/a/b/new") $(stat -c %a "$T_TMP/dd/a/b/new/10.99.0.2") $(stat -c %a "$T_TMP/dd/a/b/new/lock")"

section "dataDir only where the node allows it (node setting dataDirs)"
# $T_TMP/allowed is the only data directory of these node settings; $T_TMP/escaped* must stay absent.
mkdir -p "$T_TMP/allowed" "$T_TMP/outside"
echo "{\"dataDirs\": [\"$T_TMP/allowed\"]}" >"$T_TMP/node-dd.json"
DD='{"cniVersion": "1.0.0", "name": "dd", "ipam": {"type": "host-local", "dataDir": "@DD@", "subnet": "10.99.1.0/24"}}'
dd() { # dd WHAT DATADIR [VERB] — code 7 naming ipam.dataDir, nothing made anywhere
	local before after
	before=$(find "$T_TMP/allowed" "$T_TMP/outside" | sort | tr '\n' ' ')
	hl "$HL" "${3:-ADD}" d1 eth0 "${DD//@DD@/$2}" UCNI_NODE_CONFIG="$T_TMP/node-dd.json"
	after=$(find "$T_TMP/allowed" "$T_TMP/outside" | sort | tr '\n' ' ')
	check_match "$1: code 7 naming ipam.dataDir" '^1 \{"code":7,.*"msg":"invalid config: \\"ipam\.dataDir\\"' \
		"$RC $(jq -c '{code, msg}' <<<"$OUT")"
	check_eq "$1: nothing made" "$before" "$after"
	check_eq "$1: nothing outside" "" "$(ls -d "$T_TMP"/escaped* 2>/dev/null)"
}
dd "a dataDir outside the allowed directories" "$T_TMP/escaped/store"
dd "the same at DEL" "$T_TMP/escaped/store" DEL
dd "a dataDir beside the allowed one (a name prefix is not beneath it)" "$T_TMP/allowed-not"
dd "a dataDir leaving the allowed one with \"..\"" "$T_TMP/allowed/../escaped"
dd "a relative dataDir" "allowed/store"
ln -s "$T_TMP/outside" "$T_TMP/allowed/escape"
dd "a symbolic link in the allowed directory pointing out" "$T_TMP/allowed/escape"
dd "a path beneath that link" "$T_TMP/allowed/escape/deeper"
check_eq "the link's target is left empty" "" "$(ls -A "$T_TMP/outside")"
echo x >"$T_TMP/allowed/file"
dd "a file on the way" "$T_TMP/allowed/file/store"
dd "a very long dataDir (5000 bytes)" "$T_TMP/allowed/$(printf 'a%.0s' {1..5000})"
dd "a component longer than 255 bytes" "$T_TMP/allowed/$(printf 'b%.0s' {1..300})/x"
hl "$HL" ADD d1 eth0 "${DD//@DD@/$T_TMP/allowed/x\\u0000/../../escaped}" UCNI_NODE_CONFIG="$T_TMP/node-dd.json"
check_match "a dataDir holding NUL: refused naming ipam.dataDir (code 6: the content cannot be decoded)" \
	'^1 6 .*ipam\.dataDir' "$RC $(jq -r '"\(.code) \(.msg)"' <<<"$OUT")"
check_eq "NUL: nothing outside" "" "$(ls -d "$T_TMP"/escaped* 2>/dev/null)"
hl "$HL" ADD d2 eth0 "${DD//@DD@/$T_TMP/allowed/a/b}" UCNI_NODE_CONFIG="$T_TMP/node-dd.json"
check_eq "beneath the allowed directory: made, the store there" "0 10.99.1.2 last_reserved_ip.0 lock" \
	"$RC $(ls "$T_TMP/allowed/a/b/dd" | tr '\n' ' ' | sed 's/ $//')"
hl "$HL" ADD d3 eth0 "${DD//@DD@/$T_TMP/allowed}" UCNI_NODE_CONFIG="$T_TMP/node-dd.json"
check_eq "the allowed directory itself" "0 10.99.1.2" "$RC $(ls "$T_TMP/allowed/dd" | grep -v last | grep -v lock)"
echo "{\"dataDirs\": [\"$T_TMP/made/by/plugin\"]}" >"$T_TMP/node-made.json"
hl "$HL" ADD d4 eth0 "${DD//@DD@/$T_TMP/made/by/plugin}" UCNI_NODE_CONFIG="$T_TMP/node-made.json"
check_eq "a missing allowed directory is made, with its parents" "0 lock" "$RC $(ls "$T_TMP/made/by/plugin/dd" | grep lock)"
echo '{"dataDirs": []}' >"$T_TMP/node-none.json"
hl "$HL" ADD d5 eth0 "${DD//@DD@/$T_TMP/allowed}" UCNI_NODE_CONFIG="$T_TMP/node-none.json"
check_match "an empty dataDirs allows none" '"code":7.*ipam.dataDir.*allows \(none\)' "$(jq -c . <<<"$OUT")"
hl "$HL" ADD d6 eth0 "${DD//@DD@/$T_TMP/allowed}" UCNI_NODE_CONFIG=/nonexistent/node.json
check_match "no node settings: only the default /var/lib/cni/networks" '"code":7.*allows \(/var/lib/cni/networks\)' "$(jq -c . <<<"$OUT")"

section "ucni alone: macvlan with host-local, no other plugin in CNI_PATH"
if [ -x "$UCNI_BIN/macvlan" ] && NODE=$(mkns node) && POD=$(mkns pod); then
	ip -n "$NODE" link add m0 type veth peer name m1 && ip -n "$NODE" link set m0 up
	M='{"cniVersion": "1.0.0", "name": "alone", "type": "macvlan", "master": "m0", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/alone", "ranges": [[{"subnet": "10.97.0.0/24"}]], "routes": [{"dst": "10.96.0.0/16"}]}}'
	CNI_NODE=$NODE CNI_PATH_OVERRIDE=$UCNI_BIN cni ADD "$UCNI_BIN/macvlan" "$POD" eth0 a1 <<<"$M"
	check_eq "ADD with ucni's plugins only" "0 10.97.0.2/24" "$CNI_RC $(jv '.ips[0].address')"
	check_match "the pod has the address and the route" "10.97.0.2/24.*10.96.0.0/16" \
		"$(ip -n "$POD" -o addr show eth0; ip -n "$POD" route)"
	MP=$(jq -c --argjson p "$CNI_OUT" '. + {prevResult: $p}' <<<"$M")
	CNI_NODE=$NODE CNI_PATH_OVERRIDE=$UCNI_BIN cni CHECK "$UCNI_BIN/macvlan" "$POD" eth0 a1 <<<"$MP"
	check_eq "CHECK (host-local's CHECK finds the reservation)" 0 "$CNI_RC"
	CNI_NODE=$NODE CNI_PATH_OVERRIDE=$UCNI_BIN cni DEL "$UCNI_BIN/macvlan" "$POD" eth0 a1 <<<"$MP"
	check_eq "DEL: no link, no reservation" "0 0" \
		"$CNI_RC $(ls "$T_TMP/alone/alone" | grep -c -v -e lock -e last_reserved)"
else
	skip "ucni alone" "no macvlan build or no namespaces"
fi

section "the store's lock is the reference's: a held lock makes ucni wait, then code 11"
LK='{"cniVersion": "1.0.0", "name": "lk", "ipam": {"type": "host-local", "dataDir": "'$T_TMP'/lk", "subnet": "10.98.0.0/24"}}'
hl "$HL" ADD l1 eth0 "$LK"
flock "$T_TMP/lk/lk/lock" sleep 3 &
fpid=$!
sleep 0.3
hl "$HL" ADD l2 eth0 "$LK" UCNI_LOCK_TIMEOUT_MS=500
check_eq "ADD while another holds the lock, 500 ms bound: code 11" "1 11" "$RC $(jq -r .code <<<"$OUT")"
hl "$HL" ADD l2 eth0 "$LK" UCNI_LOCK_TIMEOUT_MS=20000
check_eq "ADD with a longer bound waits for it and succeeds" 0 "$RC"
wait "$fpid"

finish
