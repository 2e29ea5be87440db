#!/bin/bash
# Attachment ownership (macvlan on the host kernel): a link carries the mark of
# the attachment that made it, DEL removes only a link with its own mark on its
# own master, and ADD, CHECK and DEL of one attachment never overlap.
#
#   node ns (the plugin runs here)                        pod namespaces
#   m0 (veth) ── m0p          eth0 (macvlan on m0 or m1) in pod P, pod L, pod R…
#   m1 (veth) ── m1p
#
# The lock files go to a directory of the test's own (UCNI_LOCK_DIR), so the
# test can hold a lock with flock(1) and see that none is left behind.
source "$(dirname "$0")/../lib.sh"
PLUGIN=$UCNI_BIN/macvlan
HL=$T_TMP/hl
LOCKS=$T_TMP/locks
FAKE_LOG=$T_TMP/fake-ipam.log
mkdir -p "$T_TMP/bin"
export CNI_PATH_OVERRIDE="$UCNI_BIN:$REF_CNI:$UCNI_TOP/tests/integ:$T_TMP/bin"
BASE_ENV=("UCNI_LOCK_DIR=$LOCKS")
CNI_EXTRA_ENV=("${BASE_ENV[@]}")

# slow-ipam: host-local that first says it started (ADD only) and then waits
# as long as the file ipam-delay says.
cat >"$T_TMP/bin/slow-ipam" <<EOF
#!/bin/bash
[ "\$CNI_COMMAND" = ADD ] && touch "$T_TMP/started.\${CNI_CONTAINERID:0:32}"
sleep "\$(cat "$T_TMP/ipam-delay" 2>/dev/null || echo 0)"
exec "$REF_CNI/host-local"
EOF
chmod +x "$T_TMP/bin/slow-ipam"

NODE=$(mkns node) || { fail "creating namespaces"; finish; }
CNI_NODE=$NODE
for m in m0 m1; do
	ip -n "$NODE" link add $m type veth peer name ${m}p
	ip -n "$NODE" link set $m up
	ip -n "$NODE" link set ${m}p up
done

hl() { # hl NETWORK-NAME SUBNET-OCTET [TYPE] — host-local (or TYPE wrapping it) config
	echo "{\"type\":\"${3:-host-local}\",\"ranges\":[[{\"subnet\":\"10.$2.0.0/24\"}]],\"dataDir\":\"$HL\"}"
}
conf() { # conf NAME MASTER [jq filter]
	jq -c "${3:-.}" <<<"{\"cniVersion\":\"1.0.0\",\"name\":\"$1\",\"type\":\"macvlan\",\"master\":\"$2\"}"
}
with_prev() { jq -c --argjson p "$2" '. + {prevResult: $p}' <<<"$1"; }
reserved() { ls "$HL/$1" 2>/dev/null | grep -v -e lock -e last_reserved | sort | xargs; }
holder() { cat "$HL/$1/$2" 2>/dev/null | head -n1 | tr -d '\r'; } # holder NET ADDRESS: its container ID
link_of() { ip -n "$1" -j -d link show "$2" 2>/dev/null | jq -r '.[0] | "\(.ifindex) \(.address) \(.linkinfo.info_kind)"'; }
alias_of() { ip -n "$1" -j link show "$2" 2>/dev/null | jq -r '.[0].ifalias // ""'; }
pod_links() { ip -n "$1" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | xargs; }
now_ms() { date +%s%3N; }
lock_file() { printf '%s/%s.lock' "$LOCKS" "$(printf '%s/%s' "$1" "$2" | sha256sum | cut -c1-64)"; }

