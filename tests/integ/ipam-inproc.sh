#!/bin/bash
# In-process IPAM: macvlan runs ucni's own static and host-local of its build in-process,
# and execs every other IPAM binary, with the same answers either way.
#
#   node ns: m0 (veth master) ── m1          pod ns: eth0 (macvlan) under test
#
# CNI_PATH is a directory of this run holding copies of the IPAM binaries (root-owned,
# 0755). Which path a call took is read from the plugin's debug log (stderr):
# "running <path> <VERB> in-process" or "<path> is exec'd: <why>". Every comparison
# runs the same calls once in-process and once with "ipamInProcess": false (exec).
source "$(dirname "$0")/../lib.sh"
PLUGIN=$UCNI_BIN/macvlan
BIN=$T_TMP/bin
mkdir -p "$BIN"
cp "$UCNI_BIN/static" "$UCNI_BIN/host-local" "$BIN/"
NODE=$(mkns node) && POD=$(mkns pod) || { fail "creating namespaces"; finish; }
CNI_NODE=$NODE
CNI_PATH_OVERRIDE=$BIN
ip -n "$NODE" link add m0 type veth peer name m1
ip -n "$NODE" link set m0 up
ip -n "$NODE" link set m1 up

# conf IPAM-JSON [INPROC] — a macvlan config logging at debug; INPROC false forces exec
conf() {
	jq -nc --argjson ipam "$1" --arg inproc "${2:-}" \
		'{cniVersion: "1.1.0", name: "inproc", type: "macvlan", master: "m0", logLevel: "debug", ipam: $ipam}
		 + (if $inproc == "" then {} else {ipamInProcess: ($inproc | fromjson)} end)'
}
STATIC='{"type":"static","addresses":[{"address":"10.86.0.5/24","gateway":"10.86.0.1"}],
	"routes":[{"dst":"10.87.0.0/16"}],"dns":{"nameservers":["10.86.0.53"]}}'
RANGES='[[{"subnet":"10.88.0.0/29","gateway":"10.88.0.1"}]]'
hl() { # hl DATADIR [RANGE-JSON]
	jq -nc --arg d "$1" --argjson r "${2:-$RANGES}" \
		'{type: "host-local", dataDir: $d, ranges: $r, routes: [{dst: "0.0.0.0/0"}]}'
}
# how VERB — how the last run reached its IPAM: inproc, exec (and why) or none
how() {
	if grep -q "running .* $1 in-process" "$T_TMP/stderr"; then echo inproc
	elif grep -q "is exec'd" "$T_TMP/stderr"; then echo "exec"
	else echo none; fi
}
why() { sed -n "s/.* is exec'd: //p" "$T_TMP/stderr" | head -n1; }
# an answer with what differs between two runs by nature (the random MAC) taken out
norm() { jq -cS 'del(.interfaces[]?.mac)' <<<"$CNI_OUT" 2>/dev/null || echo "$CNI_OUT"; }
# outcome: exit status and the normalized answer
outcome() { echo "$CNI_RC $(norm)"; }

# same "what" VERB CID CONF-INPROC CONF-EXEC — the two runs answer alike, and took their
# paths (interface $IFN, default eth0)
same() {
	local what=$1 verb=$2 cid=$3 a b ha hb
	cni "$verb" "$PLUGIN" "$POD" "${IFN:-eth0}" "$cid" <<<"$4"
	a=$(outcome) ha=$(how "$verb")
	# an attachment made is undone before the second run makes it again
	[ "$verb" = ADD ] && [ "$CNI_RC" -eq 0 ] && cni DEL "$PLUGIN" "$POD" "${IFN:-eth0}" "$cid" <<<"$4"
	cni "$verb" "$PLUGIN" "$POD" "${IFN:-eth0}" "$cid" <<<"$5"
	b=$(outcome) hb=$(how "$verb")
	if [ "$a" != "$b" ]; then fail "$what: same answer" "in-process: $a | exec: $b"
	elif [ "$ha" != inproc ] || [ "$hb" != exec ]; then fail "$what: paths" "first $ha, second $hb"
	else ok "$what: in-process and exec answer alike (exit ${a%% *})"; fi
}

