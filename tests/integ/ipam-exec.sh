#!/bin/bash
# IPAM plugins that are slow, linger, flood, hang or exit early, and plugins
# killed while their IPAM plugin runs: macvlan on the host kernel.
#
#   node ns: m0 (veth master) ── m1          pod ns: eth0 (macvlan) under test
#
# The IPAM plugin is tests/integ/fake-ipam, reached through a link whose path
# is unique to this run: that path is in the command line of the fake and of
# every wait it starts, so a process that outlived its call is found by name;
# it also records its pid (= its process group) in $PIDS. A "reservation" is
# a file named after the container ID in $RES. Every case checks the CNI code
# and message, a generous bound on the time taken, and that no process, no
# reservation and no link in the container is left.
source "$(dirname "$0")/../lib.sh"
PLUGIN=$UCNI_BIN/macvlan
BIN=$T_TMP/bin RES=$T_TMP/res PIDS=$T_TMP/pids LOG=$T_TMP/fake.log
mkdir -p "$BIN" "$RES"
ln -s "$UCNI_TOP/tests/integ/fake-ipam" "$BIN/fake-ipam"
MARK=$BIN/fake-ipam
: >"$PIDS"
NODE=$(mkns node) && POD=$(mkns pod) || { fail "creating namespaces"; finish; }
ip -n "$NODE" link add m0 type veth peer name m1
ip -n "$NODE" link set m0 up
ip -n "$NODE" link set m1 up
# Whatever a failed check left running must not outlive the suite.
on_exit "pkill -KILL -f -- '$MARK'"

# conf MODE DELAY — a macvlan config whose IPAM is the fake
conf() {
	jq -nc --arg mode "$1" --argjson delay "${2:-0}" --arg res "$RES" --arg pids "$PIDS" --arg log "$LOG" \
		'{cniVersion: "1.0.0", name: "ipx", type: "macvlan", master: "m0",
		  ipam: {type: "fake-ipam", mode: $mode, delay: $delay, dir: $res, pids: $pids, log: $log,
			 result: {ips: [{address: "10.84.0.5/24"}]}}}'
}
# plugin_env VERB CID — the command line of a plugin run as a runtime would
plugin_env() {
	PLUGIN_CMD=(ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$1"
		CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$POD" CNI_IFNAME=eth0 CNI_PATH="$BIN"
		"${CNI_EXTRA_ENV[@]}" "$PLUGIN")
}
# run VERB CID CONF — like `cni`, also timing it (MS) and stopping it after 60 s
run() {
	local t0
	plugin_env "$1" "$2"
	t0=$(date +%s%N)
	CNI_OUT=$(timeout -s KILL 60 "${PLUGIN_CMD[@]}" <<<"$3" 2>"$T_TMP/stderr")
	CNI_RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}
