#!/bin/bash
# Concurrency and crash safety of the allocation store, through the CLI.
#
#   32 `devmgr alloc` at once on one pool of 64 VFs: every one gets a VF, no VF twice;
#   32 releases at once: the store ends empty. Three rounds, timed.
#   With a FAULTS=1 build (build/fault/bin/devmgr): an I/O error, then a kill -9, at every
#   named point of alloc/release (UCNI_FAULT=point [UCNI_FAULT_KILL=1]); then kill -9 of the
#   normal build at random instants: every record left is complete and valid, errors leave
#   no trace, a crash's temp file is replaced by its record's next write, a writer sweeps
#   dead writers' temp files once a minute, gc removes them all, and all VFs can be
#   allocated and released again. A failed write of sriov_numvfs puts the old count back.
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

GEN=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
SYS=$T_TMP/sys
ST=$T_TMP/state
CONF=$T_TMP/pools.json
"$GEN" "$SYS" --pfs 1 --vfs 64 || { fail "generate the fake sysfs"; finish; }
echo '{"resourceList": [{"resourceName": "all", "selectors": {"vendors": ["8086"]}}]}' >"$CONF"
DM=("$UCNI_BIN/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$CONF")
N=32

# records_valid — every record parses, names its own file's VF and has an owner
records_valid() {
	local f bad=0
	for f in "$ST"/vfs/*.json; do
		[ -e "$f" ] || continue
		jq -e --arg a "$(basename "$f" .json)" '.pciAddress == $a and (.owner | type == "string") and .format == "ucni-devmgr-allocation"' \
			"$f" >/dev/null 2>&1 || { echo "bad record: $f: $(cat "$f")"; bad=1; }
	done
	return $bad
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

for round in 1 2 3; do
	rm -rf "$T_TMP/out" && mkdir "$T_TMP/out"
	t0=$(now_ms)
	for i in $(seq 1 $N); do
		"${DM[@]}" alloc --pool all --owner "ctr-$round-$i" --ifname net1 >"$T_TMP/out/$i" 2>&1 &
	done
	wait
	t1=$(now_ms)
	got=$(cat "$T_TMP/out"/* | awk '{print $1}' | sort)
	check_eq "round $round: $N parallel allocs all succeed" "$N" "$(grep -c '^0000:' <<<"$got")"
	check_eq "round $round: no VF given twice" "$N" "$(sort -u <<<"$got" | wc -l)"
	check_eq "round $round: $N records" "$N" "$(ls "$ST/vfs" | grep -c '\.json$')"
	check "round $round: records valid" records_valid
	owners=$(jq -r .owner "$ST"/vfs/*.json | sort -u | wc -l)
	check_eq "round $round: each owner recorded once" "$N" "$owners"
	t2=$(now_ms)
	for i in $(seq 1 $N); do
		"${DM[@]}" release --owner "ctr-$round-$i" >/dev/null 2>&1 &
	done
	wait
	t3=$(now_ms)
	check_eq "round $round: all released" "" "$(ls -A "$ST/vfs")"
	echo "# round $round: $N concurrent allocs in $((t1 - t0)) ms, $N concurrent releases in $((t3 - t2)) ms" \
		"(wall, including process start; per call ≈ $(((t1 - t0) * 2 / N)) / $(((t3 - t2) * 2 / N)) ms on 2 cores)"
done

# ---- an I/O error, then a crash, at each named point (FAULTS=1 build)
if ! make --no-print-directory -C "$UCNI_TOP" FAULTS=1 build/fault/bin/devmgr >"$T_TMP/build.log" 2>&1; then
	fail "build the FAULTS=1 devmgr" "$(tail -n3 "$T_TMP/build.log" | tr '\n' ' ')"
	finish
fi
FDM=("$UCNI_TOP/build/fault/bin/devmgr" --sysfs-root "$SYS" --state-dir "$ST" --config "$CONF")
fault() { # fault POINT KILL ARGS… — the FAULTS=1 devmgr failing at POINT; status in RC
	{ UCNI_FAULT=$1 UCNI_FAULT_KILL=$2 "${FDM[@]}" "${@:3}" >/dev/null 2>"$T_TMP/fault.err"; RC=$?; } 2>/dev/null
}
nrec() { ls "$ST/vfs" | grep -c '\.json$'; }
ntmp() { ls -A "$ST/vfs" | grep -c '^\.tmp\.'; }
for p in claim-locked claim-before-write write-tmp-created write-tmp-half write-tmp-written write-synced write-renamed; do
	fault "$p" 0 alloc --pool all --owner "err-$p"
	check_eq "alloc with an I/O error at $p fails (exit 1)" 1 "$RC"
	case $p in
	write-renamed) check_eq "error after the rename: the record is complete" 1 "$(nrec)" ;;
	# the previous crash's temp file was the same record's: this write replaced it
	*) check_eq "error before the rename: no record, no temp file" "0 0" "$(nrec) $(ntmp)" ;;
	esac
	check "after an error at $p the records are valid" records_valid
	"${DM[@]}" release --owner "err-$p" >/dev/null

	fault "$p" 1 alloc --pool all --owner "crash-$p"
	check_eq "alloc killed at $p" 137 "$RC"
	check "after a crash at $p the records are valid" records_valid
	"${DM[@]}" pools --json >"$T_TMP/pools" 2>&1
	check "after a crash at $p pools still reads the store" jq -e '.pools[0].total == 64' "$T_TMP/pools"
	case $p in
	write-renamed) check_eq "crash after the rename: the allocation is complete" 1 "$(nrec)" ;;
	*) check_eq "crash before the rename: no allocation" 0 "$(nrec)" ;;
	esac
	case $p in
	write-*) [ "$p" != write-renamed ] && check_eq "the crash at $p left the record's temp file" 1 "$(ntmp)" ;;
	esac
	"${DM[@]}" release --owner "crash-$p" >/dev/null
done
fault write-tmp-half 1 alloc --pool all --owner crash-again
check_eq "one more crash leaves its temp file" 1 "$(ntmp)"
out=$("${DM[@]}" gc 2>&1)
check_eq "gc after the crashes" "released 0 stale allocations" "$out"
check_eq "gc removed every leftover" "" "$(ls -A "$ST/vfs")"

"${DM[@]}" alloc --pool all --owner rel-a >/dev/null
fault release-locked 0 release --owner rel-a
check_eq "release with an I/O error before the unlink fails" "1 1" "$RC $(nrec)"
fault release-locked 1 release --owner rel-a
check_eq "release killed before the unlink: still allocated" "137 1" "$RC $(nrec)"
check "records valid" records_valid
fault release-unlinked 1 release --owner rel-a
check_eq "release killed after the unlink: released" "137 0" "$RC $(nrec)"

# ---- kill -9 at random instants, with competitors running
for i in $(seq 1 60); do
	"${DM[@]}" alloc --pool all --owner "rnd-$i" --ifname net1 >/dev/null 2>&1 &
	pid=$!
	if ((i % 3 == 0)); then "${DM[@]}" release --owner "rnd-$((i - 1))" >/dev/null 2>&1 & fi
	sleep "0.00$((RANDOM % 8))"
	kill -9 "$pid" 2>/dev/null
	wait 2>/dev/null
done 2>/dev/null
check "after 60 random kill -9: records valid" records_valid
left=$(ntmp)
echo "# after 60 random kill -9: $left temp file(s) left (each replaced by its record's next write)"
check "at most one temp file per VF" test "$left" -le 64
touch -d '2 minutes ago' "$ST/store.lock"
"${DM[@]}" alloc --pool all --owner sweeper >/dev/null 2>&1
check_eq "a minute on, the next writer sweeps every killed writer's temp file" 0 "$(ntmp)"
"${DM[@]}" release --owner sweeper >/dev/null 2>&1
"${DM[@]}" pools --json >"$T_TMP/pools" 2>&1
check "pools reads the store" jq -e '.pools[0].total == 64' "$T_TMP/pools"
used=$(jq '.pools[0].used' "$T_TMP/pools")
check_eq "used VFs = records" "$(ls "$ST/vfs" | grep -c '\.json$')" "$used"
"${DM[@]}" gc >/dev/null
check_eq "gc leaves no temp file" "" "$(ls -A "$ST/vfs" | grep '^\.tmp\.' || true)"
for i in $(seq 1 60); do "${DM[@]}" release --owner "rnd-$i" >/dev/null 2>&1; done
check_eq "everything released" "" "$(ls -A "$ST/vfs")"
# ---- sriov_numvfs: a change whose write of the new count fails puts the old one back;
# when that fails too, the message says where the PF stands (FAULTS=1 build)
PF=$(cd "$SYS/bus/pci/devices" && for d in *; do [ -e "$d/sriov_totalvfs" ] && echo "$d"; done | head -n1)
NV=$SYS/bus/pci/devices/$PF/sriov_numvfs
fault numvfs-set 0 vfs "$PF" 32
check_eq "vfs whose write fails: exit 1" 1 "$RC"
check_match "it says the PF is back at its old count" "cannot set sriov_numvfs to 32: .*; it is back at its old count, 64" \
	"$(cat "$T_TMP/fault.err")"
check_eq "sriov_numvfs is the old count again" 64 "$(cat "$NV")"
fault numvfs-set-restore 0 vfs "$PF" 32
check_eq "vfs whose write and write-back fail: exit 1" 1 "$RC"
check_match "it says where the PF stands" "it is now at 0 VFs: putting its old count, 64, back failed too" \
	"$(cat "$T_TMP/fault.err")"
check_eq "sriov_numvfs is 0" 0 "$(cat "$NV")"
echo 64 >"$NV"

# and the whole pool is usable again
fails=0
for i in $(seq 1 64); do "${DM[@]}" alloc --pool all --owner "again-$i" >/dev/null 2>&1 || fails=$((fails + 1)); done
check_eq "all 64 VFs can be allocated again" 0 "$fails"
"${DM[@]}" alloc --pool all --owner one-too-many >/dev/null 2>&1
check_eq "and then the pool is exhausted (exit 5)" 5 $?
finish