section "static: ADD, CHECK, DEL and errors, in-process vs exec"
ci=$(conf "$STATIC") ce=$(conf "$STATIC" false)
cni ADD "$PLUGIN" "$POD" eth0 s1 <<<"$ci"
A=$(outcome) HA=$(how ADD)
check_eq "static ADD ran in-process" inproc "$HA"
check_eq "static ADD's address" "10.86.0.5/24 10.86.0.1" "$(jv '.ips[0].address + " " + .ips[0].gateway')"
cni DEL "$PLUGIN" "$POD" eth0 s1 <<<"$ci"
check_eq "static DEL ran in-process" "0 inproc" "$CNI_RC $(how DEL)"
cni ADD "$PLUGIN" "$POD" eth0 s1 <<<"$ce"
check_eq "static ADD: exec answers alike" "$A" "$(outcome)"
check_eq "static ADD with ipamInProcess false exec'd" "exec" "$(how ADD)"
check_eq "the log says why" '"ipamInProcess" is false' "$(why)"
prev_i=$(jq -c --argjson p "$CNI_OUT" '. + {prevResult: $p}' <<<"$ci")
prev_e=$(jq -c --argjson p "$CNI_OUT" '. + {prevResult: $p}' <<<"$ce")
same "static CHECK" CHECK s1 "$prev_i" "$prev_e"
same "static DEL" DEL s1 "$prev_i" "$prev_e"
bad='{"type":"static","addresses":[{"address":"10.86.0.5"}]}'
same "static ADD, address without prefix length" ADD s2 "$(conf "$bad")" "$(conf "$bad" false)"
check_eq "... code 7 naming the key" "7" "$(jv .code)"
check_match "... message" 'IPAM plugin "static": invalid config: "ipam.addresses\[0\].address"' "$(jv .msg)"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;IP=10.86.0.9/24;GATEWAY=nonsense")
same "static ADD, CNI_ARGS GATEWAY not an address" ADD s2 "$ci" "$ce"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;IP=10.86.0.9/24")
same "static ADD, CNI_ARGS IP" ADD s3 "$ci" "$ce"
cni DEL "$PLUGIN" "$POD" eth0 s3 <<<"$ce"
CNI_EXTRA_ENV=()
check_eq "nothing left in the pod" "lo" "$(ip -n "$POD" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | xargs)"

section "host-local: the same sequence on two stores, in-process vs exec"
DI=$T_TMP/hl-in DE=$T_TMP/hl-ex
ci=$(conf "$(hl "$DI")") ce=$(conf "$(hl "$DE")" false)
seq_run() { # seq_run CONF SNAP — ADD a, CHECK, DEL, CHECK (gone), ADD b, DEL twice, ADD c; store to SNAP
	local c=$1 out=() p
	cni ADD "$PLUGIN" "$POD" eth0 ha <<<"$c"; out+=("$(outcome) $(how ADD)")
	p=$(jq -c --argjson p "$CNI_OUT" '. + {prevResult: $p}' <<<"$c")
	cni CHECK "$PLUGIN" "$POD" eth0 ha <<<"$p"; out+=("$(outcome)")
	cni DEL "$PLUGIN" "$POD" eth0 ha <<<"$p"; out+=("$(outcome)")
	cni CHECK "$PLUGIN" "$POD" eth0 ha <<<"$p"; out+=("$(outcome)")
	cni ADD "$PLUGIN" "$POD" eth0 hb <<<"$c"; out+=("$(outcome)")
	cni DEL "$PLUGIN" "$POD" eth0 hb <<<"$c"; out+=("$(outcome)")
	cni DEL "$PLUGIN" "$POD" eth0 hb <<<"$c"; out+=("$(outcome)")
	cni ADD "$PLUGIN" "$POD" eth0 hc <<<"$c"; out+=("$(outcome)")
	cp -a "$(jq -r .ipam.dataDir <<<"$c")/inproc" "$2"
	cni DEL "$PLUGIN" "$POD" eth0 hc <<<"$c"
	printf '%s\n' "${out[@]}"
}
si=$(seq_run "$ci" "$T_TMP/snap-in") se=$(seq_run "$ce" "$T_TMP/snap-ex")
check_match "host-local ADD ran in-process" "inproc$" "$(head -n1 <<<"$si")"
check_match "host-local ADD with ipamInProcess false exec'd" "exec$" "$(head -n1 <<<"$se")"
check_eq "host-local: every answer alike" "$(sed '1s/ [a-z]*$//' <<<"$si")" "$(sed '1s/ [a-z]*$//' <<<"$se")"
check_match "host-local CHECK after DEL: code 3" '^1 .*"code":3' "$(sed -n 4p <<<"$si")"
check_eq "host-local: the stores are identical, file by file" "" \
	"$(diff -r "$T_TMP/snap-in" "$T_TMP/snap-ex" 2>&1)"