ms_rand() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); } # ms_rand MS → seconds
# what a run may leave behind: processes named after the fake, reservations, links in the pod
procs() { pgrep -f -- "$MARK" | wc -l; }
reservations() { find "$RES" -type f | wc -l; }
pod_links() { ip -n "$POD" -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ' | sed 's/ $//'; }
leftovers() { echo "procs:$(procs) reservations:$(reservations) links:[$(pod_links)]"; }
CLEAN="procs:0 reservations:0 links:[lo]"
# group_alive PGID — a live (not zombie) process in that process group?
group_alive() { ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ {f = 1} END {exit !f}'; }
pid_alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [[ $s != Z* ]]; }
check_gone() { # check_gone "what" PGID
	if [ -z "$2" ]; then fail "$1" "no process group recorded"
	elif group_alive "$2"; then fail "$1" "$(ps -o pid,pgid,stat,args -g "$2" | tail -n +2 | xargs)"
	else ok "$1"; fi
}
last_pgid() { awk -v v="$1" '$2 == v {p = $1} END {print p}' "$PIDS"; }

# expect "what" CODE MSG-REGEX MAX-MS — checks the last run: failure, code, message, time
expect() {
	local code msg
	code=$(jv .code) msg=$(jv .msg)
	if [ "$CNI_RC" -ne 1 ] || [ "$code" != "$2" ] || ! [[ $msg =~ $3 ]]; then
		fail "$1" "exit $CNI_RC, code $code (want $2), msg '$msg' (want /$3/)"
	elif [ "$MS" -gt "$4" ]; then
		fail "$1" "took $MS ms (bound $4 ms)"
	else
		ok "$1 → code $2 in $MS ms"
	fi
}

# ---------------------------------------------------------------------------
echo "# the fake IPAM answers normally: ADD and DEL work, nothing is left"
run ADD ok "$(conf ok 0)"
check_eq "plain ADD succeeds with the fake's address" "0 10.84.0.5/24" "$CNI_RC $(jv '.ips[0].address')"
check_eq "plain ADD: one reservation" 1 "$(reservations)"
run DEL ok "$(conf ok 0)"
check_eq "plain DEL succeeds" 0 "$CNI_RC"
check_eq "plain ADD+DEL: nothing left" "$CLEAN" "$(leftovers)"

# ---------------------------------------------------------------------------
echo "# 1: kill -9 of the plugin while IPAM runs (IPAM takes 0.6 s), DEL at once; 20 runs"
# Even runs kill at a random moment after the start (before, during or after the
# IPAM start); odd runs wait for the IPAM plugin to start, then kill at random.
bad_rc=0 bad_del=0 bad_links=0 bad_res=0 survivors=0 started=0
for i in $(seq 1 20); do
	cid=k$i
	before=$(wc -l <"$PIDS")
	plugin_env ADD "$cid"
	"${PLUGIN_CMD[@]}" <<<"$(conf ok 0.6)" >/dev/null 2>&1 &
	pid=$!
	if ((i % 2 == 0)); then
		sleep "$(ms_rand $((RANDOM % 400)))"
	else
		for _ in $(seq 1 200); do [ "$(wc -l <"$PIDS")" -gt "$before" ] && break; sleep 0.02; done
		sleep "$(ms_rand $((RANDOM % 300)))"
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	[ "$rc" -eq 137 ] || { bad_rc=$((bad_rc + 1)); echo "# run $i: ADD exited $rc before the kill"; }
	ipam=$(tail -n +$((before + 1)) "$PIDS" | awk '$2 == "ADD" {print $1; exit}')
	run DEL "$cid" "$(conf ok 0.6)"
	[ "$CNI_RC" -eq 0 ] || { bad_del=$((bad_del + 1)); echo "# run $i: DEL: $CNI_OUT"; }
	[ "$(pod_links)" = lo ] || { bad_links=$((bad_links + 1)); echo "# run $i: links [$(pod_links)]"; }
	[ -e "$RES/$cid" ] && bad_res=$((bad_res + 1))
	if [ -n "$ipam" ]; then
		started=$((started + 1))
		# the fake's shell (the IPAM plugin itself) died with the plugin, before its 0.6 s were over
		pid_alive "$ipam" && { survivors=$((survivors + 1)); echo "# run $i: IPAM plugin $ipam outlived its caller"; }
	fi
done
check_eq "killed ADDs: each was killed while running" 0 "$bad_rc"
check_eq "killed ADDs: each DEL at once succeeded" 0 "$bad_del"
check_eq "killed ADDs: no link in the container after DEL" 0 "$bad_links"
check_eq "killed ADDs: no reservation right after DEL" 0 "$bad_res"
check "killed ADDs: at least the odd runs hit a running IPAM plugin ($started of 20)" [ "$started" -ge 10 ]
check_eq "killed ADDs: no IPAM plugin outlived its caller" 0 "$survivors"
sleep 1.5 # longer than the IPAM's 0.6 s: an orphan would have reserved by now
check_eq "killed ADDs: nothing reserved, nothing running after the IPAM's delay" "$CLEAN" "$(leftovers)"

# ---------------------------------------------------------------------------
echo "# 2: timeout 800 ms; the IPAM reserves and answers after 5-6 s, or answers around the deadline; 20 runs"
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=800)
bad=0
for i in $(seq 1 20); do
	cid=t$i
	: >"$LOG"
	if ((i % 2 == 1)); then
		d=$(ms_rand $((5000 + RANDOM % 1000)))
		run ADD "$cid" "$(conf slow-reserve "$d")"
		expect "timeout run $i (reserves, answers after ${d}s)" 101 \
			'IPAM plugin "fake-ipam" timed out: ADD did not finish within 800 ms; it was killed' 4500
	else
		# reserves and answers after 0.5-1.1 s: in time or not, nothing may be left
		d=$(ms_rand $((500 + RANDOM % 600)))
		run ADD "$cid" "$(conf ok "$d")"
		if [ "$CNI_RC" -eq 0 ]; then
			check_eq "timeout run $i (answers after ${d}s): in time, ADD succeeds" "10.84.0.5/24 eth0" \
				"$(jv '.ips[0].address') $(pod_links | cut -d' ' -f1)"
			run DEL "$cid" "$(conf ok "$d")"
			check_eq "timeout run $i: DEL" 0 "$CNI_RC"
		else
			expect "timeout run $i (answers after ${d}s): late" 101 'timed out: ADD did not finish within 800 ms' 4500
		fi
	fi
	# (under load the ADD may be killed before the fake logs it; the DEL has 10 s)
	check_eq "timeout run $i: IPAM DEL came last" DEL "$(tail -n1 "$LOG" | cut -d' ' -f1)"
	[ "$(leftovers)" = "$CLEAN" ] || { bad=$((bad + 1)); echo "# run $i left $(leftovers)"; }
