#!/bin/bash
# ipvlan in the test VM (tests/ipvlan/run boots it; the VM's root namespace is the node).
#
#   node (VM root namespace, the plugin runs here)        pod namespaces
#   ml2 / ml3 / ml3s   dummy masters, one per mode ──────── eth0 (ipvlan) per pod
#   mg0                the mode guard's master     ──────── pods gA gB gC …
#   mt*                traffic masters             ──────── two pods each, ping
#   mch0               macvlan master for chaining ──────── pod eth0 (macvlan) ── net1 (ipvlan on eth0)
#
# Every cniVersion × ADD/CHECK/DEL for l2, l3, l3s with static and host-local IPAM,
# flags, the per-master mode/flags guard and its registry (conflict, pruning, crash
# trace, concurrency, lock; every dead entry pruned, 1000 dead entries, a DEL
# overlapping an ADD, a reused netns path, killed writers' files, GC, refused
# directories), L2 only and prevResult addresses, chaining with
# prevResult's interface as master, mtu, default master, linkInContainer, rollback,
# DEL idempotency, bad input, traffic (l2, l3, l3s, private, IPv6), STATUS/GC, conf/ examples.
#
# jq costs ~0.35 s per run under TCG: results are read with bash (jf) where a flat
# field is enough.
source "$(dirname "$0")/../lib.sh"
[ "${UCNI_VM:-}" = 1 ] || { echo "tests/ipvlan/vm-suite.sh runs inside the test VM (tests/ipvlan/run)" >&2; exit 2; }
PLUGIN=$UCNI_BIN/ipvlan
VERSIONS=(0.3.0 0.3.1 0.4.0 1.0.0 1.1.0)
NET=ipv-$T_ID
HL=$T_TMP/hl
REG=/run/ucni/ipvlan

for m in ml2 ml3 ml3s mg0 mc0 ml2o mch0 mt2 mt3 mt3s mtp mtp3 mt6l2 mt6l3 mdf0 mbad mf1 mf2 mf3 mst mpr mbig mrm mru mtf; do
	ip link add "$m" type dummy && ip link set "$m" up || { fail "creating dummy master $m"; finish; }
done