check_eq "host-local: the store holds the reservation of hc" "hc" "$(head -c2 "$T_TMP/snap-in/10.88.0.4" 2>&1)"
check_eq "host-local: the stores are identical after the DELs" "" "$(diff -r "$DI/inproc" "$DE/inproc" 2>&1)"
one='[[{"subnet":"10.88.0.0/29","rangeStart":"10.88.0.6","rangeEnd":"10.88.0.6"}]]'
# (no routes: three attachments in one pod would add the same default route)
ci=$(conf "$(hl "$DI" "$one")" | jq -c 'del(.ipam.routes)') ce=$(conf "$(hl "$DE" "$one")" false | jq -c 'del(.ipam.routes)')
cni ADD "$PLUGIN" "$POD" eth0 hx <<<"$ci"
cni ADD "$PLUGIN" "$POD" eth2 hx <<<"$ce"
IFN=eth1 same "host-local ADD, range exhausted" ADD hy "$ci" "$ce"
check_match "... message" 'IPAM plugin "host-local": .*' "$(jv .msg)"
cni DEL "$PLUGIN" "$POD" eth0 hx <<<"$ci"
cni DEL "$PLUGIN" "$POD" eth2 hx <<<"$ce"
CNI_EXTRA_ENV=("CNI_ARGS=IgnoreUnknown=1;IP=10.99.0.1")
same "host-local ADD, requested address outside every range" ADD hz "$ci" "$ce"
CNI_EXTRA_ENV=()
badr='[[{"subnet":"10.89.0.0/30","rangeStart":"10.90.0.1"}]]'
same "host-local ADD, rangeStart outside the subnet" ADD hz "$(conf "$(hl "$DI" "$badr")")" "$(conf "$(hl "$DE" "$badr")" false)"
check_eq "host-local: the stores are identical after the errors" "" \
	"$(diff -r -x 'last_reserved_ip.0' "$DI/inproc" "$DE/inproc" 2>&1)"

section "the store lock: the IPAM deadline bounds the wait in-process as it does the exec"
ci=$(conf "$(hl "$DI")") ce=$(conf "$(hl "$DE")" false)
# holders that are the sleep itself (the lock on its fd 9): killing them frees the lock
(exec 9>>"$DI/inproc/lock" && flock 9 && exec sleep 60) & LK1=$!
(exec 9>>"$DE/inproc/lock" && flock 9 && exec sleep 60) & LK2=$!
on_exit "kill $LK1 $LK2"
sleep 0.2
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=400)
# The ADD's wait ends at its 400 ms deadline, then the DEL that releases what it may hold
# waits for the lock too (10 s): about 10.4 s. A wait not cut to the deadline takes 20 s.
# A wall-clock bound on a loaded machine: a second try before calling it a failure.
for try in 1 2; do
	t0=$(date +%s%N)
	cni ADD "$PLUGIN" "$POD" eth0 hl1 <<<"$ci"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -lt 11000 ] && break
	echo "# try $try took $ms ms"
done
a=$(outcome)
check_match "in-process ADD on a locked store times out: code 101" '"code":101' "$a"
check_match "... as 'timed out'" 'timed out: ADD did not finish within 400 ms' "$a"
check_match "... within the deadline and the cleanup DEL's wait (${ms} ms, try $try)" '^([0-9]{1,4}|10[0-9]{3})$' "$ms"
check_match "... saying it ran in-process (nothing is killed there)" \
	'within 400 ms; it ran in-process \(its waits end at that limit\) and its answer was not used' "$a"