done
CNI_EXTRA_ENV=()
check_eq "timeouts: nothing left right after any ADD (process group reaped, reservation released, no link)" 0 "$bad"

# ---------------------------------------------------------------------------
echo "# 3: an IPAM that answers, closes its output and lingers"
# (3 s: time enough for the fake to answer even on a loaded machine; it lingers 30 s)
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=3000)
run ADD linger "$(conf linger 30)"
expect "lingering IPAM is bounded by the timeout" 101 \
	'timed out: it closed its output but did not exit within 3000 ms of ADD; it was killed and its answer not used' 7000
pg=$(last_pgid ADD)
check_gone "lingering IPAM: its process group is gone" "$pg"
check_eq "lingering IPAM: nothing left" "$CLEAN" "$(leftovers)"
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=5000)
run ADD linger "$(conf linger 0.3)"
check_eq "an IPAM that lingers but exits in time: its answer is used" "0 10.84.0.5/24" "$CNI_RC $(jv '.ips[0].address')"
run DEL linger "$(conf linger 0.3)"
check_eq "lingered in time: DEL leaves nothing" "$CLEAN" "$(leftovers)"
CNI_EXTRA_ENV=()

# ---------------------------------------------------------------------------
echo "# 4: an IPAM that prints 4 MiB (the default timeout: 60 s)"
run ADD flood "$(conf flood 0)"
expect "flooding IPAM fails at once" 101 'IPAM plugin "fake-ipam" printed more than 1048576 bytes \(1 MiB\) on ADD; it was killed' 5000
pg=$(last_pgid ADD)
check_gone "flooding IPAM: its process group is gone" "$pg"
check_eq "flooding IPAM: nothing left" "$CLEAN" "$(leftovers)"

# ---------------------------------------------------------------------------
echo "# 5: an IPAM that exits before reading its 300 KB of input"
head -c 300000 /dev/zero | tr '\0' x >"$T_TMP/big"
CNI_EXTRA_ENV=(FAKE_IPAM_EARLY=1)
run ADD early "$(conf ok 0 | jq -c --rawfile b "$T_TMP/big" '.padding = $b')"
CNI_EXTRA_ENV=()
expect "early exit: its own error is passed on, no SIGPIPE" 11 'IPAM plugin "fake-ipam": fake-ipam: gone early' 5000
check_eq "early exit: nothing left" "$CLEAN" "$(leftovers)"

# ---------------------------------------------------------------------------
echo "# more: hangs in ADD and in the DEL after it (that DEL has its own 10 s), a start failure"
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=700)
: >"$LOG"
run ADD hang "$(conf hang 0 | jq -c '.ipam.hangDel = true')"
CNI_EXTRA_ENV=()
expect "IPAM hanging in ADD and in its DEL: the ADD's error is reported" 101 \
	'timed out: ADD did not finish within 700 ms; it was killed' 16000
