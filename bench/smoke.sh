#!/bin/bash
# The benchmark in miniature (3 iterations, 2 and 20 siblings, a small devmgr tree), so
# that `make check` notices when the benchmark code rots. It checks that every case ran
# and produced plausible numbers, that bench/report turns the result into the readable
# page (date, commit, machine, every series and target), that a failing plugin is
# reported as a failure, and that the driver leaves no namespace or temporary folder
# behind, also when interrupted.
# Timings themselves are not judged here: targets belong to `make bench`.
source "$(dirname "$0")/../tests/lib.sh"
DRIVER=$UCNI_TOP/$BUILD/bench/driver
J=$T_TMP/bench.json
PFX=$T_ID-bench

# The driver makes its temporary folder under TMPDIR.
export TMPDIR=$T_TMP/tmp
mkdir -p "$TMPDIR"
leftovers() { # leftovers PREFIX — our namespaces and temporary folders still there
	{ ip netns list | awk '{print $1}' | grep "^$1-"; ls "$TMPDIR"; } | tr '\n' ' '
}
dm_args=()
if [ -x "$UCNI_BIN/devmgr" ] && [ -x "$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs" ]; then
	dm_args=(--devmgr "$UCNI_BIN/devmgr" --mkfakesysfs "$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs" --devmgr-tree 1,64)
fi

# host-local's store lives in the driver's temporary folder, never in the default dataDir.
hl_default=/var/lib/cni/networks/bench
hl_before=$([ -e $hl_default ] && echo yes || echo no)
echo "# a 3-iteration run of every case"
out=$("$DRIVER" --iterations 3 --siblings 2,20 --prefix "$PFX" --json "$J" --ucni "$UCNI_BIN/macvlan" \
	"${dm_args[@]}" 2>&1)
rc=$?
echo "$out" | sed -n '/^case/,$p' | head -n 60
check_eq "driver exits 0" 0 "$rc"
check "the JSON parses" jq -e . "$J"
check_eq "machine: nproc" "$(nproc)" "$(jq -r .machine.nproc "$J")"
check_eq "machine: kernel" "$(uname -r)" "$(jq -r .machine.kernel "$J")"
for c in macvlan-l2 macvlan-static macvlan-host-local macvlan-l2-siblings2 macvlan-l2-siblings20; do
	for op in ADD DEL; do
		impls=$(jq -r --arg c "$c" --arg o "$op" '[.series[] | select(.case == $c and .op == $o) | .impl] | sort | join(",")' "$J")
		case $c in
		macvlan-l2) want=exec-true,floor,floor+sysctl,floor-direct,reference,ucni ;;
		macvlan-static) want=floor,floor+ipam,ipam-alone,ipam-alone-ucni,reference,ucni,ucni+ipam,ucni+ipam-exec ;;
		macvlan-host-local) want=ipam-alone,ipam-alone-ucni,reference,ucni,ucni+ipam,ucni+ipam-exec ;;
		*) want=floor,reference,ucni ;;
		esac
		check_eq "$c $op: implementations" "$want" "$impls"
	done
done
check_eq "every series has 3 runs and no failure" "" \
	"$(jq -r '.series[] | select(.case | startswith("macvlan")) | select(.n != 3 or .failed != 0) | "\(.case) \(.op) \(.impl) n=\(.n) failed=\(.failed)"' "$J")"
check_eq "timings are plausible (0 < wall < 10 s, cpu > 0, rss > 100 kB)" "" \
	"$(jq -r '.series[] | select(.n > 0) | select(.wall_ms.median <= 0 or .wall_ms.median > 10000 or .cpu_ms.median <= 0 or .maxrss_kb.median < 100) | "\(.case) \(.op) \(.impl)"' "$J")"
check_eq "the reference uses more memory than ucni (the RSS figure is the program's own)" true \
	"$(jq -r '[.series[] | select(.case == "macvlan-l2" and .op == "ADD")] | (map(select(.impl == "reference"))[0].maxrss_kb.median > map(select(.impl == "ucni"))[0].maxrss_kb.median)' "$J")"