cni ADD "$PLUGIN" "$POD" eth0 hl1 <<<"$ce"
b=$(outcome)
check_match "the exec'd ADD times out too, saying it was killed" 'within 400 ms; it was killed"' "$b"
# the same code and message but for what was done at the limit
check_eq "the exec'd ADD answers alike but for that" \
	"${a/; it ran in-process (its waits end at that limit) and its answer was not used/}" \
	"${b/; it was killed/}"
CNI_EXTRA_ENV=()
kill "$LK1" "$LK2" 2>/dev/null; wait "$LK1" "$LK2" 2>/dev/null

section "who runs in-process: only ucni's own IPAM of this very build"
# one_add "what" WANT-HOW [WHY] — ADD then DEL of static from $BIN, the path taken checked
one_add() {
	local c
	c=$(conf "$STATIC")
	cni ADD "$PLUGIN" "$POD" eth0 w <<<"$c"
	local rc=$CNI_RC h
	h=$(how ADD)
	if [ "$rc" -ne 0 ]; then fail "$1" "ADD failed: $CNI_OUT"
	elif [ "$h" != "$2" ]; then fail "$1" "took $h ($(why))"
	elif [ -n "${3:-}" ] && [[ "$(why)" != *"$3"* ]]; then fail "$1" "exec'd because '$(why)', not '$3'"
	else ok "$1 → $h${3:+ ($3)}"; fi
	cni DEL "$PLUGIN" "$POD" eth0 w <<<"$c"
}
ID=$(grep -o '"[0-9a-f]\{64\}"' "$UCNI_TOP/$BUILD/gen/ucni/buildid.h" | tr -d '"')
OTHER=$(rev <<<"$ID")
check_match "the plugin's own note (.note.ucni.build) carries this build's id" "$ID" \
	"$(readelf -x .note.ucni.build "$PLUGIN" 2>/dev/null | awk '/0x/ {print $NF}' | tr -d '\n' | tr -d '.')"
one_add "the copy of this build" inproc
cp "$UCNI_BIN/static" "$T_TMP/static.other"
perl -pi -e "s/$ID/$OTHER/g" "$T_TMP/static.other"
check_eq "the patched copy carries another build id" 1 "$(grep -c "$OTHER" "$T_TMP/static.other")"
install -m 0755 "$T_TMP/static.other" "$BIN/static"
one_add "a copy of another build (its note patched)" exec "another build"
cni ADD "$PLUGIN" "$POD" eth0 w <<<"$(conf "$STATIC")"
cni DEL "$PLUGIN" "$POD" eth0 w <<<"$(conf "$STATIC")"
CNI_EXTRA_ENV=()
strace -f -qq -e trace=execve -o "$T_TMP/strace" ip netns exec "$NODE" env -i UCNI_NODE_CONFIG="$UCNI_NODE_CONFIG" CNI_COMMAND=ADD CNI_CONTAINERID=w \
	CNI_NETNS=/var/run/netns/$POD CNI_IFNAME=eth0 CNI_PATH="$BIN" "$PLUGIN" <<<"$(conf "$STATIC")" >/dev/null 2>&1
# (at least once: a sanitizer build may execve itself again)
check_match "strace: the plugin execve'd the other build's static" '^[1-9]$' \
	"$(grep -c "execve(\"$BIN/static\"" "$T_TMP/strace")"
cni DEL "$PLUGIN" "$POD" eth0 w <<<"$(conf "$STATIC")"
install -m 0755 "$UCNI_BIN/static" "$BIN/static"
strace -f -qq -e trace=execve -o "$T_TMP/strace" ip netns exec "$NODE" env -i UCNI_NODE_CONFIG="$UCNI_NODE_CONFIG" CNI_COMMAND=ADD CNI_CONTAINERID=w \
	CNI_NETNS=/var/run/netns/$POD CNI_IFNAME=eth0 CNI_PATH="$BIN" "$PLUGIN" <<<"$(conf "$STATIC")" >/dev/null 2>&1