check "IPAM hanging in ADD and in its DEL: the DEL was given 10 s ($MS ms)" [ "$MS" -ge 10700 ]
check_eq "hanging IPAM: ADD, then DEL" "ADD DEL" "$(cut -d' ' -f1 "$LOG" | xargs)"
check_eq "hanging IPAM: its waits were killed with it" "$CLEAN" "$(leftovers)"
printf '#!/nonexistent/interpreter\n' >"$BIN/broken-ipam"
chmod +x "$BIN/broken-ipam"
run ADD broken "$(conf ok 0 | jq -c '.ipam.type = "broken-ipam"')"
expect "an IPAM plugin that cannot be executed: the exec error" 101 \
	"IPAM plugin \"broken-ipam\" could not be started \\($BIN/broken-ipam\\)" 5000
check_match "exec failure: the errno is in the details" "^No such file or directory" "$(jv .details)"
check_eq "exec failure: nothing left" "$CLEAN" "$(leftovers)"
CNI_EXTRA_ENV=(UCNI_IPAM_TIMEOUT_MS=nonsense)
run ADD junk "$(conf ok 0)"
check_eq "UCNI_IPAM_TIMEOUT_MS that is not a number: the default applies" 0 "$CNI_RC"
run DEL junk "$(conf ok 0)"
CNI_EXTRA_ENV=()

# ---------------------------------------------------------------------------
echo "# an answer holding an escaped NUL: refused, and what the IPAM reserved released"
run ADD nul "$(conf nul 0)"
expect "IPAM result with \\u0000" 6 'printed an answer to ADD holding a NUL \(\\u0000\) at byte [0-9]+ in ips\[0\]\.address' 5000
check_eq "a NUL answer leaves nothing" "$CLEAN" "$(leftovers)"
grep -q '^DEL ' "$LOG" && ok "its IPAM DEL ran" || fail "its IPAM DEL ran" "no DEL in $LOG"

# ---------------------------------------------------------------------------
echo "# without pidfds (kernels before 5.2, simulated in a FAULTS=1 build): the exit is polled for"
if (cd "$UCNI_TOP" && make --no-print-directory FAULTS=1 build/fault/bin/macvlan) >"$T_TMP/build.log" 2>&1; then
	PLUGIN=$UCNI_TOP/build/fault/bin/macvlan
	NOPIDFD=(UCNI_FAULT_SIMULATE=no-pidfd)
	CNI_EXTRA_ENV=("${NOPIDFD[@]}")
	run ADD np "$(conf ok 0.2)"
	check_eq "no pidfd: ADD succeeds" "0 10.84.0.5/24" "$CNI_RC $(jv '.ips[0].address')"
	run DEL np "$(conf ok 0.2)"
	check_eq "no pidfd: ADD+DEL leave nothing" "$CLEAN" "$(leftovers)"
	CNI_EXTRA_ENV=("${NOPIDFD[@]}" UCNI_IPAM_TIMEOUT_MS=800)
	run ADD np "$(conf slow-reserve 6)"
	expect "no pidfd: timeout" 101 'timed out: ADD did not finish within 800 ms; it was killed' 4500
	check_eq "no pidfd: timeout leaves nothing" "$CLEAN" "$(leftovers)"
	CNI_EXTRA_ENV=("${NOPIDFD[@]}" UCNI_IPAM_TIMEOUT_MS=3000)
	run ADD np "$(conf linger 30)"
	expect "no pidfd: lingering IPAM" 101 'closed its output but did not exit within 3000 ms' 7000
	check_eq "no pidfd: lingering leaves nothing" "$CLEAN" "$(leftovers)"
	CNI_EXTRA_ENV=("${NOPIDFD[@]}")
	run ADD np "$(conf flood 0)"
	expect "no pidfd: flooding IPAM" 101 'printed more than 1048576 bytes' 5000
	check_eq "no pidfd: flooding leaves nothing" "$CLEAN" "$(leftovers)"
	CNI_EXTRA_ENV=()
else
	fail "building the fault-injection plugin" "$(tail -n5 "$T_TMP/build.log")"
fi
check_eq "at the end: nothing left" "$CLEAN" "$(leftovers)"
finish