# ---------------------------------------------------------------------------
echo "# A owns eth0; B's ADD into the same namespace fails, and B's DEL leaves A alone"
P=$(mkns p)
cA=$(conf netA m0 ".ipam = $(hl netA 83)")
cni ADD "$PLUGIN" "$P" eth0 cidA <<<"$cA"
expect_ok "A: ADD"
resA=$CNI_OUT addrA=$(jv '.ips[0].address')
check_eq "A: eth0 carries A's mark" "ucni:cidA/eth0/netA" "$(alias_of "$P" eth0)"
linkA=$(link_of "$P" eth0)
stateA() { echo "link:[$(link_of "$P" eth0)] addr:[$(ip -n "$P" -o -4 addr show dev eth0 | awk '{print $4}')] res:[$(reserved netA)] holder:[$(holder netA "${addrA%/*}")]"; }
before=$(stateA)
check_eq "A: its address and reservation" "link:[$linkA] addr:[$addrA] res:[${addrA%/*}] holder:[cidA]" "$before"

cni ADD "$PLUGIN" "$P" eth0 cidB <<<"$cA"
expect_err "B (same network): ADD refused, CNI_IFNAME exists" 4 "another attachment's"
check "a failed ADD that left nothing behind removes its lock file" test ! -e "$(lock_file cidB eth0)"
check_eq "B's refused ADD: A unchanged" "$before" "$(stateA)"
cni CHECK "$PLUGIN" "$P" eth0 cidB <<<"$(with_prev "$(conf netA m0)" "$resA")"
expect_err "B: CHECK reports eth0 as foreign" 102 "carries another attachment's ownership mark"
cni DEL "$PLUGIN" "$P" eth0 cidB <<<"$cA"
expect_ok "B (same network): DEL succeeds"
check_eq "B's DEL (same network): A keeps eth0, its address and reservation" "$before" "$(stateA)"

: >"$FAKE_LOG"
cB=$(conf netB m1 ".ipam = {type: \"fake-ipam\", log: \"$FAKE_LOG\", result: {ips: [{address: \"10.84.0.9/24\"}]}}")
cni ADD "$PLUGIN" "$P" eth0 cidB <<<"$cB"
expect_err "B (another network on another master): ADD refused" 4 "already exists"
cni DEL "$PLUGIN" "$P" eth0 cidB <<<"$cB"
expect_ok "B (another network): DEL succeeds"
check_eq "B's DEL (another network): A keeps eth0, its address and reservation" "$before" "$(stateA)"
check_match "B's DEL still ran B's IPAM DEL" '^DEL .*"name":"netB"' "$(grep '^DEL ' "$FAKE_LOG")"
cni CHECK "$PLUGIN" "$P" eth0 cidB <<<"$(with_prev "$cB" "$resA")"
expect_err "B (another network): CHECK reports eth0 as foreign" 102 "not this attachment's"

cni DEL "$PLUGIN" "$P" eth0 cidA <<<"$(conf netOther m0)"
expect_ok "a DEL with A's ID and ifname but another network name"
check_eq "…leaves A's eth0: the mark names netA" "$before" "$(stateA)"
cni CHECK "$PLUGIN" "$P" eth0 cidA <<<"$(with_prev "$cA" "$resA")"
expect_ok "A: CHECK still passes"
cni DEL "$PLUGIN" "$P" eth0 cidA <<<"$cA"
expect_ok "A: DEL"
check_eq "A: DEL removed eth0 and released the address" "lo res:[]" "$(pod_links "$P") res:[$(reserved netA)]"

# ---------------------------------------------------------------------------
echo "# a link without a mark named CNI_IFNAME (another plugin's, an older ucni's) is left alone"
ip -n "$NODE" link add u0 link m0 type macvlan mode bridge
ip -n "$NODE" link set u0 netns "$P" name eth0
ip -n "$P" link set eth0 up
unmarked=$(link_of "$P" eth0)
: >"$FAKE_LOG"
cU=$(conf netU m0 ".ipam = {type: \"fake-ipam\", log: \"$FAKE_LOG\"}")
cni DEL "$PLUGIN" "$P" eth0 cidU <<<"$cU"
expect_ok "unmarked eth0: DEL succeeds"
check_eq "unmarked eth0: left alone" "$unmarked" "$(link_of "$P" eth0)"
check_match "unmarked eth0: IPAM DEL ran" '^DEL ' "$(cat "$FAKE_LOG")"
cni CHECK "$PLUGIN" "$P" eth0 cidU <<<"$(with_prev "$cU" '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/var/run/netns/'"$P"'"}]}')"
expect_err "unmarked eth0: CHECK reports it" 102 "carries no ucni ownership mark"
ip -n "$P" link del eth0

# ---------------------------------------------------------------------------
echo "# this attachment's mark on another parent is left alone"
cM0=$(conf netM m0 ".ipam = $(hl netM 85)")
cM1=$(conf netM m1 ".ipam = $(hl netM 85)")
cni ADD "$PLUGIN" "$P" eth0 cidM <<<"$cM1"
expect_ok "mark on m1: ADD on m1"
resM=$CNI_OUT
onm1=$(link_of "$P" eth0)
cni CHECK "$PLUGIN" "$P" eth0 cidM <<<"$(with_prev "$cM0" "$resM")"
expect_err "mark on m1, config says m0: CHECK" 102 'not on master "m0"'
cni DEL "$PLUGIN" "$P" eth0 cidM <<<"$cM0"
expect_ok "mark on m1, config says m0: DEL succeeds"
check_eq "mark on m1, config says m0: eth0 left" "$onm1" "$(link_of "$P" eth0)"
check_eq "mark on m1, config says m0: the address is released all the same" "" "$(reserved netM)"
cni DEL "$PLUGIN" "$P" eth0 cidM <<<"$(conf netM m2gone)"
expect_ok "mark on m1, config names a master that does not exist: DEL succeeds"
check_eq "mark on m1, master gone: eth0 left" "$onm1" "$(link_of "$P" eth0)"
cni DEL "$PLUGIN" "$P" eth0 cidM <<<"$cM1"
expect_ok "mark on m1, config says m1: DEL"
check_eq "mark on m1, config says m1: eth0 removed" "lo" "$(pod_links "$P")"

# The same ifindex in another namespace is another device: a marked macvlan
# whose parent is a device of namespace X with the ifindex of the node's m1 is
# not on m1.
R=$(mkns r) X=$(mkns x)
m1_idx=$(ip -n "$NODE" -j link show m1 | jq '.[0].ifindex')
for ((i = 0; i < 50; i++)); do
	[ "$(ip -n "$X" -j link show | jq "[.[] | select(.ifindex == $m1_idx)] | length")" = 0 ] || break
	ip -n "$X" link add "v$i" type veth peer name "w$i"
done
lower=$(ip -n "$X" -j link show | jq -r ".[] | select(.ifindex == $m1_idx) | .ifname")
if [ -n "$lower" ]; then
	ip -n "$X" link set "$lower" up
	ip -n "$X" link add s0 link "$lower" type macvlan mode bridge
	ip -n "$X" link set s0 netns "$R" name eth0
	ip -n "$R" link set eth0 alias "ucni:cidS/eth0/netS"
	check_eq "a marked eth0 whose parent has m1's ifindex in another namespace" "$m1_idx" \
		"$(ip -n "$R" -j link show eth0 | jq '.[0].link_index')"
	other=$(link_of "$R" eth0)
	cni DEL "$PLUGIN" "$R" eth0 cidS <<<"$(conf netS m1)"
	expect_ok "…DEL with master m1 succeeds"
	check_eq "…and leaves it: it is not on the node's m1" "$other" "$(link_of "$R" eth0)"
	cni ADD "$PLUGIN" "$R" eth1 cidS <<<"$(conf netS m1)"
	cni DEL "$PLUGIN" "$R" eth1 cidS <<<"$(conf netS m1)"
	check_eq "…while an eth1 of its own on the node's m1 is removed" "eth0 lo" "$(pod_links "$R")"
else
	skip "a marked link on a device with the ifindex of m1 in another namespace" "could not make such a device"
fi

# DEL looks the master up in the host through the container's id for it: a
# device of the master's name in the container, with the ifindex of the
# link's real parent, does not make the link its.
Q=$(mkns q)
m0_idx=$(ip -n "$NODE" -j link show m0 | jq '.[0].ifindex')
if ip -n "$Q" link add m1 index "$m0_idx" type veth peer name m1p 2>/dev/null; then
	cni ADD "$PLUGIN" "$Q" eth0 cidQ <<<"$(conf netQ m0)"
	onm0=$(link_of "$Q" eth0)
	cni DEL "$PLUGIN" "$Q" eth0 cidQ <<<"$(conf netQ m1)"
	expect_ok "eth0 on m0, config says m1, the container has an m1 with m0's ifindex: DEL succeeds"
	check_eq "…and leaves eth0: the container's m1 is not the node's" "$onm0" "$(link_of "$Q" eth0)"
	cni DEL "$PLUGIN" "$Q" eth0 cidQ <<<"$(conf netQ m0)"
	check_eq "…while a DEL that names m0 removes it" "lo m1 m1p" "$(pod_links "$Q")"
else
	skip "a container device of the master's name with the parent's ifindex" "could not make one with ifindex $m0_idx"
fi

# ---------------------------------------------------------------------------
echo "# the mark: plain when it fits, else a digest; never cut short"
mark_case() { # mark_case "what" NETWORK-NAME WANT(plain|digest)
	local name=$2 want
	if [ "$3" = plain ]; then want="ucni:cidN/eth0/$name"
	else want="ucni:sha256:$(printf '%s' "cidN/eth0/$name" | sha256sum | cut -c1-64)"; fi
	cni ADD "$PLUGIN" "$P" eth0 cidN <<<"$(conf "$name" m0)"
	expect_ok "$1: ADD"
	check_eq "$1: the mark is the $3 one" "$want" "$(alias_of "$P" eth0)"
	cni DEL "$PLUGIN" "$P" eth0 cidN <<<"$(conf "$name" m0)"
	check_eq "$1: DEL knows it and removes eth0" "lo" "$(pod_links "$P")"
}
fit=$(head -c $((255 - 15)) </dev/zero | tr '\0' n)
mark_case "a mark of exactly 255 bytes" "$fit" plain
mark_case "one byte more" "${fit}n" digest
mark_case "a name beyond printable ASCII" "réseau" digest
mark_case "a name with a space" "my net" plain
cni ADD "$PLUGIN" "$P" eth0 cidN <<<"$(conf "${fit}n" m0)"
cni DEL "$PLUGIN" "$P" eth0 cidN <<<"$(conf "${fit}m" m0)"
check_eq "long names that differ in their last byte have different marks" "eth0 lo" "$(pod_links "$P")"
cni DEL "$PLUGIN" "$P" eth0 cidN <<<"$(conf "${fit}n" m0)"

# ---------------------------------------------------------------------------
echo "# an interrupted ADD (a FAULTS=1 build)"
if make -C "$UCNI_TOP" --no-print-directory FAULTS=1 build/fault/bin/macvlan >"$T_TMP/build.log" 2>&1; then
	FPLUGIN=$UCNI_TOP/build/fault/bin/macvlan
	cK=$(conf netK m0 ".ipam = $(hl netK 86)")
	CNI_EXTRA_ENV=("${BASE_ENV[@]}" UCNI_FAULT=add.mark)
	cni ADD "$FPLUGIN" "$P" eth0 cidK <<<"$cK"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}")
	check_eq "the mark request fails: ADD fails and removes the link" "1 lo" "$CNI_RC $(pod_links "$P")"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}" UCNI_FAULT=add.mark UCNI_FAULT_KILL=1)
	cni ADD "$FPLUGIN" "$P" eth0 cidK <<<"$cK"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}")
	check_eq "killed between the create and the mark: an unmarked eth0, no reservation" "137 eth0 lo [] res:[]" \
		"$CNI_RC $(pod_links "$P") [$(alias_of "$P" eth0)] res:[$(reserved netK)]"
	check_eq "…its lock file notes the create" "creating" "$(cat "$(lock_file cidK eth0)" 2>/dev/null)"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}")
	cni GC "$PLUGIN" "" "" "" <<<"$(jq -c '.cniVersion = "1.1.0" | . + {"cni.dev/valid-attachments": []}' <<<"$cK")"
	check "…GC keeps a lock file with a note" test -e "$(lock_file cidK eth0)"
	cni DEL "$PLUGIN" "$P" eth0 cidK <<<"$cK"
	expect_ok "…DEL succeeds"
	check_eq "…and removes the unmarked eth0 this attachment's ADD was creating" "lo" "$(pod_links "$P")"
	check "…and its lock file" test ! -e "$(lock_file cidK eth0)"
	ip -n "$NODE" link add ownx link m0 type macvlan && ip -n "$NODE" link set ownx netns "$P" name eth0
	cni ADD "$PLUGIN" "$P" eth0 cidK <<<"$cK"
	expect_err "an unmarked eth0 of someone else: ADD refused" 4 "already exists"
	check_eq "…which leaves no note behind" "" "$(cat "$(lock_file cidK eth0)" 2>/dev/null)"
	cni DEL "$PLUGIN" "$P" eth0 cidK <<<"$cK"
	check_eq "…so DEL leaves that eth0 alone" "eth0 lo" "$(pod_links "$P")"
	ip -n "$P" link del eth0

	tmp=$(tmpname cidK eth0)
	CNI_EXTRA_ENV=("${BASE_ENV[@]}" UCNI_FAULT_SIMULATE=old-kernel UCNI_FAULT=add.rename UCNI_FAULT_KILL=1)
	cni ADD "$FPLUGIN" "$P" eth0 cidK <<<"$cK"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}")
	check_eq "old kernel, killed before the rename: an unmarked link under $tmp" "137 $tmp" "$CNI_RC $(pod_links "$P" | tr ' ' '\n' | grep ucni)"
	cni DEL "$PLUGIN" "$P" eth0 cidK <<<"$cK"
	check_eq "…DEL removes it: the temporary name is this attachment's" "0 lo" "$CNI_RC $(pod_links "$P")"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}" UCNI_FAULT_SIMULATE=old-kernel)
	cni ADD "$FPLUGIN" "$P" eth0 cidK <<<"$cK"
	CNI_EXTRA_ENV=("${BASE_ENV[@]}")
	check_eq "old kernel: the rename puts the mark on" "ucni:cidK/eth0/netK" "$(alias_of "$P" eth0)"
	cni DEL "$PLUGIN" "$P" eth0 cidK <<<"$cK"
	check_eq "old kernel: DEL removes it" "lo res:[]" "$(pod_links "$P") res:[$(reserved netK)]"
else
	fail "building the fault-injection plugin" "$(tail -n5 "$T_TMP/build.log")"
fi
ip -n "$NODE" link add t0 link m0 type macvlan mode bridge
ip -n "$NODE" link set t0 netns "$P" name "$(tmpname cidT eth0)"
ip -n "$P" link set "$(tmpname cidT eth0)" alias "ucni:someone/else/net"
cni DEL "$PLUGIN" "$P" eth0 cidT <<<"$(conf netT m0)"
check_eq "a link under the temporary name with another attachment's mark: DEL leaves it" "0 lo $(tmpname cidT eth0)" \
	"$CNI_RC $(pod_links "$P")"
ip -n "$P" link del "$(tmpname cidT eth0)"

# ---------------------------------------------------------------------------
echo "# the attachment lock"
L=$(mkns l)
cL=$(conf netL m0 ".ipam = $(hl netL 87)")
lf=$(lock_file cidL eth0)
mkdir -p "$LOCKS"
# The test holds the lock of (cidL, eth0) on fd 9; every plugin run gets 9>&-.
exec 9>"$lf"
flock 9
CNI_EXTRA_ENV=("${BASE_ENV[@]}" UCNI_LOCK_TIMEOUT_MS=300)
t0=$(now_ms)
cni ADD "$PLUGIN" "$L" eth0 cidL <<<"$cL" 9>&-
t1=$(now_ms)
expect_err "ADD while the attachment is locked, 300 ms timeout" 11 'CNI_CONTAINERID "cidL", CNI_IFNAME "eth0") is busy'
check "…after about the timeout (300 ms ≤ $((t1 - t0)) ms < 10 s)" test $((t1 - t0)) -ge 300 -a $((t1 - t0)) -lt 10000
check_eq "…and changed nothing" "lo res:[]" "$(pod_links "$L") res:[$(reserved netL)]"
cni DEL "$PLUGIN" "$L" eth0 cidL <<<"$cL" 9>&-
expect_err "DEL while locked" 11 "try again later"
cni CHECK "$PLUGIN" "$L" eth0 cidL <<<"$(with_prev "$cL" '{"cniVersion":"1.0.0"}')" 9>&-
expect_err "CHECK while locked" 11 "busy"
cni ADD "$PLUGIN" "$L" eth1 cidL <<<"$cL" 9>&-
expect_ok "another attachment of the same container is not held up"
cni DEL "$PLUGIN" "$L" eth1 cidL <<<"$cL" 9>&-
cni STATUS "$PLUGIN" "" "" "" <<<"$(conf netL m0 '.cniVersion = "1.1.0"')" 9>&-
expect_ok "STATUS takes no lock"
stale="$LOCKS/$(printf '%064d' 0).lock"
: >"$stale"
: >"$LOCKS/other-file"
cni GC "$PLUGIN" "" "" "" <<<"$(conf netL m0 '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = []')" 9>&-
expect_ok "GC takes no lock"
check_eq "GC removed the lock file nobody held, kept the held one and other files" "no yes yes" \
	"$([ -e "$stale" ] && echo yes || echo no) $([ -e "$lf" ] && echo yes || echo no) $([ -e "$LOCKS/other-file" ] && echo yes || echo no)"
rm -f "$LOCKS/other-file"
CNI_EXTRA_ENV=("${BASE_ENV[@]}")
rm -f "$T_TMP/waiter"
( cni ADD "$PLUGIN" "$L" eth0 cidL <<<"$cL"; echo "$CNI_RC" >"$T_TMP/waiter" ) 9>&- &
waiter=$!
sleep 2
check_eq "an ADD with the default timeout still waits after 2 s" "no" "$([ -e "$T_TMP/waiter" ] && echo yes || echo no)"
exec 9>&-
wait "$waiter"
check_eq "…and succeeds once the holder lets go" 0 "$(cat "$T_TMP/waiter")"
check_eq "ADD keeps the attachment's lock file for the calls that follow" yes "$([ -e "$lf" ] && echo yes || echo no)"
cni DEL "$PLUGIN" "$L" eth0 cidL <<<"$cL"
expect_ok "DEL"
check_eq "…which ends the attachment and removes its lock file" no "$([ -e "$lf" ] && echo yes || echo no)"

CNI_EXTRA_ENV=("UCNI_LOCK_DIR=$T_TMP/bin/slow-ipam")
cni ADD "$PLUGIN" "$L" eth0 cidL <<<"$cL"
expect_err "a lock directory that cannot be used" 5 "lock directory"
cni VERSION "$PLUGIN" "" "" "" <<<""
expect_ok "VERSION takes no lock"
CNI_EXTRA_ENV=("UCNI_LOCK_DIR=relative/dir")
cni DEL "$PLUGIN" "$L" eth0 cidL <<<"$cL"
expect_err "a relative UCNI_LOCK_DIR" 4 "UCNI_LOCK_DIR"
check_eq "…nothing changed" "lo res:[]" "$(pod_links "$L") res:[$(reserved netL)]"

# The lock file is named after the SHA-256 of "ID/ifname": any ID length fits.
CNI_EXTRA_ENV=("${BASE_ENV[@]}")
long=$(head -c 255 </dev/zero | tr '\0' a)
echo 1 >"$T_TMP/ipam-delay"
rm -f "$T_TMP/started.${long:0:32}"
( cni ADD "$PLUGIN" "$L" eth0 "$long" <<<"$(conf netL m0 ".ipam = $(hl netL 87 slow-ipam)")"; echo "$CNI_RC" >"$T_TMP/long-rc" ) &
for ((i = 0; i < 750; i++)); do [ -e "$T_TMP/started.${long:0:32}" ] && break; sleep 0.02; done
check_eq "a 255-character container ID: its lock file is held while ADD runs" 99 \
	"$(flock -n -E 99 "$(lock_file "$long" eth0)" true; echo $?)"
wait
echo 0 >"$T_TMP/ipam-delay"
check_eq "…and the ADD succeeds" 0 "$(cat "$T_TMP/long-rc")"
cni DEL "$PLUGIN" "$L" eth0 "$long" <<<"$(conf netL m0 ".ipam = $(hl netL 87)")"
expect_ok "…and its DEL"

# ---------------------------------------------------------------------------
echo "# DEL racing ADD: the DEL waits for the ADD and removes everything it made"
cR=$(conf netR m0 ".ipam = $(hl netR 88 slow-ipam)")
leaks=0 adds_failed=0 n=20
for ((k = 0; k < n; k++)); do
	pod=$(mkns "race$k")
	rm -f "$T_TMP/started.race$k"
	printf '0.%03d\n' $((RANDOM % 400 + 100)) >"$T_TMP/ipam-delay"
	( cni ADD "$PLUGIN" "$pod" eth0 "race$k" <<<"$cR"; echo "$CNI_RC" >"$T_TMP/add-rc.$k" ) &
	addpid=$!
	for ((i = 0; i < 750; i++)); do [ -e "$T_TMP/started.race$k" ] && break; sleep 0.02; done
	sleep "$(printf '0.%03d' $((RANDOM % 300)))"
	echo 0 >"$T_TMP/ipam-delay"
	cni DEL "$PLUGIN" "$pod" eth0 "race$k" <<<"$cR"
	del_rc=$CNI_RC
	wait "$addpid"
	[ "$(cat "$T_TMP/add-rc.$k")" = 0 ] || adds_failed=$((adds_failed + 1))
	left="$(pod_links "$pod") res:[$(reserved netR)] del:$del_rc"
	if [ "$left" != "lo res:[] del:0" ]; then
		leaks=$((leaks + 1)); echo "# race $k: $left"
	fi
	ip netns del "$pod"
done
check_eq "$n DEL racing ADD: every ADD completed before its DEL" 0 "$adds_failed"
check_eq "$n DEL racing ADD: no link, reservation or failed DEL left" 0 "$leaks"

check_eq "no lock file is left behind" "" "$(ls -A "$LOCKS")"
check_eq "the lock directory is private" "700" "$(stat -c %a "$LOCKS")"
finish
