#!/bin/bash
# Run every fuzz target for FUZZ_TIME seconds (default 10: the short pass of
# make check; `make fuzz` gives 60) from seeds in tests/fuzz/seeds and conf/.
# A crash fails the suite and leaves its input in build/fuzz/crashes/.
# fuzz_ipam: host-local's and static's config parsers (seeds: tests/fuzz/seeds/ipam and
# conf/'s host-local and static sections).
# fuzz_dm_* are devmgr's parsers: pool config and VF ranges, sysfs values and names, one
# allocation record, a VF's saved state (seeds: conf/devmgr-pools.json, records the store
# and the sriov plugin write, and every input that once crashed).
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
FUZZ_TIME=${FUZZ_TIME:-10}
# WERROR=0: `make check WERROR=1` passes WERROR to this make through MAKEFLAGS, and clang
# warns where gcc does not (lib/kernel/nl.c: -Wcast-align, -Wsign-compare); the gcc build is
# the warnings gate, this one hunts crashes.
if ! make --no-print-directory FUZZ=1 WERROR=0 fuzz-build >"$T_TMP/build.log" 2>&1; then
	fail "building the fuzz targets" "$(tail -n5 "$T_TMP/build.log")"
	finish
fi
corpus=build/fuzz/corpus crashes=build/fuzz/crashes
mkdir -p "$crashes"
# conf/ plugins (with the list's name and version) seed the config target, and those with
# an ipam section the IPAM target.
mkdir -p "$corpus/fuzz_conf" "$corpus/fuzz_ipam"
for f in conf/*.conflist; do
	jq -c '.plugins[] + {name: .name, cniVersion: .cniVersion}' "$f" 2>/dev/null |
		while read -r line; do
			h=$(echo "$line" | md5sum | cut -c1-16)
			echo "$line" >"$corpus/fuzz_conf/$h"
			[[ "$line" == *'"ipam":{"type":'* ]] && echo "$line" >"$corpus/fuzz_ipam/$h"
		done
done
total=0
for t in fuzz_conf fuzz_args fuzz_result fuzz_ipam fuzz_dm_config fuzz_dm_sysfs fuzz_dm_record fuzz_dm_saved; do
	seeds=tests/fuzz/seeds/${t#fuzz_}
	mkdir -p "$corpus/$t"
	# From a scratch folder: whatever a target might write stays out of the tree.
	out=$(cd "$T_TMP" && "$UCNI_TOP/build/fuzz/bin/$t" -max_total_time="$FUZZ_TIME" -timeout=10 \
		-rss_limit_mb=1024 -artifact_prefix="$UCNI_TOP/$crashes/$t-" -print_final_stats=1 \
		"$UCNI_TOP/$corpus/$t" "$UCNI_TOP/$seeds" 2>&1)
	rc=$?
	runs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
	total=$((total + ${runs:-0}))
	if [ $rc -eq 0 ]; then ok "$t: ${runs:-?} inputs in ${FUZZ_TIME}s, no crash"
	else fail "$t" "$(echo "$out" | grep -m3 -E 'ERROR|SUMMARY|Test unit written')"; fi
done
echo "fuzz: $total inputs executed"
finish