check_eq "strace: this build's static is not execve'd" 0 "$(grep -c "execve(\"$BIN/static\"" "$T_TMP/strace")"
cni DEL "$PLUGIN" "$POD" eth0 w <<<"$(conf "$STATIC")"
if [ -x "$REF_CNI/static" ]; then
	install -m 0755 "$REF_CNI/static" "$BIN/static"
	one_add "the reference (Go) static under the same name" exec "no ucni IPAM note"
else
	skip "the reference static" "$REF_CNI/static is not installed"
fi
printf '#!/bin/sh\nexec %s "$@"\n' "$UCNI_BIN/static" >"$BIN/static"
chmod 0755 "$BIN/static"
one_add "a wrapper script execing this build's static" exec "no ucni IPAM note"
install -m 0755 "$UCNI_BIN/static" "$BIN/static"
chmod g+w "$BIN/static"
one_add "a group-writable copy" exec "writable by group or others"
chmod 0757 "$BIN/static"
one_add "an other-writable copy" exec "writable by group or others"
chmod 4755 "$BIN/static"
one_add "a setuid copy" exec "setuid or setgid"
chmod 2755 "$BIN/static"
one_add "a setgid copy" exec "setuid or setgid"
chmod 0755 "$BIN/static"
if setcap cap_net_raw+ep "$BIN/static" 2>/dev/null; then
	one_add "a copy with file capabilities" exec "file capabilities"
	setcap -r "$BIN/static"
else
	skip "a copy with file capabilities" "setcap refused here"
fi
chown nobody "$BIN/static"
one_add "a copy owned by another user" exec "another user"
chown root "$BIN/static"
ln -sf "$UCNI_BIN/static" "$T_TMP/static.link"
rm -f "$BIN/static"
ln -s "$UCNI_BIN/static" "$BIN/static"
one_add "a symbolic link to this build's static (the exec follows it too)" inproc
rm -f "$BIN/static"
install -m 0755 "$UCNI_BIN/static" "$BIN/static"

section "a filesystem mounted noexec: exec'd, failing as the exec fails"
NX=$T_TMP/noexec
mkdir -p "$NX"
if mount -t tmpfs -o noexec,size=8m tmpfs "$NX"; then
	on_exit "umount '$NX'"
	install -m 0755 "$UCNI_BIN/static" "$NX/static"
	CNI_PATH_OVERRIDE=$NX
	cni ADD "$PLUGIN" "$POD" eth0 nx <<<"$(conf "$STATIC")"
	a=$(outcome) h=$(how ADD)
	cni ADD "$PLUGIN" "$POD" eth0 nx <<<"$(conf "$STATIC" false)"
	check_eq "static on a noexec mount: answers as the exec path" "$a" "$(outcome)"
	check_eq "... fails (the kernel refuses the exec)" 1 "$CNI_RC"
	check_match "... not in-process" "^(exec|none)$" "$h"
	CNI_PATH_OVERRIDE=$BIN
else
	skip "noexec mount" "mount refused"
fi