check_eq "ratios ucni/reference, ucni/floor and ucni/floor+sysctl are there" 3 \
	"$(jq '[.ratios[] | select(.case == "macvlan-l2" and .op == "ADD" and .num == "ucni")] | length' "$J")"
for c in macvlan-static macvlan-host-local; do
	check_eq "$c: ucni's IPAM against the reference's, alone and under macvlan (ADD and DEL)" \
		"ipam-alone-ucni/ipam-alone ipam-alone-ucni/ucni+ipam ucni+ipam/reference ucni+ipam/ucni ucni+ipam/ucni+ipam-exec" \
		"$(jq -r --arg c "$c" '[.ratios[] | select(.case == $c and (.num | test("^ipam-alone-ucni$|^ucni\\+ipam$"))) | "\(.num)/\(.den)"] | unique | join(" ")' "$J")"
	check_eq "$c: those ratios for both verbs" 10 \
		"$(jq --arg c "$c" '[.ratios[] | select(.case == $c and (.num | test("^ipam-alone-ucni$|^ucni\\+ipam$")))] | length' "$J")"
done
for ipam in static host-local; do
	check_eq "$ipam: the IPAM-alone (0.35 wall, 0.30 cpu) and end-to-end (1.6x L2) targets of ADD are evaluated" 4 \
		"$(jq --arg i "$ipam" '[.targets[] | select((.what | startswith($i + " ")) and (.what | test("IPAM alone .* <= 0\\.3[05]$|ucni\\+ipam/L2 ucni <= 1\\.6$")) and .value != null and .met != null)] | length' "$J")"