# ---- helpers ----------------------------------------------------------------
# cf VERSION 'MEMBERS' — an ipvlan config; MEMBERS are extra JSON members
cf() { echo "{\"cniVersion\":\"$1\",\"name\":\"$NET\",\"type\":\"ipvlan\"${2:+,$2}}"; }
with_prev() { echo "${1%\}},\"prevResult\":$2}"; } # with_prev CONF RESULT
static_ipam() { # static_ipam ADDRESS GATEWAY
	echo "\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"$1\",\"gateway\":\"$2\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}"
}
hl_ipam() { # hl_ipam SUBNET-PREFIX(10.40.0) [rangeStart rangeEnd]
	local extra=
	[ $# -eq 3 ] && extra=",\"rangeStart\":\"$2\",\"rangeEnd\":\"$3\""
	echo "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"$1.0/24\",\"gateway\":\"$1.1\"$extra}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"$HL\"}"
}
# Process starts are slow under TCG: these parse `ip` output in bash.
links_of() { # links_of [ip options] — link names in ifindex order, space-separated
	local _ name out=
	while read -r _ name _; do name=${name%:}; out+=" ${name%%@*}"; done < <(ip "$@" -o link)
	echo "${out# }"
}
pod_links() { links_of -n "$1"; }
node_links() { links_of; }
linkd() { ip -n "$1" -d -o link show "$2" 2>/dev/null; } # linkd POD IF — one line with details
v4() { # v4 POD IF — its IPv4 addresses
	local _ f a out=
	while read -r _ _ f a _; do [ "$f" = inet ] && out+=" $a"; done < <(ip -n "$1" -o -4 addr show "$2" 2>/dev/null)
	echo "${out# }"
}
reservations() { # host-local's reservation files for this network
	local f n=0
	for f in "$HL/$NET"/*; do [ -e "$f" ] && [[ ${f##*/} != lock && ${f##*/} != last_reserved* ]] && n=$((n + 1)); done
	echo $n
}
# The containerIDs in every master's registry file
reg_ids() {
	local f s out=() re='"containerID":"([^"]*)"'
	for f in "$REG"/*.json; do
		[ -e "$f" ] || continue
		s=$(<"$f")
		while [[ $s =~ $re ]]; do out+=("${BASH_REMATCH[1]}"); s=${s#*"${BASH_REMATCH[0]}"}; done
	done
	echo "${out[*]}"
}
reg_file() { echo "$REG/ns$(stat -L -c %i /proc/self/ns/net)-if$(cat "/sys/class/net/$1/ifindex").json"; }
# What a refused ADD must leave alone: node links, the pod's links, reservations, registry.
snapshot() { echo "node:[$(node_links)] pod:[$(pod_links "$1")] res:$(reservations) reg:[$(reg_ids)]"; }
UP_RE='[<,]UP[,>]'
ping_ok() { ip netns exec "$1" ping -c1 -W"${3:-2}" -q "$2" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------
section "every cniVersion × ADD/CHECK/DEL for l2, l3, l3s, static and host-local IPAM"
n=0
for mode in l2 l3 l3s; do
	case $mode in l2) net=10.40.0 ;; l3) net=10.40.1 ;; l3s) net=10.40.2 ;; esac
	pod=$(mkns "x$mode") # one pod per mode: each case leaves it as it found it
	for v in "${VERSIONS[@]}"; do
		for ipam in static host-local; do
			n=$((n + 1))
			t="$mode $v $ipam"
			if [ $ipam = static ]; then i=$(static_ipam "$net.$((10 + n))/24" "$net.1"); want=$net.$((10 + n))/24
			else i=$(hl_ipam "$net"); want=; fi
			c=$(cf "$v" "\"master\":\"m$mode\",\"mode\":\"$mode\",$i")
			cni ADD "$PLUGIN" "$pod" eth0 "x$n" <<<"$c"
			expect_ok "$t: ADD"
			res=$CNI_OUT
			addr=$(jf address)
			if [ -n "$want" ]; then check_eq "$t: result address" "$want" "$addr"
			else check_match "$t: result address from the range" "^$net\.[0-9]+/24$" "$addr"; fi
			check_eq "$t: result cniVersion, interface, sandbox" "$v eth0 /var/run/netns/$pod" \
				"$(jf cniVersion) $(jf name) $(jf sandbox)"
			if [[ $v == 0.* ]]; then check_eq "$t: ips[].version" 4 "$(jf version)"
			else check_eq "$t: no ips[].version" null "$(jf version)"; fi
			if [ "$v" = 1.1.0 ]; then check_eq "$t: interface mtu" 1500 "$(jf mtu)"
			else check_eq "$t: no interface mtu" null "$(jf mtu)"; fi
			l=$(linkd "$pod" eth0)
			check_match "$t: kernel: ipvlan $mode bridge, up" "ipvlan +mode $mode bridge" "$l"
			check_match "$t: eth0 up" "$UP_RE" "$l"
			check_eq "$t: address on eth0" "$addr" "$(v4 "$pod" eth0)"
			check_match "$t: default route" "default via $net.1 dev eth0" "$(ip -n "$pod" route)"
			cni CHECK "$PLUGIN" "$pod" eth0 "x$n" <<<"$(with_prev "$c" "$res")"
			if [[ $v == 0.3.* ]]; then expect_err "$t: CHECK refused below 0.4.0" 1 "CHECK"
			else expect_ok "$t: CHECK"; fi
			cni DEL "$PLUGIN" "$pod" eth0 "x$n" <<<"$(with_prev "$c" "$res")"
			expect_ok "$t: DEL"
			check_eq "$t: DEL removed eth0, released the IP, printed nothing" "lo 0 ''" \
				"$(pod_links "$pod") $(reservations) '$CNI_OUT'"
		done
	done
done
check_eq "matrix: registry empty after every DEL" "" "$(reg_ids)"

# ---------------------------------------------------------------------------
section "flags; defaults are mode l2, flags bridge"
k=0
for fl in bridge private vepa; do
	k=$((k + 1))
	pod=$(mkns "f$fl")
	c=$(cf 1.0.0 "\"master\":\"mf$k\",\"mode\":\"l3\",\"flags\":\"$fl\"")
	cni ADD "$PLUGIN" "$pod" eth0 "f$fl" <<<"$c"
	expect_ok "flags $fl: ADD"
	check_match "flags $fl: kernel says so" "ipvlan +mode l3 $fl" "$(linkd "$pod" eth0)"
	cni CHECK "$PLUGIN" "$pod" eth0 "f$fl" <<<"$(with_prev "$c" "$CNI_OUT")"
	expect_ok "flags $fl: CHECK"
	cni DEL "$PLUGIN" "$pod" eth0 "f$fl" <<<"$c"
done
pod=$(mkns fdef)
c=$(cf 1.0.0 '"master":"mf1"')
cni ADD "$PLUGIN" "$pod" eth0 fdef <<<"$c"
check_match "defaults: mode l2, flags bridge" "ipvlan +mode l2 bridge" "$(linkd "$pod" eth0)"
res=$CNI_OUT
section "CHECK finds what is wrong"
cni CHECK "$PLUGIN" "$pod" eth0 fdef <<<"$(with_prev "$(cf 1.0.0 '"master":"mf1","mode":"l3"')" "$res")"
expect_err "CHECK: other mode in the config" 102 "mode l2, flags bridge" "mode l3, flags bridge"
cni CHECK "$PLUGIN" "$pod" eth0 fdef <<<"$(with_prev "$(cf 1.0.0 '"master":"mf1","flags":"private"')" "$res")"
expect_err "CHECK: other flags in the config" 102 "flags private"
cni CHECK "$PLUGIN" "$pod" eth0 fdef <<<"$(with_prev "$(cf 1.0.0 '"master":"mf2"')" "$res")"
expect_err "CHECK: other master" 102 "not on master \"mf2\""
ip link add mfx link mf1 type ipvlan mode l3 # switches the port: eth0 is in l3 now
cni CHECK "$PLUGIN" "$pod" eth0 fdef <<<"$(with_prev "$c" "$res")"
expect_err "CHECK: mode switched behind our back" 102 "mode l3"
ip link del mfx
cni DEL "$PLUGIN" "$pod" eth0 fdef <<<"$c"
cni CHECK "$PLUGIN" "$pod" eth0 fdef <<<"$(with_prev "$c" "$res")"
expect_err "CHECK: link gone" 102 "eth0"

# ---------------------------------------------------------------------------
section "mode and flags belong to the master: a conflicting ADD is refused"
pA=$(mkns gA) pB=$(mkns gB) pC=$(mkns gC)
cl2=$(cf 1.0.0 '"master":"mg0","mode":"l2"')
cl3=$(cf 1.0.0 '"master":"mg0","mode":"l3"')
cl2p=$(cf 1.0.0 '"master":"mg0","mode":"l2","flags":"private"')
cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
expect_ok "guard: pod A in l2"
resA=$CNI_OUT
f=$(reg_file mg0)
check_eq "registry: pod A recorded" "gA" "$(reg_ids)"
check_eq "registry: private directory and file" "700 600" "$(stat -c %a "$REG") $(stat -c %a "$f")"
check_match "registry: netns path and ifname" "\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/$pA\"" "$(cat "$f")"
before=$(snapshot "$pB")
cni ADD "$PLUGIN" "$pB" eth0 gB <<<"$cl3"
expect_err "guard: l3 on a master in l2 refused" 7 'master "mg0"' "mode l2, flags bridge" "mode l3, flags bridge" \
	"\"eth0\" in /var/run/netns/$pA"
check_match "guard: pod A still in l2" "ipvlan +mode l2 bridge" "$(linkd "$pA" eth0)"
check_eq "guard: nothing created, registry unchanged" "$before" "$(snapshot "$pB")"
cni ADD "$PLUGIN" "$pB" eth0 gB <<<"$cl2p"
expect_err "guard: other flags refused" 7 "flags bridge" "flags private"
check_match "guard: pod A still bridge" "ipvlan +mode l2 bridge" "$(linkd "$pA" eth0)"
cni ADD "$PLUGIN" "$pB" eth0 gB <<<"$cl2"
expect_ok "guard: same mode and flags accepted"
check_eq "registry: both pods" "gA gB" "$(reg_ids)"
cni CHECK "$PLUGIN" "$pA" eth0 gA <<<"$(with_prev "$cl2" "$resA")"
expect_ok "guard: pod A passes CHECK after all that"

# An ipvlan next to the master (not made by ucni) counts too.
cni DEL "$PLUGIN" "$pB" eth0 gB <<<"$cl2"
check_eq "registry: DEL removed pod B" "gA" "$(reg_ids)"
cni DEL "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
check "registry: last DEL removed the master's file and its lock file" test ! -e "$f" -a ! -e "${f%.json}.lock"
# Made first, so a scan meets it first: an ipvlan of another master tells nothing.
ip link add mgy link mf3 type ipvlan mode l2
ip link add mgx link mg0 type ipvlan mode l3 private
cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
expect_err "guard: ipvlan in the master's namespace counts" 7 '"mgx"' "the master's namespace" "mode l3, flags private"
ip link del mgx
ip link del mgy

# A crashed ADD leaves its entry (written before the link is made) and its link,
# under the final name or, where the kernel needed one, the temporary name
# (ucni + FNV-1a of "containerID/ifname": tmpname in tests/lib.sh).
mkdir -p "$REG"
for crashed in net9 "$(tmpname crashed net9)"; do
	ip link add "$crashed" link mg0 netns "$pC" type ipvlan mode l2
	echo "{\"master\":\"mg0\",\"entries\":[{\"containerID\":\"crashed\",\"ifname\":\"net9\",\"netns\":\"/var/run/netns/$pC\"}]}" >"$f"
	cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl3"
	expect_err "guard: a crashed ADD's link ($crashed) counts" 7 "\"$crashed\"" "mode l2"
	cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
	expect_ok "guard: the crashed ADD's mode is accepted ($crashed)"
	ip -n "$pC" link del "$crashed"
	[ "$crashed" = net9 ] && cni DEL "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
done
cni DEL "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
check_eq "registry: the dead entry stays until an ADD checks it" "crashed" "$(reg_ids)"
cni ADD "$PLUGIN" "$pB" eth0 gB <<<"$cl3"
expect_ok "guard: master free again, l3 accepted"
check_eq "registry: ADD pruned the dead entry" "gB" "$(reg_ids)"

# A pod whose namespace vanished without DEL no longer holds the mode.
ip netns del "$pB"
cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl2"
expect_ok "guard: namespace gone without DEL, the next mode is accepted"
check_eq "registry: the vanished pod pruned" "gA" "$(reg_ids)"
cni DEL "$PLUGIN" "$pA" eth0 gA <<<"$cl2"

# An entry naming a link that is no ipvlan of this master is not trusted.
ip -n "$pC" link add eth0 type dummy
echo "{\"master\":\"mg0\",\"entries\":[{\"containerID\":\"other\",\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/$pC\"}]}" >"$f"
cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl3"
expect_ok "guard: an entry whose link is not an ipvlan on the master is ignored"
check_eq "registry: and pruned" "gA" "$(reg_ids)"
cni DEL "$PLUGIN" "$pA" eth0 gA <<<"$cl3"
ip -n "$pC" link del eth0
echo "not json" >"$f"
cni ADD "$PLUGIN" "$pA" eth0 gA <<<"$cl3"
expect_err "registry: a damaged file is reported, not ignored" 5 "$f"
check_eq "registry damaged: nothing created" "lo" "$(pod_links "$pA")"
rm -f "$f"

section "concurrent ADDs with different modes: exactly one wins"
p1=$(mkns ca) p2=$(mkns cb)
for round in 1 2 3; do
	(cni ADD "$PLUGIN" "$p1" eth0 "c${round}a" <<<"$(cf 1.0.0 '"master":"mc0","mode":"l2"')"; echo "$CNI_RC $CNI_OUT" >"$T_TMP/r1") &
	(cni ADD "$PLUGIN" "$p2" eth0 "c${round}b" <<<"$(cf 1.0.0 '"master":"mc0","mode":"l3"')"; echo "$CNI_RC $CNI_OUT" >"$T_TMP/r2") &
	wait
	nlinks=$( (linkd "$p1" eth0; linkd "$p2" eth0) | grep -c 'ipvlan  mode')
	refused=$(cat "$T_TMP/r1" "$T_TMP/r2" | grep -c '"code":[[:space:]]*7')
	check_eq "race $round: one ADD wins, the other is refused (code 7), one link" "1 1 1" \
		"$(($(cut -d' ' -f1 "$T_TMP/r1" | head -n1) + $(cut -d' ' -f1 "$T_TMP/r2" | head -n1))) $refused $nlinks"
	cni DEL "$PLUGIN" "$p1" eth0 "c${round}a" <<<"$(cf 1.0.0 '"master":"mc0"')"
	cni DEL "$PLUGIN" "$p2" eth0 "c${round}b" <<<"$(cf 1.0.0 '"master":"mc0"')"
done
section "the registry lock is honoured"
pod=$(mkns lk)
cni ADD "$PLUGIN" "$pod" eth0 lk <<<"$(cf 1.0.0 '"master":"mc0"')" # makes the lock file
cni DEL "$PLUGIN" "$pod" eth0 lk <<<"$(cf 1.0.0 '"master":"mc0"')"
lock=$(reg_file mc0); lock=${lock%.json}.lock
flock "$lock" sleep 1.5 &
holder=$!
sleep 0.3
t0=$(date +%s%N)
cni ADD "$PLUGIN" "$pod" eth0 lk <<<"$(cf 1.0.0 '"master":"mc0"')"
waited=$((($(date +%s%N) - t0) / 1000000))
wait "$holder"
expect_ok "lock: ADD succeeds once the lock is free"
check_eq "lock: ADD waited for the holder (≥ 800 ms)" yes "$([ "$waited" -ge 800 ] && echo yes || echo "no, $waited ms")"
cni DEL "$PLUGIN" "$pod" eth0 lk <<<"$(cf 1.0.0 '"master":"mc0"')"

# ---------------------------------------------------------------------------
# The registry holds the live links of a master and nothing else.
reg_ids_in() { # reg_ids_in FILE — the containerIDs in one registry file
	local s out=() re='"containerID":"([^"]*)"'
	[ -e "$1" ] && s=$(<"$1") || s=
	while [[ $s =~ $re ]]; do out+=("${BASH_REMATCH[1]}"); s=${s#*"${BASH_REMATCH[0]}"}; done
	echo "${out[*]}"
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

section "registry: every dead entry goes, also those behind live ones"
cp=$(cf 1.0.0 '"master":"mpr","mode":"l2"')
f=$(reg_file mpr)
for i in 1 2 3 4 5 6; do
	pp[i]=$(mkns "pr$i")
	cni ADD "$PLUGIN" "${pp[i]}" eth0 "pr$i" <<<"$cp"
done
check_eq "prune: six pods recorded" "pr1 pr2 pr3 pr4 pr5 pr6" "$(reg_ids_in "$f")"
check_match "prune: entries carry their namespace's identity" '"netnsID":"(cookie|ino):[0-9:]+"' "$(<"$f")"
ip netns del "${pp[2]}"; ip netns del "${pp[4]}"; ip netns del "${pp[6]}" # gone without DEL
ip -n "${pp[5]}" link del eth0                                           # link gone, namespace lives
pp[7]=$(mkns pr7)
cni ADD "$PLUGIN" "${pp[7]}" eth0 pr7 <<<"$cp"
expect_ok "prune: ADD with dead entries between live ones"
check_eq "prune: only the live links' entries are left" "pr1 pr3 pr7" "$(reg_ids_in "$f")"
# Pods that come and go without DEL: the file holds the live ones, not the history.
for i in $(seq 10 19); do
	p=$(mkns "pr$i")
	cni ADD "$PLUGIN" "$p" eth0 "pr$i" <<<"$cp"
	ip netns del "$p"
done
check_eq "prune: ten pods gone without DEL leave one trace at most" "pr1 pr3 pr7 pr19" "$(reg_ids_in "$f")"
for i in 1 3 7; do cni DEL "$PLUGIN" "${pp[i]}" eth0 "pr$i" <<<"$cp"; done

section "registry: 1000 dead entries, ADD stays fast"
cb=$(cf 1.0.0 '"master":"mbig","mode":"l2"')
f=$(reg_file mbig)
pb=$(mkns big)
dead_reg() { # dead_reg N — a registry of N entries whose namespaces are gone
	local i s=
	for ((i = 0; i < $1; i++)); do
		s+="${s:+,}{\"containerID\":\"dead$i\",\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/gone-$T_ID-$i\",\"netnsID\":\"cookie:$((900000 + i))\"}"
	done
	echo "{\"master\":\"mbig\",\"entries\":[$s]}"
}
big=$(dead_reg 1000)
t0s=() t1000s=()
for round in 1 2 3; do
	t=$(ms_now); cni ADD "$PLUGIN" "$pb" eth0 big <<<"$cb"; t0s+=($(($(ms_now) - t)))
	[ "$CNI_RC" = 0 ] || fail "1000 dead: ADD on an empty registry (round $round)" "$(err_msg)"
	cni DEL "$PLUGIN" "$pb" eth0 big <<<"$cb"
	mkdir -p "$REG"; echo "$big" >"$f"
	t=$(ms_now); cni ADD "$PLUGIN" "$pb" eth0 big <<<"$cb"; t1000s+=($(($(ms_now) - t)))
	[ "$CNI_RC" = 0 ] || fail "1000 dead: ADD with 1000 dead entries (round $round)" "$(err_msg)"
	cni DEL "$PLUGIN" "$pb" eth0 big <<<"$cb"
done
echo "$big" >"$f"
cni ADD "$PLUGIN" "$pb" eth0 big <<<"$cb"
expect_ok "1000 dead: ADD succeeds"
check_eq "1000 dead: all pruned in one ADD, the file holds one entry" "big" "$(reg_ids_in "$f")"
check_eq "1000 dead: the file is small again" yes "$([ "$(stat -c %s "$f")" -lt 400 ] && echo yes || stat -c %s "$f")"
t0=$(median3 "${t0s[@]}") t1000=$(median3 "${t1000s[@]}")
echo "# ADD wall time, median of 3: 0 dead entries ${t0} ms (${t0s[*]}), 1000 dead entries ${t1000} ms (${t1000s[*]})"
check_eq "1000 dead: ADD time stays flat (${t0} ms vs ${t1000} ms, bound +2000 ms)" yes \
	"$([ "$t1000" -lt $((t0 + 2000)) ] && echo yes || echo no)"
cni DEL "$PLUGIN" "$pb" eth0 big <<<"$cb"

section "registry: a DEL overlapping an ADD cannot empty it under a live link"
# The DEL finds no link yet and waits for the registry while the ADD of the same
# attachment makes its link: whichever goes first, the entry of a live link stays,
# and a later ADD in another mode is refused.
crm=$(cf 1.0.0 '"master":"mrm","mode":"l2"')
crm3=$(cf 1.0.0 '"master":"mrm","mode":"l3"')
f=$(reg_file mrm)
po=$(mkns rmo)
for round in 1 2 3 4; do
	p=$(mkns "rm$round")
	mkdir -p "$REG"
	echo "{\"master\":\"mrm\",\"entries\":[{\"containerID\":\"gone\",\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/gone-$T_ID\"}]}" >"$f"
	flock "${f%.json}.lock" sleep 2 &
	holder=$!
	sleep 0.3
	(cni DEL "$PLUGIN" "$p" eth0 "rm$round" <<<"$crm") &
	sleep 0.5
	(cni ADD "$PLUGIN" "$p" eth0 "rm$round" <<<"$crm"; echo "$CNI_RC" >"$T_TMP/rm-add") &
	wait
	if [ -n "$(linkd "$p" eth0)" ]; then
		check_eq "overlap $round: the live link keeps its entry" "rm$round" "$(reg_ids_in "$f")"
		cni ADD "$PLUGIN" "$po" eth0 rmo <<<"$crm3"
		expect_err "overlap $round: an ADD in another mode is refused" 7 "mode l2"
		check_match "overlap $round: the pod stays in l2" "ipvlan +mode l2 bridge" "$(linkd "$p" eth0)"
	else
		check_eq "overlap $round: the ADD lost to the DEL; no link, no entry" "" "$(reg_ids_in "$f")"
	fi
	cni DEL "$PLUGIN" "$p" eth0 "rm$round" <<<"$crm"
	cni DEL "$PLUGIN" "$po" eth0 rmo <<<"$crm3"
done
check_eq "overlap: registry empty after the DELs" "" "$(reg_ids_in "$f")"

section "registry: a reused netns path is not the old entry's owner"
cu=$(cf 1.0.0 '"master":"mru","mode":"l2"')
f=$(reg_file mru)
p=$(mkns ru)
cni ADD "$PLUGIN" "$p" ru0 ru1 <<<"$cu"
expect_ok "reuse: ADD"
ino1=$(stat -L -c %i "/var/run/netns/$p")
ip netns del "$p"; ip netns add "$p" # same path, another namespace
ino2=$(stat -L -c %i "/var/run/netns/$p")
# In the new namespace, a link of the old one's name: an ipvlan on the same master.
ip link add ruX link mru type ipvlan mode l2
ip link set ruX netns "$p"; ip -n "$p" link set ruX name ru0
p2=$(mkns ru2)
cni ADD "$PLUGIN" "$p2" eth0 ru2 <<<"$cu"
expect_ok "reuse: ADD of another pod"
check_eq "reuse: the old entry is dropped (inode $ino1 then $ino2$([ "$ino1" = "$ino2" ] && echo ', recycled'))" \
	"ru2" "$(reg_ids_in "$f")"
ip -n "$p" link del ru0
cni DEL "$PLUGIN" "$p2" eth0 ru2 <<<"$cu"

section "temp and lock files of killed writers; GC"
ct=$(cf 1.0.0 '"master":"mtf","mode":"l2"')
f=$(reg_file mtf)
p1=$(mkns tf1) p2=$(mkns tf2) p3=$(mkns tf3)
cni ADD "$PLUGIN" "$p1" eth0 tf1 <<<"$ct"
check "temp: the registry has a private temp area" test "$(stat -c %a "$REG/.tmp")" = 700
killed="$REG/.tmp/${f##*/}.424242.0"
: >"$killed" # what a writer killed between its create and its rename leaves
flock "$REG/.tmp/${f##*/}.424243.0" sleep 4 &
holder=$!
sleep 0.3
cni ADD "$PLUGIN" "$p2" eth0 tf2 <<<"$ct"
expect_ok "temp: ADD"
check "temp: the next ADD removed a killed writer's temp file" test ! -e "$killed"
check "temp: a writer still at work keeps its temp file" test -e "$REG/.tmp/${f##*/}.424243.0"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
rm -f "$REG/.tmp/${f##*/}.424243.0" # its sleep may hold it a while longer
# A writer really killed between writing its temp file and the rename (the fault build).
FPLUGIN=$UCNI_TOP/build/fault/bin/ipvlan
if [ -x "$FPLUGIN" ]; then
	p4=$(mkns tf4)
	before=$(<"$f")
	CNI_EXTRA_ENV=(UCNI_FAULT=write-synced UCNI_FAULT_KILL=1)
	cni ADD "$FPLUGIN" "$p4" eth0 tf4 <<<"$ct"
	CNI_EXTRA_ENV=()
	check_eq "killed writer: the ADD died there (SIGKILL)" 137 "$CNI_RC"
	check_eq "killed writer: the registry holds the old content" "$before" "$(<"$f")"
	check_eq "killed writer: its temp file is left" 1 "$(ls -A "$REG/.tmp" | grep -c "^${f##*/}\.[0-9]*\.[0-9]*$")"
	cni ADD "$PLUGIN" "$p4" eth0 tf4 <<<"$ct"
	expect_ok "killed writer: the next ADD"
	check_eq "killed writer: the next ADD removed its temp file" 0 "$(ls -A "$REG/.tmp" | grep -c "^${f##*/}\.[0-9]*\.[0-9]*$")"
	check_eq "killed writer: the next ADD recorded its entry" "tf1 tf2 tf4" "$(reg_ids_in "$f")"
	cni DEL "$PLUGIN" "$p4" eth0 tf4 <<<"$ct"
else
	skip "killed writer" "no fault-injection build ($FPLUGIN)"
fi
legacy="$f.tmp.999999999" stray="$REG/ns1-if99999.lock"
: >"$legacy"; : >"$stray"; : >"$killed"
ip netns del "$p2" # tf2 gone without DEL
cni GC "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 '"master":"mtf","cni.dev/valid-attachments":[]')"
expect_ok "GC"
check_eq "GC: the registry keeps the live link's entry only" "tf1" "$(reg_ids_in "$f")"
check_eq "GC: old-form temp file, stray lock, killed writer's temp file removed" "no no no" \
	"$([ -e "$legacy" ] && echo yes || echo no) $([ -e "$stray" ] && echo yes || echo no) $([ -e "$killed" ] && echo yes || echo no)"
cni DEL "$PLUGIN" "$p1" eth0 tf1 <<<"$ct"
check "GC then DEL: the master's files are gone" test ! -e "$f" -a ! -e "${f%.json}.lock"
mv "$REG" "$REG.keep" && mkdir -m 0777 "$REG"
cni ADD "$PLUGIN" "$p3" eth0 tf3 <<<"$ct"
expect_err "registry directory writable by others: refused" 5 "$REG" "left as it is"
check_eq "refused directory: mode unchanged, nothing written" "777 0" "$(stat -c %a "$REG") $(ls -A "$REG" | wc -l)"
rmdir "$REG" && ln -s "$REG.keep" "$REG"
cni ADD "$PLUGIN" "$p3" eth0 tf3 <<<"$ct"
expect_err "registry directory is a symlink (to a good one): refused" 5 "$REG" "left as it is"
rm "$REG" && mv "$REG.keep" "$REG"
check_eq "refused: no link made" "lo" "$(pod_links "$p3")"
check_eq "GC: every registry holds live links only" "" "$(reg_ids)"

# ---------------------------------------------------------------------------
section "L2 only, and addresses from prevResult"
pod=$(mkns l2o)
c=$(cf 1.0.0 '"master":"ml2o"')
cni ADD "$PLUGIN" "$pod" eth0 l2o <<<"$c"
expect_ok "L2: ADD without ipam"
check_eq "L2: no IPs in the result, no IPv4 address" "null ''" "$(jf address) '$(v4 "$pod" eth0)'"
check_match "L2: eth0 up" "$UP_RE" "$(linkd "$pod" eth0)"
cni CHECK "$PLUGIN" "$pod" eth0 l2o <<<"$(with_prev "$c" "$CNI_OUT")"
expect_ok "L2: CHECK"
cni ADD "$PLUGIN" "$pod" eth1 l2o <<<"$(cf 1.0.0 '"master":"ml2o","ipam":{}')"
expect_ok "L2: ADD with an empty ipam object"
cni DEL "$PLUGIN" "$pod" eth0 l2o <<<"$c"; cni DEL "$PLUGIN" "$pod" eth1 l2o <<<"$c"
check_eq "L2: both gone" "lo" "$(pod_links "$pod")"

prev='{"cniVersion":"1.0.0","ips":[{"address":"10.50.0.5/24","gateway":"10.50.0.1"}],"routes":[{"dst":"10.60.0.0/16"}],"dns":{"nameservers":["10.50.0.53"]}}'
c=$(with_prev "$(cf 1.0.0 '"master":"ml2o"')" "$prev")
cni ADD "$PLUGIN" "$pod" eth0 l2o <<<"$c"
expect_ok "prevResult IPs without interface: ADD"
res=$CNI_OUT
check_eq "prevResult IPs: applied to eth0" 10.50.0.5/24 "$(v4 "$pod" eth0)"
check_match "prevResult routes: applied (prevResult had no interfaces)" "10.60.0.0/16 via 10.50.0.1 dev eth0" "$(ip -n "$pod" route)"
check_eq "prevResult IPs: now eth0's in the result; dns kept" "eth0 0 10.50.0.53" \
	"$(jf name) $(jf interface) $(jq -r '.dns.nameservers[0]' <<<"$res")"
cni CHECK "$PLUGIN" "$pod" eth0 l2o <<<"$(with_prev "$(cf 1.0.0 '"master":"ml2o"')" "$res")"
expect_ok "prevResult IPs: CHECK"
cni DEL "$PLUGIN" "$pod" eth0 l2o <<<"$c"
prev='{"cniVersion":"1.0.0","interfaces":[{"name":"eth9","sandbox":"/elsewhere"}],"ips":[{"address":"10.50.0.6/24","interface":0}]}'
cni ADD "$PLUGIN" "$pod" eth0 l2o <<<"$(with_prev "$(cf 1.0.0 '"master":"ml2o"')" "$prev")"
expect_ok "prevResult IPs of another interface: ADD"
check_eq "prevResult IPs of another interface: left to it" "'' eth9 eth0 0" \
	"'$(v4 "$pod" eth0)' $(jf name 1) $(jf name 2) $(jf interface)"
cni DEL "$PLUGIN" "$pod" eth0 l2o <<<"$c"

# ---------------------------------------------------------------------------
section "chained after macvlan: prevResult's interface is the master, looked up in the container"
ip link add eth0 type dummy # a node interface with the same name must not be taken
pod=$(mkns ch)
cm=$(echo "{\"cniVersion\":\"1.0.0\",\"name\":\"$NET\",\"type\":\"macvlan\",\"master\":\"mch0\",$(static_ipam 10.70.0.5/24 10.70.0.1)}")
cni ADD "$UCNI_BIN/macvlan" "$pod" eth0 ch <<<"$cm"
expect_ok "chain: macvlan eth0"
c=$(with_prev "$(cf 1.0.0 "\"mode\":\"l3\",$(static_ipam 10.71.0.6/24 10.71.0.1 | sed 's/,"routes":\[[^]]*\]//')")" "$CNI_OUT")
cni ADD "$PLUGIN" "$pod" net1 ch <<<"$c"
expect_ok "chain: ipvlan net1 without master"
res=$CNI_OUT
check_match "chain: net1 sits on the container's eth0" "net1@eth0:.*ipvlan +mode l3" "$(linkd "$pod" net1)"
check_eq "chain: the node's eth0 carries nothing" "" "$(ls /sys/class/net/eth0/ | grep upper_)"
check_eq "chain: result interfaces and ip owners" "eth0 net1 0 1" \
	"$(jf name 1) $(jf name 2) $(jf interface 1) $(jf interface 2)"
check_eq "chain: net1's address" 10.71.0.6/24 "$(v4 "$pod" net1)"
cni CHECK "$PLUGIN" "$pod" net1 ch <<<"$(with_prev "$(cf 1.0.0 "\"mode\":\"l3\"")" "$res")"
expect_ok "chain: CHECK"
cni CHECK "$UCNI_BIN/macvlan" "$pod" eth0 ch <<<"$(with_prev "$cm" "$res")"
expect_ok "chain: the macvlan's CHECK with the final result (its default route is its own)"
cni DEL "$PLUGIN" "$pod" net1 ch <<<"$(with_prev "$(cf 1.0.0 "\"mode\":\"l3\"")" "$res")"
expect_ok "chain: DEL"
check_eq "chain: net1 gone, eth0 kept" "lo eth0" "$(pod_links "$pod")"
cni ADD "$PLUGIN" "$pod" net2 ch <<<"$(with_prev "$(cf 1.0.0)" "$res")"
expect_err "chain: two sandbox interfaces, no master" 7 "needs exactly one"
cni DEL "$UCNI_BIN/macvlan" "$pod" eth0 ch <<<"$cm"
ip link del eth0

# ---------------------------------------------------------------------------
section "mtu, default master, linkInContainer"
pod=$(mkns mtu)
cni ADD "$PLUGIN" "$pod" eth0 mtu <<<"$(cf 1.1.0 '"master":"ml2o","mtu":1400')"
expect_ok "mtu 1400: ADD"
check_eq "mtu 1400: link and result" "1400 1400" "$(ip -n "$pod" -o link show eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2) $(jf mtu)"
cni CHECK "$PLUGIN" "$pod" eth0 mtu <<<"$(with_prev "$(cf 1.1.0 '"master":"ml2o","mtu":1400')" "$CNI_OUT")"
expect_ok "mtu 1400: CHECK"
cni DEL "$PLUGIN" "$pod" eth0 mtu <<<"$(cf 1.1.0 '"master":"ml2o"')"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 mtu <<<"$(cf 1.0.0 '"master":"ml2o","mtu":9000')"
expect_err "mtu above the master's" 7 "above the MTU 1500"
check_eq "mtu above: nothing changed" "$before" "$(snapshot "$pod")"

pod=$(mkns dflt)
cni ADD "$PLUGIN" "$pod" eth0 dflt <<<"$(cf 1.0.0)"
expect_err "no master, no default route" 7 "no default route"
ip addr add 10.80.0.2/24 dev mdf0
ip route add default via 10.80.0.1
cni ADD "$PLUGIN" "$pod" eth0 dflt <<<"$(cf 1.0.0)"
expect_ok "no master: the default route's interface"
check_match "default master is mdf0" "eth0@if$(cat /sys/class/net/mdf0/ifindex):" "$(linkd "$pod" eth0)"
cni DEL "$PLUGIN" "$pod" eth0 dflt <<<"$(cf 1.0.0)"
ip route del default; ip addr del 10.80.0.2/24 dev mdf0

pod=$(mkns lic)
ip -n "$pod" link add lm0 type dummy
ip -n "$pod" link set lm0 up
c=$(cf 1.0.0 '"master":"lm0","linkInContainer":true,"mode":"l3"')
cni ADD "$PLUGIN" "$pod" eth0 lic <<<"$c"
expect_ok "linkInContainer: ADD"
check_match "linkInContainer: eth0 on lm0" "eth0@lm0:" "$(linkd "$pod" eth0)"
cni CHECK "$PLUGIN" "$pod" eth0 lic <<<"$(with_prev "$c" "$CNI_OUT")"
expect_ok "linkInContainer: CHECK"
cni ADD "$PLUGIN" "$pod" eth1 lic2 <<<"$(cf 1.0.0 '"master":"lm0","linkInContainer":true,"mode":"l2"')"
expect_err "linkInContainer: the guard works there too" 7 "mode l3"
cni DEL "$PLUGIN" "$pod" eth0 lic <<<"$c"
check_eq "linkInContainer: DEL keeps the master" "lo lm0" "$(pod_links "$pod")"
cni ADD "$PLUGIN" "$pod" eth0 lic <<<"$(cf 1.0.0 '"master":"ml2","linkInContainer":true')"
expect_err "linkInContainer: master must be in the container" 7 "does not exist in the container namespace"

# ---------------------------------------------------------------------------
section "a failed ADD leaves nothing"
pod=$(mkns rb)
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(cf 1.0.0 '"master":"mst","ipam":{"type":"no-such-ipam"}')"
expect_err "unknown IPAM type" 7 "no-such-ipam"
check_eq "unknown IPAM: no link (not even a temporary one), no registry entry" "$before" "$(snapshot "$pod")"
p1=$(mkns rb1)
c=$(cf 1.0.0 "\"master\":\"mst\",$(hl_ipam 10.90.0 10.90.0.50 10.90.0.50)")
cni ADD "$PLUGIN" "$p1" eth0 rb1 <<<"$c"
expect_ok "exhaust host-local: first ADD takes the only IP"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$c"
check_eq "exhausted range: ADD fails" 1 "$CNI_RC"
check_match "exhausted range: host-local's message" "host-local" "$(err_msg)"
check_eq "exhausted range: nothing left, one reservation, registry has the first pod only" "$before" "$(snapshot "$pod")"
cni DEL "$PLUGIN" "$p1" eth0 rb1 <<<"$c"
before=$(snapshot "$pod")
cni ADD "$PLUGIN" "$pod" eth0 rb <<<"$(cf 1.0.0 '"master":"mst","ipam":{"type":"static","addresses":[{"address":"10.91.0.5/24"}],"routes":[{"dst":"10.99.0.0/16","gw":"10.55.0.1"}]}')"
expect_err "route the kernel refuses" 100 "10.99.0.0/16"
check_eq "refused route: nothing left" "$before" "$(snapshot "$pod")"

# ---------------------------------------------------------------------------
section "DEL is idempotent"
pod=$(mkns del)
c=$(cf 1.0.0 "\"master\":\"mst\",$(hl_ipam 10.92.0)")
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL once"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL twice"
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
ip -n "$pod" link del eth0
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL after the link was deleted"
check_eq "DEL after link deleted: IP released, registry clean" "0 ''" "$(reservations) '$(reg_ids)'"
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
ip netns del "$pod"
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$c"; expect_ok "DEL after the netns was deleted"
check_eq "DEL after netns deleted: IP released, registry clean" "0 ''" "$(reservations) '$(reg_ids)'"
pod=$(mkns del2)
cni ADD "$PLUGIN" "$pod" eth0 del <<<"$c"
cni DEL "$PLUGIN" "" eth0 del <<<"$c"; expect_ok "DEL without CNI_NETNS"
check_eq "DEL without CNI_NETNS: IP released; the link lives on, so does its entry" "0 'del'" "$(reservations) '$(reg_ids)'"
ip -n "$pod" link del eth0
cni DEL "$PLUGIN" "" eth0 del <<<"$(cf 1.0.0 '"master":"gone0"')"; expect_ok "DEL with the master gone"
cni GC "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 '"master":"mst","cni.dev/valid-attachments":[]')"
check_eq "link gone: GC drops its entry" "" "$(reg_ids)"
ip -n "$pod" link add eth0 type dummy
cni DEL "$PLUGIN" "$pod" eth0 del <<<"$(cf 1.0.0 '"master":"mst"')"; expect_ok "DEL of a non-ipvlan eth0"
check_match "DEL leaves another plugin's eth0 alone" "eth0" "$(pod_links "$pod")"

# ---------------------------------------------------------------------------
section "bad input: the right code, and nothing changes"
pod=$(mkns bad)
good=$(cf 1.0.0 "\"master\":\"mbad\",$(hl_ipam 10.93.0)")
bad_case() { # bad_case "what" CODE msg-part NETNS IFNAME CID CONFIG
	local before; before=$(snapshot "$pod")
	cni ADD "$PLUGIN" "$4" "$5" "$6" <<<"$7"
	expect_err "bad: $1" "$2" "$3"
	check_eq "bad: $1: nothing changed" "$before" "$(snapshot "$pod")"
}
bad_case "unknown mode" 7 '"mode" has unknown value "l4" (expected one of: l2, l3, l3s)' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","mode":"l4"')"
bad_case "mode not a string" 7 '"mode" must be a string' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","mode":2')"
bad_case "unknown flags" 7 '"flags" has unknown value "loud" (expected one of: bridge, private, vepa)' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","flags":"loud"')"
bad_case "mac key" 2 '"mac" (value "02:00:00:00:00:01")' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","mac":"02:00:00:00:00:01"')"
bad_case "runtimeConfig mac" 2 '"runtimeConfig.mac"' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","runtimeConfig":{"mac":"02:00:00:00:00:01"}')"
CNI_EXTRA_ENV=("CNI_ARGS=MAC=02:00:00:00:00:01")
bad_case "CNI_ARGS MAC" 2 '"MAC"' "$pod" eth0 bad "$good"
CNI_EXTRA_ENV=()
bad_case "master is loopback" 7 '"lo" is a loopback' "$pod" eth0 bad "$(cf 1.0.0 '"master":"lo"')"
ip link add mbi link mf3 type ipvlan mode l2
bad_case "master is an ipvlan" 7 '"mbi" is itself an ipvlan' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbi"')"
ip link del mbi
bad_case "master missing" 7 '"master": interface "nope0"' "$pod" eth0 bad "$(cf 1.0.0 '"master":"nope0"')"
bad_case "master name too long" 7 'too long' "$pod" eth0 bad "$(cf 1.0.0 '"master":"abcdefghijklmnopq"')"
bad_case "mtu below 68" 7 '"mtu" value 60' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","mtu":60')"
bad_case "linkInContainer not a bool" 7 '"linkInContainer" must be true or false' "$pod" eth0 bad "$(cf 1.0.0 '"master":"mbad","linkInContainer":1')"
bad_case "ifname too long" 4 "too long" "$pod" eth0123456789012 bad "$good"
bad_case "missing netns" 4 "CNI_NETNS" "" eth0 bad "$good"
bad_case "netns does not exist" 3 "does not exist" /var/run/netns/no-such-ns-$T_ID eth0 bad "$good"
bad_case "malformed JSON" 6 "not valid JSON" "$pod" eth0 bad '{"cniVersion": "1.0.0", "name":'
bad_case "missing name" 7 '"name" is missing' "$pod" eth0 bad '{"cniVersion":"1.0.0","type":"ipvlan","master":"mbad"}'
bad_case "unsupported cniVersion" 1 '"0.2.0"' "$pod" eth0 bad "$(cf 0.2.0 '"master":"mbad"')"
cni ADD "$PLUGIN" "$pod" eth0 bad <<<"$good"
bad_case "ADD twice" 4 "already exists" "$pod" eth0 bad "$good"
cni DEL "$PLUGIN" "$pod" eth0 bad <<<"$good"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;MAC=02:00:00:00:00:01")
cni ADD "$PLUGIN" "$pod" eth0 bad <<<"$good"
expect_ok "CNI_ARGS MAC with IgnoreUnknown=1 is ignored"
CNI_EXTRA_ENV=()
cni DEL "$PLUGIN" "$pod" eth0 bad <<<"$good"
check_eq "bad: errors printed nothing on stderr" "" "$(cat "$T_TMP/stderr")"

# ---------------------------------------------------------------------------
section "traffic: two pods on one master"
traffic() { # traffic NAME MASTER MODE FLAGS NET expect(reach|isolated)
	local a b ca cb
	a=$(mkns "t$1a") b=$(mkns "t$1b")
	ca=$(cf 1.0.0 "\"master\":\"$2\",\"mode\":\"$3\",\"flags\":\"$4\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"$5.1/24\"}]}")
	cb=$(cf 1.0.0 "\"master\":\"$2\",\"mode\":\"$3\",\"flags\":\"$4\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"$5.2/24\"}]}")
	cni ADD "$PLUGIN" "$a" eth0 "t$1a" <<<"$ca"; expect_ok "$3 $4: pod A"
	cni ADD "$PLUGIN" "$b" eth0 "t$1b" <<<"$cb"; expect_ok "$3 $4: pod B"
	if [ "$6" = reach ]; then
		check "$3 $4: pod A pings pod B" ping_ok "$a" "$5.2"
		check "$3 $4: pod B pings pod A" ping_ok "$b" "$5.1"
	elif ping_ok "$a" "$5.2" 1; then fail "$3 $4: pods isolated" "pod A reached pod B"
	else ok "$3 $4: pods isolated"; fi
	cni DEL "$PLUGIN" "$a" eth0 "t$1a" <<<"$ca"; cni DEL "$PLUGIN" "$b" eth0 "t$1b" <<<"$cb"
}
traffic 2 mt2 l2 bridge 10.100.0 reach
traffic 3 mt3 l3 bridge 10.100.1 reach
traffic 3s mt3s l3s bridge 10.100.2 reach
traffic p mtp l2 private 10.100.3 isolated
traffic p3 mtp3 l3 private 10.100.4 isolated
# IPv6: DAD runs in l2 (ADD waits for it), not on l3's NOARP links
for mode in l2 l3; do
	a=$(mkns "v6${mode}a") b=$(mkns "v6${mode}b")
	c6() { cf 1.0.0 "\"master\":\"mt6$mode\",\"mode\":\"$mode\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"fd00:100::$1/64\"}]}"; }
	cni ADD "$PLUGIN" "$a" eth0 "v6${mode}a" <<<"$(c6 1)"; expect_ok "$mode IPv6: pod A"
	check_eq "$mode IPv6: result version 6 address" "fd00:100::1/64" "$(jf address)"
	cni ADD "$PLUGIN" "$b" eth0 "v6${mode}b" <<<"$(c6 2)"; expect_ok "$mode IPv6: pod B"
	check_match "$mode IPv6: address settled (not tentative)" "inet6 fd00:100::2/64 scope global *$" \
		"$(ip -n "$b" -o -6 addr show eth0 scope global | sed 's/ *valid_lft.*//; s/\\//g')"
	check "$mode IPv6: pod A pings pod B" ping_ok "$a" fd00:100::2
	cni DEL "$PLUGIN" "$a" eth0 "v6${mode}a" <<<"$(c6 1)"; cni DEL "$PLUGIN" "$b" eth0 "v6${mode}b" <<<"$(c6 2)"
done

# ---------------------------------------------------------------------------
section "STATUS, GC, VERSION"
cni STATUS "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 '"master":"mst"')"; expect_ok "STATUS: master present"
cni STATUS "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 '"master":"gone0"')"; expect_err "STATUS: master missing" 50 "gone0"
cni GC "$PLUGIN" "" "" "" <<<"$(cf 1.1.0 '"master":"mst","cni.dev/valid-attachments":[]')"; expect_ok "GC"
cni VERSION "$PLUGIN" "" "" "" <<<""
check_match "VERSION lists every version" '"0.3.0",[[:space:]]*"0.3.1",[[:space:]]*"0.4.0",[[:space:]]*"1.0.0",[[:space:]]*"1.1.0"' "$CNI_OUT"
out=$(env -i "$PLUGIN" 2>&1 >/dev/null); rc=$?
check_eq "no CNI_COMMAND: about text, exit 0" "0 yes" "$rc $([[ $out == *ipvlan* ]] && echo yes)"

# ---------------------------------------------------------------------------
section "the conf/ examples"
nconf=0
for f in "$UCNI_TOP"/conf/ipvlan*.conflist; do
	[ -e "$f" ] || continue
	nconf=$((nconf + 1))
	name=$(basename "$f" .conflist)
	pod=$(mkns "cf$nconf")
	# As libcni does: each plugin gets the list's name and cniVersion. The test
	# substitutes the master and keeps host-local state in its own folder.
	c=$(jq -c --arg hl "$HL" --arg net "$NET" '.plugins[0] + {name: $net, cniVersion: .cniVersion} | .master = "mst"
		| if .ipam.type == "host-local" then .ipam.dataDir = $hl else . end' "$f")
	cni ADD "$PLUGIN" "$pod" eth0 "cf$nconf" <<<"$c"; expect_ok "conf/$name: ADD"
	res=$CNI_OUT
	check_match "conf/$name: mode and flags as written" \
		"ipvlan +mode $(jq -r '.plugins[0].mode // "l2"' "$f") $(jq -r '.plugins[0].flags // "bridge"' "$f")" "$(linkd "$pod" eth0)"
	cni CHECK "$PLUGIN" "$pod" eth0 "cf$nconf" <<<"$(with_prev "$c" "$res")"; expect_ok "conf/$name: CHECK"
	cni DEL "$PLUGIN" "$pod" eth0 "cf$nconf" <<<"$(with_prev "$c" "$res")"; expect_ok "conf/$name: DEL"
	check_eq "conf/$name: clean" "lo 0" "$(pod_links "$pod") $(reservations)"
done
check_eq "conf/: ipvlan examples exist" yes "$([ "$nconf" -ge 1 ] && echo yes)"

check_eq "no ipvlan left on the node, registry empty" "0 ''" \
	"$(ip -d -o link | grep -c 'ipvlan  mode') '$(reg_ids)'"
finish