section "hostile CNI_PATH entries"
H=$T_TMP/hostile
mkdir -p "$H"
hostile() { # hostile "what" — the answer with CNI_PATH=$H in-process equals the exec's
	CNI_PATH_OVERRIDE=$H
	cni ADD "$PLUGIN" "$POD" eth0 hh <<<"$(conf "$STATIC")"
	local a b
	a=$(outcome)
	local ha
	ha=$(how ADD)
	cni DEL "$PLUGIN" "$POD" eth0 hh <<<"$(conf "$STATIC")"
	cni ADD "$PLUGIN" "$POD" eth0 hh <<<"$(conf "$STATIC" false)"
	b=$(outcome)
	cni DEL "$PLUGIN" "$POD" eth0 hh <<<"$(conf "$STATIC" false)"
	CNI_PATH_OVERRIDE=$BIN
	if [ "$a" != "$b" ]; then fail "$1" "in-process: $a | exec: $b"
	elif [ "$ha" = inproc ]; then fail "$1" "ran in-process"
	else ok "$1: not in-process, answers as the exec path (exit ${a%% *})"; fi
}
head -c 100 "$UCNI_BIN/static" >"$H/static" && chmod 0755 "$H/static"
hostile "an ELF file cut after 100 bytes"
head -c 3000 "$UCNI_BIN/static" >"$H/static"
hostile "an ELF file cut inside its note segment's reach"
rm -f "$H/static"; ln -s /dev/zero "$H/static"
hostile "a link to /dev/zero"
rm -f "$H/static"; mkfifo -m 0755 "$H/static"
hostile "a FIFO"
rm -f "$H/static"; mkdir "$H/static"
hostile "a directory"
rmdir "$H/static"
# an ELF header claiming a huge program header table
/usr/bin/python3 - "$UCNI_BIN/static" "$H/static" <<'PY'
import sys, struct
b = bytearray(open(sys.argv[1], 'rb').read())
struct.pack_into('<H', b, 0x38, 0xffff)   # e_phnum
open(sys.argv[2], 'wb').write(b)
PY
chmod 0755 "$H/static"
hostile "an ELF file with 65535 program headers"
/usr/bin/python3 - "$UCNI_BIN/static" "$H/static" <<'PY'
import sys, struct
b = bytearray(open(sys.argv[1], 'rb').read())
phoff, = struct.unpack_from('<Q', b, 0x20)
phnum, = struct.unpack_from('<H', b, 0x38)
for i in range(phnum):
    o = phoff + i * 56
    if struct.unpack_from('<I', b, o)[0] == 4:          # PT_NOTE: a huge size
        struct.pack_into('<Q', b, o + 32, 1 << 40)
open(sys.argv[2], 'wb').write(b)
PY
hostile "an ELF file whose note segments claim 1 TiB"
rm -f "$H/static"

section "the config key"
cni ADD "$PLUGIN" "$POD" eth0 k <<<"$(conf "$STATIC" '"no"')"
check_eq "\"ipamInProcess\": \"no\" is refused: code 7" "1 7" "$CNI_RC $(jv .code)"
check_match "... naming the key" 'ipamInProcess' "$(jv .msg)"
cni ADD "$PLUGIN" "$POD" eth0 k <<<"$(conf "$STATIC" true)"
check_eq "\"ipamInProcess\": true runs in-process" "0 inproc" "$CNI_RC $(how ADD)"
cni DEL "$PLUGIN" "$POD" eth0 k <<<"$(conf "$STATIC" true)"

section "no descriptor and no memory left behind (valgrind)"
if nm "$PLUGIN" 2>/dev/null | grep -q __asan_init; then
	skip "valgrind" "a sanitizer build"
elif command -v valgrind >/dev/null; then
	c=$(conf "$(hl "$DI")")
	for verb in ADD CHECK DEL; do
		in=$c
		[ "$verb" = CHECK ] && in=$(jq -c --argjson p "$PREV" '. + {prevResult: $p}' <<<"$c")
		out=$(ip netns exec "$NODE" env -i UCNI_NODE_CONFIG="$UCNI_NODE_CONFIG" CNI_COMMAND=$verb CNI_CONTAINERID=vg CNI_NETNS=/var/run/netns/$POD \
			CNI_IFNAME=eth0 CNI_PATH="$BIN" valgrind -q --error-exitcode=99 --leak-check=full \
			--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=yes \
			"$PLUGIN" <<<"$in" 2>"$T_TMP/vg")
		rc=$?
		[ "$verb" = ADD ] && PREV=$out
		fds=$(($(grep -c 'Open file descriptor' "$T_TMP/vg") - $(grep -c '<inherited from parent>' "$T_TMP/vg")))
		if [ "$rc" -ne 0 ] || [ "$fds" -ne 0 ] || ! grep -q "in-process" "$T_TMP/vg"; then
			fail "valgrind: host-local $verb in-process" "exit $rc, fds $fds, answer $(tr -d "\n" <<<"$out" | head -c 300): $(grep -m5 '==[0-9]*==' "$T_TMP/vg" | xargs)"
		else
			ok "valgrind: host-local $verb in-process: no error, no leak, no descriptor left open"
		fi
	done
else
	skip "valgrind" "not installed"
fi
finish