done
check_eq "the targets are evaluated" true "$(jq '[.targets[] | select(.value != null)] | length >= 8' "$J")"
check_match "the table lists the targets" $'\ntargets\n  ' "$out"
if [ ${#dm_args[@]} -gt 0 ]; then
	# list --json, the table, lspci -D (when installed), the floor of list --json, then
	# alloc and release
	lsp=$(command -v lspci >/dev/null && echo "3 ")
	check_eq "devmgr: inventory (devmgr list --json, list, lspci -D, floor) and 32 concurrent alloc/release ran" \
		"3 3 ${lsp}3 32 32" \
		"$(jq -r '[.series[] | select(.case | startswith("devmgr-")) | select(.failed == 0) | .n] | join(" ")' "$J")"
	check_eq "devmgr: list, the table and the floor against lspci -D, list's and the table's 0.3 targets" \
		"$([ -n "$lsp" ] && echo "3 2" || echo "0 0")" \
		"$(jq '[.ratios[] | select(.case | startswith("devmgr-inventory")) | select(.den == "lspci")] | length' "$J") $(
			jq '[.targets[] | select(.what | test("lspci -D <= 0.30"))] | length' "$J")"
else
	skip "devmgr cases" "devmgr or mkfakesysfs is not built"
fi
check_eq "nothing left behind" "" "$(leftovers "$PFX")"
check_eq "host-local kept its store in the temporary folder (no $hl_default)" "$hl_before" \
	"$([ -e $hl_default ] && echo yes || echo no)"

echo "# the readable report that make bench writes (bench/report → doc/benchmarks.md)"
R=$T_TMP/benchmarks.md
"$UCNI_TOP/bench/report" "$J" "$R" 0123abc
check_eq "bench/report exits 0" 0 "$?"
check_eq "report: the date line" "- Date: $(jq -r .date "$J")" "$(grep '^- Date: ' "$R")"
check_eq "report: the commit line" "- Commit: 0123abc" "$(grep '^- Commit: ' "$R")"
check_match "report: the machine line" "^- Machine: $(nproc) CPUs \\(.*\\), kernel $(uname -r | sed 's/[.+]/\\&/g');" \
	"$(grep '^- Machine: ' "$R")"
check_eq "report: one table row per series" "$(jq '.series | length' "$J")" \
	"$(sed -n '/^## Series/,/^## /p' "$R" | grep -c -E '^\| (macvlan|devmgr)-')"
check_eq "report: one row per target" "$(jq '.targets | length' "$J")" \
	"$(sed -n '/^## Targets/,/^## /p' "$R" | grep -c -E '\| (met|\*\*missed\*\*|reported) \|$')"
for ipam in static host-local; do
	check_eq "report: $ipam's IPAM targets (alone and end to end, ADD and DEL)" 8 \
		"$(sed -n '/^## Targets/,/^## /p' "$R" | grep -c -E "^\| $ipam (IPAM alone (ADD|DEL) (wall|cpu) ucni/reference|(ADD|DEL) (wall|cpu) ucni\+ipam/L2 ucni) ")"
	check_eq "report: $ipam's series with ucni's IPAM (ADD and DEL)" 4 \
		"$(sed -n '/^## Series/,/^## /p' "$R" | grep -c -E "^\| macvlan-$ipam \| (ADD|DEL) \| (ucni\+ipam|ipam-alone-ucni) \|")"
done
"$UCNI_TOP/bench/report" /dev/null "$T_TMP/none.md" >/dev/null 2>&1
check_eq "bench/report refuses what is not a result (exit 1), and writes nothing" "1 no" \
	"$? $([ -e "$T_TMP/none.md" ] && echo yes || echo no)"

echo "# a plugin that fails is reported, and the run fails"
out=$("$DRIVER" --iterations 1 --cases l2 --prefix "$PFX-f" --ucni /bin/false --json "$T_TMP/f.json" 2>&1)
rc=$?
check_eq "driver exits 1" 1 "$rc"
check_match "the failure is named" "macvlan-l2 ADD ucni failed: exit status 1" "$out"
check_eq "the JSON counts it" 1 "$(jq '[.series[] | select(.impl == "ucni")][0].failed' "$T_TMP/f.json")"
check_eq "nothing left behind after a failure" "" "$(leftovers "$PFX-f")"

echo "# a plugin that exits 0 without creating the link is caught"
out=$("$DRIVER" --iterations 1 --cases l2 --prefix "$PFX-t" --ucni /bin/true 2>&1)
check_match "exit 0 without eth0 counts as a failure" "ucni failed: exit 0 but eth0 is missing" "$out"

echo "# a host-local whose DEL keeps the reservation is caught by the store check"
# (a wrapper script: exec'd by ucni+ipam, ucni+ipam-exec and ipam-alone-ucni, one ADD each)
mkdir -p "$T_TMP/ipam"
ln -s "$UCNI_BIN/static" "$T_TMP/ipam/static"
printf '#!/bin/sh\n[ "$CNI_COMMAND" = DEL ] && exit 0\nexec "%s"\n' "$UCNI_BIN/host-local" >"$T_TMP/ipam/host-local"
chmod +x "$T_TMP/ipam/host-local"
out=$("$DRIVER" --iterations 1 --cases host-local --prefix "$PFX-h" --ucni "$UCNI_BIN/macvlan" \
	--ucni-ipam "$T_TMP/ipam" 2>&1)
check_eq "driver exits 1" 1 "$?"
check_match "the reservations left are named" "host-local's store .*/hl/bench still holds 3 reservations" "$out"
check_eq "nothing left behind after it" "" "$(leftovers "$PFX-h")"

echo "# interrupted in the middle: everything is still removed"
"$DRIVER" --iterations 200 --cases scale --siblings 10,200 --prefix "$PFX-i" >/dev/null 2>&1 &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
check_eq "SIGTERM: exit status 143" 143 "$?"
check_eq "nothing left behind after SIGTERM" "" "$(leftovers "$PFX-i")"

echo "# usage errors"
"$DRIVER" --iterations 0 >/dev/null 2>&1
check_eq "--iterations 0 is refused (exit 2)" 2 "$?"
"$DRIVER" --siblings 5,1 >/dev/null 2>&1
check_eq "--siblings 5,1 is refused (exit 2)" 2 "$?"
finish
