# Sourced by tests/sriov/vm-suite.sh inside the VM, with igb VFs up:
#   source tests/sriov/bench-smoke.sh PCI      (PCI: a VF bound to igbvf, netdev in the node)
# The sriov benchmark of `make bench-vm` (bench/driver --kind sriov) in miniature, so that
# `make check` notices when it rots: 3 iterations on one VF, every series complete, the
# VF home as before, nothing left behind; a plugin that lies about ADD or DEL is caught
# and the VF recovered, also when the driver is interrupted. Timings are not judged here.
bs_pci=$1
bs_drv=$UCNI_TOP/$BUILD/bench/driver
bs_nd=$(ls "/sys/bus/pci/devices/$bs_pci/net" 2>/dev/null | head -n1)
bs_pfx=$T_ID-bvf
export TMPDIR=$T_TMP/bench-tmp
mkdir -p "$TMPDIR"
bs_left() { { ip netns list | awk '{print $1}' | grep "^$bs_pfx"; ls "$TMPDIR"; } | xargs; }
bs_home() { ip -br link show "$bs_nd" 2>&1 | awk '{print $1, $2, $3}'; }
bs_before=$(bs_home)
check_match "VF $bs_pci has its netdev $bs_nd, down" "^$bs_nd DOWN " "$bs_before"

bs_out=$("$bs_drv" --kind sriov --vf "$bs_pci" --ucni "$UCNI_BIN/sriov" --iterations 3 --prefix "$bs_pfx" \
	--json "$T_TMP/bench-vf.json" 2>&1)
bs_rc=$?
echo "$bs_out" | sed -n '/^case/,/^ratios/p' | sed 's/^/# /'
check_eq "bench driver --kind sriov: exit 0" 0 "$bs_rc"
bs_got=$(jq -r '(.series[] | "\(.case) \(.op) \(.impl) n=\(.n) failed=\(.failed)"),
	([.series[] | select(.wall_ms.median > 0 and .cpu_ms.median > 0 and .maxrss_kb.median > 100)] | "plausible=\(length)"),
	([.ratios[] | select(.case == "sriov-vf" and .num == "ucni" and .den == "floor" and .wall > 0 and .cpu > 0)] | "ratios=\(length)"),
	"vf=\(.implementations.vf)"' "$T_TMP/bench-vf.json" 2>&1 | xargs)
check_eq "every series has 3 runs, plausible timings, ucni/floor ratios for ADD and DEL" \
	"sriov-vf ADD ucni n=3 failed=0 sriov-vf ADD floor n=3 failed=0 sriov-vf DEL ucni n=3 failed=0 sriov-vf DEL floor n=3 failed=0 plausible=4 ratios=2 vf=$bs_pci" \
	"$bs_got"
check_match "the table warns that only ratios mean anything" "only the ratios mean anything" "$bs_out"
check_eq "the VF is home as before (name, state, MAC)" "$bs_before" "$(bs_home)"
check_eq "nothing left behind (namespaces, temporary folder)" "" "$(bs_left)"

# A plugin that exits 0 without doing anything; one whose ADD works (through the floor)
# but whose DEL does nothing: both caught, and the driver brings the VF back each time.
bs_out=$("$bs_drv" --kind sriov --vf "$bs_pci" --ucni /bin/true --iterations 1 --prefix "$bs_pfx" 2>&1)
check_eq "a plugin that does nothing: exit 1" 1 "$?"
check_match "  ... named" "sriov-vf ADD ucni failed: exit 0 but eth0 is missing in the pod" "$bs_out"
printf '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] && exec %s vf add "$CNI_NETNS" %s eth0\nexit 0\n' \
	"$UCNI_TOP/$BUILD/bench/floor" "$bs_nd" >"$T_TMP/lazy-del"
chmod +x "$T_TMP/lazy-del"
bs_out=$("$bs_drv" --kind sriov --vf "$bs_pci" --ucni "$T_TMP/lazy-del" --iterations 2 --prefix "$bs_pfx" \
	--json "$T_TMP/bench-lazy.json" 2>&1)
check_eq "a plugin whose DEL leaves the VF in the pod: exit 1" 1 "$?"
check_match "  ... named" "sriov-vf DEL ucni failed: exit 0 but eth0 is still in the pod" "$bs_out"
check_eq "  ... both its DELs failed; the floor's runs after each recovery worked" "ucni 0 2 floor 2 0" \
	"$(jq -r '.series[] | select(.op == "DEL") | "\(.impl) \(.n) \(.failed)"' "$T_TMP/bench-lazy.json" | xargs)"
check_eq "  ... the VF is home as before" "$bs_before" "$(bs_home)"
check_eq "  ... nothing left behind" "" "$(bs_left)"

# Interrupted while a pod holds the VF (the plugin's ADD moved it and is still running):
# the pod namespace goes, the kernel returns the VF under another name (eth0 is taken in
# the node), and the driver gives it its own name back.
printf '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] && %s vf add "$CNI_NETNS" %s eth0 && exec sleep 2\nexit 0\n' \
	"$UCNI_TOP/$BUILD/bench/floor" "$bs_nd" >"$T_TMP/slow-add"
chmod +x "$T_TMP/slow-add"
"$bs_drv" --kind sriov --vf "$bs_pci" --ucni "$T_TMP/slow-add" --iterations 5 --prefix "$bs_pfx" >/dev/null 2>&1 &
bs_pid=$!
for ((i = 0; i < 100; i++)); do ip link show "$bs_nd" >/dev/null 2>&1 || break; sleep 0.1; done
check_eq "the VF left the node for a pod" "" "$(ip -br link show "$bs_nd" 2>/dev/null)"
kill -TERM "$bs_pid"
wait "$bs_pid"
check_eq "SIGTERM while a pod holds the VF: exit 143" 143 "$?"
check_eq "  ... the VF is home as before" "$bs_before" "$(bs_home)"
check_eq "  ... nothing left behind" "" "$(bs_left)"

"$bs_drv" --kind sriov --iterations 1 >/dev/null 2>&1
check_eq "--kind sriov without --vf is refused (exit 2)" 2 "$?"
"$bs_drv" --kind sriov --vf "$bs_pci" --cases l2 >/dev/null 2>&1
check_eq "--kind sriov with the macvlan cases is refused (exit 2)" 2 "$?"
unset TMPDIR
