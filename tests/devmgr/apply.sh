#!/bin/bash
# devmgr apply on generated fake sysfs trees: the pfs keys refused with their JSON path
# (exit 3, nothing changed), externallyManaged PFs that do not satisfy their entry (exit
# 3, nothing changed anywhere), apply --check (exit 9, each difference on a line of its
# own, the tree untouched), apply and its idempotence (PF MTU raised and never lowered,
# link up, VF MTUs, allocated VFs left alone), and every step's injected failure (a
# FAULTS=1 build) leaving the PF as it was, or naming what an undo could not put back.
#
#   fake sysfs (tests/fixtures/mkfakesysfs) ──> devmgr --sysfs-root R --state-dir S apply
#   R: ens1f0 8 VFs (VFs 0-5 with netdevs ens1f0v0-5, MTU 1500); ens1f1 4 VFs, link down
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

GEN=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
SYS=$T_TMP/sys
ST=$T_TMP/state
FAULT_DM=$UCNI_TOP/build/fault/bin/devmgr

# fresh — a new fake tree and an empty store
fresh() { rm -rf "$SYS" "$ST" && "$GEN" "$SYS" >/dev/null || { fail "generate the fake sysfs"; finish; }; }
# dm ARGS… — devmgr on the fixture; stdout in $OUT, stderr in $ERR, status in $RC
DMBIN=$UCNI_BIN/devmgr
dm() {
	OUT=$("$DMBIN" --sysfs-root "$SYS" --state-dir "$ST" "$@" 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
}
expect_rc() {
	if [ "$RC" -eq "$2" ]; then ok "$1 (exit $2)"; else fail "$1" "exit $RC, wanted $2: $ERR $OUT"; fi
}
# tree_sum — every file's content and every link of the tree and the store
tree_sum() {
	(cd "$T_TMP" && find sys state -type f -exec md5sum {} + 2>/dev/null | sort &&
		find sys -type l -printf '%p %l\n' | sort) | md5sum
}
P0=$SYS/bus/pci/devices/0000:3b:00.0
P1=$SYS/bus/pci/devices/0000:3b:00.1
VF0=$SYS/bus/pci/devices/0000:3b:01.0
VF1=$SYS/bus/pci/devices/0000:3b:01.1
conf() { echo "$1" >"$T_TMP/c.json"; }

fresh
section "refused: bad keys and values, named by their JSON path (exit 3, nothing changed)"
BASE='{"pfs": [{"name": "ens1f0", "numVfs": 8}]}'
# badpf "what" JQ-EDIT MESSAGE-PART
badpf() {
	jq "$2" <<<"$BASE" >"$T_TMP/bad.json" || { fail "$1" "bad jq edit"; return; }
	local before
	before=$(tree_sum)
	dm apply "$T_TMP/bad.json"
	if [ "$RC" -ne 3 ]; then fail "$1" "exit $RC: $ERR"; return; fi
	[[ "$ERR" == *"$3"* ]] || { fail "$1" "message '$ERR' lacks '$3'"; return; }
	[ "$(tree_sum)" == "$before" ] || { fail "$1" "the tree changed"; return; }
	ok "$1: $3"
}
badpf "mtu not a number" '.pfs[0].mtu = "9000"' 'pfs[0].mtu: must be an integer from 68 to 65535'
badpf "mtu too small" '.pfs[0].mtu = 67' 'pfs[0].mtu: must be an integer'
badpf "mtu too large" '.pfs[0].mtu = 65536' 'pfs[0].mtu: must be an integer'
badpf "mtu fractional" '.pfs[0].mtu = 1500.5' 'pfs[0].mtu: must be an integer'
badpf "linkUp not a bool" '.pfs[0].linkUp = "yes"' 'pfs[0].linkUp: must be true or false'
badpf "eswitchMode unknown" '.pfs[0].eswitchMode = "offload"' 'pfs[0].eswitchMode: must be "legacy" or "switchdev"'
badpf "externallyManaged not a bool" '.pfs[0].externallyManaged = 1' 'pfs[0].externallyManaged: must be true or false'
badpf "unknown pf key" '.pfs[0].numvfs = 1' 'pfs[0]: unknown key "numvfs"'
printf '{"pfs": [{"name": "ens1f0", "numVfs": 8, "mtu": 1500, "mtu": 9000}]}' >"$T_TMP/bad.json"
dm apply "$T_TMP/bad.json"
check_eq "a key given twice (exit 3)" "3 yes" "$RC $([[ $ERR == *'pfs[0]: "mtu" is given twice'* ]] && echo yes)"
# the file itself: at most 1 MiB (white space past the object), a regular file; named
{ echo "$BASE"; head -c $((1024 * 1024)) /dev/zero | tr '\0' ' '; } >"$T_TMP/big.json"
before=$(tree_sum)
dm apply "$T_TMP/big.json"
check_eq "a configuration above 1 MiB: exit 3 naming the file, nothing changed" "3 yes yes" \
	"$RC $([[ $ERR == *"$T_TMP/big.json: not a regular file of at most 1 MiB"* ]] && echo yes) $([ "$(tree_sum)" == "$before" ] && echo yes)"
truncate -s $((1024 * 1024)) "$T_TMP/big.json"
dm apply --check "$T_TMP/big.json"
check_eq "... one of exactly 1 MiB is read (and checked: exit 9)" 9 "$RC"
mkfifo "$T_TMP/fifo.json"
dm apply "$T_TMP/fifo.json"
check_eq "a FIFO: exit 3, not waited on" "3 yes" "$RC $([[ $ERR == *"$T_TMP/fifo.json: not a regular file"* ]] && echo yes)"
rm -f "$T_TMP/big.json" "$T_TMP/fifo.json"
badpf "vfGroups not an array" '.pfs[0].vfGroups = {}' 'pfs[0].vfGroups: must be an array'
badpf "vfGroup not an object" '.pfs[0].vfGroups = [1]' 'pfs[0].vfGroups[0]: must be an object'
badpf "vfRange missing" '.pfs[0].vfGroups = [{"mtu": 1500}]' 'pfs[0].vfGroups[0]: vfRange is missing'
badpf "vfRange malformed" '.pfs[0].vfGroups = [{"vfRange": "0-"}]' 'pfs[0].vfGroups[0].vfRange: "0-" is not a VF range'
badpf "vfRange descending" '.pfs[0].vfGroups = [{"vfRange": "3-1"}]' 'pfs[0].vfGroups[0].vfRange: "3-1" is not a VF range'
badpf "vfRange beyond numVfs" '.pfs[0].vfGroups = [{"vfRange": "6-8"}]' 'pfs[0].vfGroups[0].vfRange: "6-8" goes beyond the PF'"'"'s numVfs 8'
badpf "vfRange not a string" '.pfs[0].vfGroups = [{"vfRange": 1}]' 'pfs[0].vfGroups[0].vfRange: must be a string'
badpf "vfGroups overlap" '.pfs[0].vfGroups = [{"vfRange": "0-3"}, {"vfRange": "3-5"}]' 'pfs[0].vfGroups[1].vfRange: overlaps vfGroups[0] (VFs 0-3)'
badpf "driver unknown" '.pfs[0].vfGroups = [{"vfRange": "0", "driver": "igbvf"}]' 'pfs[0].vfGroups[0].driver: must be "vfio-pci" or "default"'
badpf "trust not on/off" '.pfs[0].vfGroups = [{"vfRange": "0", "trust": true}]' 'pfs[0].vfGroups[0].trust: must be "on" or "off"'
badpf "spoofchk not on/off" '.pfs[0].vfGroups = [{"vfRange": "0", "spoofchk": "no"}]' 'pfs[0].vfGroups[0].spoofchk: must be "on" or "off"'
badpf "vf mtu out of range" '.pfs[0].vfGroups = [{"vfRange": "0", "mtu": 10}]' 'pfs[0].vfGroups[0].mtu: must be an integer'
badpf "vf mtu above the PF's" '.pfs[0].mtu = 1500 | .pfs[0].vfGroups = [{"vfRange": "0", "mtu": 9000}]' 'pfs[0].vfGroups[0].mtu: 9000 is above the PF'"'"'s mtu 1500'
badpf "vf mtu on vfio-pci" '.pfs[0].vfGroups = [{"vfRange": "6", "driver": "vfio-pci", "mtu": 9000}]' 'pfs[0].vfGroups[0].mtu: a VF on vfio-pci has no netdev'
badpf "mac malformed" '.pfs[0].vfGroups = [{"vfRange": "0", "mac": "02:00:00:00:00"}]' 'pfs[0].vfGroups[0].mac: must be a MAC address'
badpf "mac multicast" '.pfs[0].vfGroups = [{"vfRange": "0", "mac": "01:00:00:00:00:01"}]' 'pfs[0].vfGroups[0].mac: must be a unicast address'
badpf "one mac for several VFs" '.pfs[0].vfGroups = [{"vfRange": "0-1", "mac": "02:00:00:00:00:01"}]' 'pfs[0].vfGroups[0].mac: one MAC for several VFs'
badpf "unknown group key" '.pfs[0].vfGroups = [{"vfRange": "0", "vlan": 5}]' 'pfs[0].vfGroups[0]: unknown key "vlan"'
badpf "externallyManaged with vfGroups" '.pfs[0].externallyManaged = true | .pfs[0].vfGroups = [{"vfRange": "0"}]' 'pfs[0].vfGroups: an externallyManaged PF is only verified'
badpf "externallyManaged with linkUp" '.pfs[0].externallyManaged = true | .pfs[0].linkUp = true' 'pfs[0].linkUp: an externallyManaged PF is only verified'
badpf "the second PF's key" '.pfs += [{"name": "ens1f1", "numVfs": 4, "mtu": 0}]' 'pfs[1].mtu'

section "refused by the node: eswitch mode without devlink (exit 7), --check with --force (exit 2)"
before=$(tree_sum)
conf '{"pfs": [{"name": "ens1f0", "numVfs": 8, "eswitchMode": "switchdev"}]}'
dm apply "$T_TMP/c.json"
expect_rc "eswitchMode on a PF devlink does not know" 7
check_match "... named" 'pfs\[0\]\.eswitchMode: ens1f0 \(0000:3b:00.0\) has no devlink eswitch' "$ERR"
conf '{"pfs": [{"name": "ens1f0", "numVfs": 8}]}'
dm apply --check --force "$T_TMP/c.json"
expect_rc "--check with --force" 2
dm watch --check
expect_rc "--check belongs to apply" 2
check_eq "nothing changed by the refusals" "$before" "$(tree_sum)"

section "externallyManaged: verified, never changed (exit 3 naming what differs)"
conf '{"pfs": [{"name": "ens1f1", "numVfs": 4}, {"name": "ens1f0", "numVfs": 16, "mtu": 9000, "externallyManaged": true}]}'
before=$(tree_sum)
dm apply "$T_TMP/c.json"
expect_rc "numVfs above the enabled count, MTU above the PF's" 3
check_match "numVfs named" 'pf 0000:3b:00.0: externallyManaged: numVfs 16 wanted, 8 enabled' "$ERR"
check_match "mtu named" 'pf 0000:3b:00.0: externallyManaged: mtu 9000 wanted, ens1f0 has 1500' "$ERR"
check_match "summary" '2 externallyManaged settings not satisfied; nothing changed' "$ERR"
check_eq "nothing changed, not even the other PF" "$before" "$(tree_sum)"
dm apply --check "$T_TMP/c.json"
expect_rc "--check of an unsatisfied externallyManaged PF" 3
conf '{"pfs": [{"name": "ens1f0", "numVfs": 4, "mtu": 1500, "externallyManaged": true}]}'
dm apply "$T_TMP/c.json"
expect_rc "a satisfied externallyManaged PF (fewer VFs, same MTU)" 0
check_eq "... left as it is" "8 1500" "$(cat "$P0/sriov_numvfs") $(cat "$P0/net/ens1f0/mtu")"

section "apply --check: drift listed (exit 9), nothing changed; apply repairs it"
fresh
C1='{"pfs": [{"name": "ens1f0", "numVfs": 8, "mtu": 9000, "vfGroups": [{"vfRange": "0-1", "mtu": 9000}, {"vfRange": "2", "mtu": 1400}]}, {"name": "ens1f1", "numVfs": 4}]}'
conf "$C1"
before=$(tree_sum)
dm apply --check "$T_TMP/c.json"
expect_rc "--check of a drifted node" 9
check_eq "each difference on a line, stable wording" "pf 0000:3b:00.0: ens1f0 mtu 1500 -> 9000
pf 0000:3b:00.0: vf 0 ens1f0v0 mtu 1500 -> 9000
pf 0000:3b:00.0: vf 1 ens1f0v1 mtu 1500 -> 9000
pf 0000:3b:00.0: vf 2 ens1f0v2 mtu 1500 -> 1400
pf 0000:3b:00.1: ens1f1 link down -> up
pools: the installed configuration is not $T_TMP/c.json
apply --check: 6 differences" "$OUT"
check_eq "--check changed nothing (tree and store)" "$before" "$(tree_sum)"
check_eq "--check created no store" "no" "$([ -e "$ST" ] && echo yes || echo no)"
dm apply "$T_TMP/c.json"
expect_rc "apply" 0
check_eq "PF MTU raised, VF MTUs set, link up" "9000 9000 9000 1400 1500 0x1003" \
	"$(cat "$P0/net/ens1f0/mtu" "$VF0/net/ens1f0v0/mtu" "$VF1/net/ens1f0v1/mtu" \
		"$SYS/bus/pci/devices/0000:3b:01.2/net/ens1f0v2/mtu" "$SYS/bus/pci/devices/0000:3b:01.3/net/ens1f0v3/mtu" \
		"$P1/net/ens1f1/flags" | tr '\n' ' ' | sed 's/ $//')"
check_match "each change printed" 'pf 0000:3b:00.0: ens1f0 mtu 1500 -> 9000' "$OUT"
check_match "summary" 'apply: 6 changes' "$OUT"
dm apply --check "$T_TMP/c.json"
expect_rc "--check after apply" 0
check_eq "... silent" "" "$OUT"
dm apply "$T_TMP/c.json"
check_eq "a second apply: nothing to change" "0 apply: nothing to change" "$RC $OUT"
echo 1500 >"$VF1/net/ens1f0v1/mtu"
dm apply --check "$T_TMP/c.json"
check_eq "drift of one VF MTU" "9 pf 0000:3b:00.0: vf 1 ens1f0v1 mtu 1500 -> 9000" "$RC $(head -n1 <<<"$OUT")"
dm apply "$T_TMP/c.json"
check_eq "apply repairs it" "0 9000" "$RC $(cat "$VF1/net/ens1f0v1/mtu")"
echo 9216 >"$P0/net/ens1f0/mtu"
dm apply "$T_TMP/c.json"
check_eq "a PF MTU above the config is never lowered" "nothing to change 9216" "${OUT#apply: } $(cat "$P0/net/ens1f0/mtu")"
conf '{"pfs": [{"name": "ens1f1", "numVfs": 4, "linkUp": false}]}'
echo 0x1002 >"$P1/net/ens1f1/flags"
dm apply --check "$T_TMP/c.json"
check_eq "linkUp false leaves the link down" "" "$(grep '^pf ' <<<"$OUT")"
conf '{"pfs": [{"name": "ens1f0", "numVfs": 8, "vfGroups": [{"vfRange": "0-1", "mtu": 9217}]}]}'
dm apply "$T_TMP/c.json"
expect_rc "a VF MTU above the PF's MTU on the node" 1
check_match "... named, the PF as it was" 'vfGroups\[0\].mtu 9217 is above the PF.s mtu 9216: Invalid argument; nothing had changed on the PF' "$ERR"

section "allocated VFs are left alone and reported"
fresh
cat >"$T_TMP/pools.json" <<'EOF'
{"pfs": [{"name": "ens1f0", "numVfs": 8, "vfGroups": [{"vfRange": "0-5", "mtu": 1400}]}],
 "resourceList": [{"resourceName": "netdev", "selectors": {"pfNames": ["ens1f0#0-5"]}}]}
EOF
dm --config "$T_TMP/pools.json" alloc --pool netdev --owner ctr-apply --json
expect_rc "allocate a VF" 0
vf=$(jq -r .pciAddress <<<"$OUT")
vfnd=$(jq -r .netdev <<<"$OUT")
dm apply "$T_TMP/pools.json"
expect_rc "apply with an allocated VF in a group" 0
check_match "the allocated VF is reported" "$vf\\): allocated to ctr-apply; left alone" "$OUT"
check_eq "... and left alone, the others set" "1500 1400" \
	"$(cat "$SYS/bus/pci/devices/$vf/net/$vfnd/mtu") $(cat "$SYS/bus/pci/devices/0000:3b:01.5/net/ens1f0v5/mtu")"

bash -c 'exec 9>>"$1" && flock 9 && exec sleep 30' _ "$ST/locks/0000:3b:01.5.lock" &
lpid=$!
sleep 0.3
sed 's/"mtu": 1400/"mtu": 1300/' "$T_TMP/pools.json" >"$T_TMP/pools2.json"
dm apply "$T_TMP/pools2.json"
kill "$lpid" 2>/dev/null
expect_rc "apply with a VF whose lock another process holds" 0
check_match "the locked VF is reported" '0000:3b:01.5\): locked by an allocation at work; left alone' "$OUT"
check_eq "... and left alone, the free ones set" "1400 1300" \
	"$(cat "$SYS/bus/pci/devices/0000:3b:01.5/net/ens1f0v5/mtu") $(cat "$SYS/bus/pci/devices/0000:3b:01.4/net/ens1f0v4/mtu")"

section "watch --apply: applied at the start, then once after a burst of events (rate-limited)"
echo '{"pfs": []}' >"$T_TMP/empty.json"
ns=$(mkns wapply)
ip netns exec "$ns" "$UCNI_BIN/devmgr" --state-dir "$T_TMP/wst" watch --apply "$T_TMP/empty.json" --timeout 5 \
	>"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
wpid=$!
sleep 1
ip -n "$ns" link add napw0 type veth peer name napw1 && ip -n "$ns" link set napw0 up && ip -n "$ns" link set napw1 up
wait "$wpid"
check_eq "watch --apply ends at its timeout (exit 0)" 0 "$?"
check_eq "apply lines: at the start, once after the burst" "start 0
events 0" "$(jq -r 'select(.event == "apply") | "\(.reason) \(.exit)"' "$T_TMP/watch.out")"
check_eq "the burst: both veth ends added" "napw0 napw1" \
	"$(jq -r 'select(.event == "add") | .netdev' "$T_TMP/watch.out" | sort | xargs)"
check_eq "stdout holds JSON lines only (apply's report goes to stderr)" "" "$(jq -c . "$T_TMP/watch.out" >/dev/null 2>&1 || echo bad)"
check_match "apply's report on stderr" 'apply: nothing to change' "$(cat "$T_TMP/watch.err")"
echo '{"pfs": 1}' >"$T_TMP/wbad.json"
"$UCNI_BIN/devmgr" --state-dir "$T_TMP/wst" watch --apply "$T_TMP/wbad.json" --timeout 5 >/dev/null 2>&1
check_eq "watch --apply of a bad configuration ends at once (exit 3)" 3 "$?"
dm list --apply "$T_TMP/empty.json"
expect_rc "--apply belongs to watch" 2

section "each step's injected failure: the PF ends as it was"
if ! make --no-print-directory FAULTS=1 build/fault/bin/devmgr >"$T_TMP/build.log" 2>&1; then
	fail "building the fault-injection devmgr" "$(tail -n5 "$T_TMP/build.log")"
	finish
fi
DMBIN=$FAULT_DM
CF='{"pfs": [{"name": "ens1f1", "numVfs": 2, "mtu": 9000, "vfGroups": [{"vfRange": "0-1", "mtu": 9000}]}]}'
declare -A STEP=([apply.numvfs]='numVfs 4 -> 2' [apply.linkup]='bringing ens1f1 up' [apply.mtu]='ens1f1 mtu 1500 -> 9000'
	[apply.vfmtu]='vf 0 ens1f1v0 mtu 1500 -> 9000')
for p in apply.numvfs apply.linkup apply.mtu apply.vfmtu; do
	fresh
	conf "$CF"
	before=$(tree_sum)
	UCNI_FAULT=$p dm apply "$T_TMP/c.json"
	check_eq "$p fails apply (exit 1)" 1 "$RC"
	check_match "$p: the failed step named, the PF as it was" \
		"pf 0000:3b:00.1: ${STEP[$p]}: Input/output error; (every change of this run undone: the PF is as it was|nothing had changed on the PF)" "$ERR"
	check_eq "$p: the tree as it was" "$before" "$(tree_sum)"
done
fresh
conf "$CF"
UCNI_FAULT=apply.undo dm apply "$T_TMP/c.json"
check_eq "every undo failing (exit 1)" 1 "$RC"
check_match "what stays is named, in reverse order" \
	'after the last step: Input/output error; undo failed: vf 1 ens1f1v1 mtu back to 1500 \(Input/output error\), so that change stays; undo failed: vf 0 .*; undo failed: ens1f1 mtu back to 1500 .*; undo failed: ens1f1 down again .*; undo failed: numVfs back to 4 \(Input/output error\), so that change stays$' "$ERR"
check_eq "... and it did stay" "2 9000 0x1003" "$(cat "$P1/sriov_numvfs" "$P1/net/ens1f1/mtu" "$P1/net/ens1f1/flags" | tr '\n' ' ' | sed 's/ $//')"
UCNI_FAULT_TRACE=$T_TMP/trace dm apply "$T_TMP/c.json"
check_eq "no fault point reached on a PF with nothing to change" "" "$(grep -v '^apply.undo$' "$T_TMP/trace" 2>/dev/null | grep '^apply\.')"
check_eq "a normal build has no fault points" 0 "$(nm "$UCNI_BIN/devmgr" 2>/dev/null | grep -c fault_hit)"

finish
