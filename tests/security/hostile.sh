#!/bin/bash
# Hostile network configs: with Multus a tenant writes the config and the plugin runs it
# as root. Every case asserts the CNI code and message, and that nothing outside the
# plugin's own state changed: the decoy tree (contents and modes), the links of the node
# and the pod, the sriov store's records. Host kernel; macvlan on a veth master, sriov
# against the fake sysfs tree (as tests/security/sriov.sh).
#
#   node netns: m0 (veth) ── gw0 in gw netns       ens1f0v0 ── veth ── p0 (VF 0000:3b:01.0)
#   $T_TMP/node.json  logDirs [$T_TMP/log], configDirs [$T_TMP/etc], dataDirs [$T_TMP/data]
#                     (UCNI_NODE_CONFIG)
#   $T_TMP/decoy      authorized_keys, shadow (a secret), a directory: must never change
#
# Covered: logFile outside the log directories, through a symlink (file or directory),
# a FIFO, a directory, a device, a hard link, ".." traversal; control characters in values
# escaped in a legit log; poolConfig outside the config directories, a FIFO (returns
# promptly), a symlink, a directory, "..", secrets never echoed; an escaped NUL (\u0000)
# in ipam.type, master, name, keys, prevResult, runtimeConfig, args, the pool config and
# a store record, and a raw NUL byte; an empty ipam.type; the node settings file's own
# rules.
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

MACVLAN=$UCNI_BIN/macvlan SRIOV=$UCNI_BIN/sriov DEVMGR=$UCNI_BIN/devmgr
MKFAKE=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
for b in "$MACVLAN" "$SRIOV" "$DEVMGR" "$MKFAKE"; do
	[ -x "$b" ] || { fail "built" "$b missing"; finish; }
done
export CNI_PATH_OVERRIDE="$UCNI_BIN:$REF_CNI:$UCNI_TOP/tests/integ"

LOGDIR=$T_TMP/log CFGDIR=$T_TMP/etc DECOY=$T_TMP/decoy SYS=$T_TMP/sys STATE=$T_TMP/state
SECRET="root:\$6\$SECRET-$T_ID-hash:19000:0:99999:7:::"
mkdir -p "$LOGDIR" "$CFGDIR" "$DECOY/dir"
echo "ssh-ed25519 AAAA-the-admins-key admin@node" >"$DECOY/authorized_keys"
echo "$SECRET" >"$DECOY/shadow"
chmod 600 "$DECOY/authorized_keys" "$DECOY/shadow"
echo "$SECRET" >"$CFGDIR/secret-text"
echo "{\"resourceList\": [{\"resourceName\": \"SECRET-$T_ID\", \"selectors\": {\"drivers\": [\"SECRET-$T_ID\"], \"vendors\": [\"SECRET-$T_ID\"]}}]}" >"$CFGDIR/secret.json"
chmod 600 "$CFGDIR/secret-text" "$CFGDIR/secret.json"
echo '{"resourceList": [{"resourceName": "fake_vfs", "selectors": [{"pfNames": ["ens1f0#0-3"]}]}]}' >"$CFGDIR/pools.json"
echo "{\"logDirs\": [\"$LOGDIR\"], \"configDirs\": [\"$CFGDIR\"], \"dataDirs\": [\"$T_TMP/data\"]}" >"$T_TMP/node.json"
"$MKFAKE" "$SYS" >/dev/null || { fail "mkfakesysfs"; finish; }

NODE=$(mkns node) && GW=$(mkns gw) && POD=$(mkns pod) || { fail "namespaces"; finish; }
CNI_NODE=$NODE
ip link add m0 netns "$NODE" type veth peer name gw0 netns "$GW"
ip -n "$NODE" link set m0 up
ip -n "$NODE" link add ens1f0v0 address 02:00:00:aa:00:00 type veth peer name p0
ip -n "$NODE" link set p0 up
CNI_EXTRA_ENV=(UCNI_NODE_CONFIG="$T_TMP/node.json" UCNI_SYSFS_ROOT="$SYS" UCNI_STATE_DIR="$STATE")

mconf() { jq -c "${1:-.}" <<<"{\"cniVersion\":\"1.0.0\",\"name\":\"hostile-$T_ID\",\"type\":\"macvlan\",\"master\":\"m0\"}"; }
sconf() { jq -c "${1:-.}" <<<'{"cniVersion":"1.0.0","name":"hostile","type":"sriov"}'; }
# The decoy tree and the config directory: paths, types, modes, contents.
decoys() {
	(cd "$T_TMP" && find decoy etc -printf '%p %y %m %s\n' | sort && find decoy etc -type f -exec md5sum {} + | sort) | md5sum
}
links() { echo "node:[$(ip -n "$NODE" -o link | awk -F': ' '{print $2}' | sort | xargs)] pod:[$(ip -n "$POD" -o link | awk -F': ' '{print $2}' | sort | xargs)]"; }
records() { (cd "$STATE" 2>/dev/null && find vfs -type f | sort && cat vfs/*.json 2>/dev/null) | md5sum; }
snapshot() { echo "$(decoys) $(links) $(records)"; }

# hostile "what" CODE msg-part PLUGIN CONFIG [VERB] — a bad config: its code and message,
# nothing changed, the secret nowhere in the answer; returns within 20 s (a FIFO must
# not block it). CONFIG "@FILE": the config is FILE's bytes (a NUL byte in a variable
# is lost).
hostile() {
	local what=$1 code=$2 part=$3 plugin=$4 config=$5 verb=${6:-ADD} before t0
	before=$(snapshot)
	t0=$SECONDS
	CNI_OUT=$(if [[ "$config" == @* ]]; then cat "${config#@}"; else printf '%s' "$config"; fi | timeout 20 ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$verb" CNI_CONTAINERID=ctr-hostile CNI_NETNS=/var/run/netns/$POD CNI_IFNAME=net1 \
		CNI_PATH="$CNI_PATH_OVERRIDE" "${CNI_EXTRA_ENV[@]}" "$plugin" 2>"$T_TMP/stderr")
	CNI_RC=$?
	if [ "$CNI_RC" -eq 124 ]; then fail "$what" "did not return within 20 s"; return; fi
	local got msg
	got=$(jv .code) msg=$(jv .msg)
	if [ "$CNI_RC" -ne 1 ] || [ "$got" != "$code" ]; then
		fail "$what" "exit $CNI_RC code $got (want $code): $msg"
	elif [[ "$msg" != *"$part"* ]]; then
		fail "$what" "message '$msg' lacks '$part'"
	else
		ok "$what → code $code"
	fi
	check_eq "$what: nothing changed" "$before" "$(snapshot)"
	if grep -q "SECRET-$T_ID" <<<"$CNI_OUT$(cat "$T_TMP/stderr")"; then
		fail "$what: the secret stays unseen" "$CNI_OUT"
	fi
	[ $((SECONDS - t0)) -le 10 ] || fail "$what: prompt" "took $((SECONDS - t0)) s"
}

# ignored "what" msg-part CONFIG — a logFile the node's rules refuse: ADD and DEL go on
# (exit 0), a warning naming why is on stderr, the decoy tree and the config directory
# are unchanged, the pod's link is gone after DEL; returns within 20 s each.
ignored() {
	local what=$1 part=$2 config=$3 before verb t0 err=
	before="$(decoys) $(links)"
	for verb in ADD DEL; do
		t0=$SECONDS
		CNI_OUT=$(printf '%s' "$config" | timeout 20 ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			CNI_COMMAND="$verb" CNI_CONTAINERID=ctr-hostile CNI_NETNS=/var/run/netns/$POD CNI_IFNAME=net1 \
			CNI_PATH="$CNI_PATH_OVERRIDE" "${CNI_EXTRA_ENV[@]}" "$MACVLAN" 2>"$T_TMP/stderr")
		CNI_RC=$?
		[ "$CNI_RC" -eq 0 ] || err+="$verb exit $CNI_RC: $CNI_OUT; "
		[ $((SECONDS - t0)) -le 10 ] || err+="$verb took $((SECONDS - t0)) s; "
		[ "$verb" = DEL ] || { grep -qF -- "ignored: " "$T_TMP/stderr" && grep -qF -- "$part" "$T_TMP/stderr"; } ||
			err+="no warning with '$part' on stderr: $(head -c 300 "$T_TMP/stderr"); "
		[ "$(grep -c . "$T_TMP/stderr")" -le 1 ] || err+="$verb: more than one stderr line; "
	done
	if [ -z "$err" ]; then ok "$what → ignored, with a warning"; else fail "$what" "$err"; fi
	check_eq "$what: nothing changed" "$before" "$(decoys) $(links)"
}

echo "# logFile: only inside the node's log directories"
ignored "logFile is the decoy authorized_keys" 'is outside the log directories the node allows' \
	"$(mconf ".logFile = \"$DECOY/authorized_keys\"")"
check_match "  ... the warning names the allowed directory" "$LOGDIR" "$(cat "$T_TMP/stderr")"
hostile "logFile the decoy, master with a newline" 7 '"master"' \
	"$MACVLAN" "$(mconf ".logFile = \"$DECOY/authorized_keys\" | .master = \"m0\nssh-rsa AAAA evil\"")"
ignored "logFile creating a file outside" 'outside the log directories' "$(mconf ".logFile = \"$DECOY/new.log\"")"
check "  ... not created" test ! -e "$DECOY/new.log"
ignored "logFile /root/.ssh/authorized_keys" 'outside the log directories' "$(mconf '.logFile = "/root/.ssh/authorized_keys"')"
ignored "logFile with .. out of the log directory" 'without ".."' "$(mconf ".logFile = \"$LOGDIR/../decoy/authorized_keys\"")"
ignored "logFile with ./.. out of the log directory" 'without ".."' "$(mconf ".logFile = \"$LOGDIR/./sub/../../decoy/x.log\"")"
ignored "logFile with a control character" 'control characters' "$(mconf ".logFile = \"$LOGDIR/a\nb.log\"")"
ln -s "$DECOY/authorized_keys" "$LOGDIR/link.log"
ignored "logFile a symlink out of the log directory" 'is a symbolic link' "$(mconf ".logFile = \"$LOGDIR/link.log\"")"
ln -s "$DECOY/nothing-yet" "$LOGDIR/dangling.log"
ignored "logFile a dangling symlink" 'is a symbolic link' "$(mconf ".logFile = \"$LOGDIR/dangling.log\"")"
check "  ... its target not created" test ! -e "$DECOY/nothing-yet"
ln -s "$DECOY" "$LOGDIR/sub"
ignored "logFile beneath a symlinked directory" 'lies beneath a symbolic link' "$(mconf ".logFile = \"$LOGDIR/sub/authorized_keys\"")"
mkfifo "$LOGDIR/fifo.log"
ignored "logFile a FIFO" 'is not a regular file' "$(mconf ".logFile = \"$LOGDIR/fifo.log\"")"
( exec 3<>"$LOGDIR/fifo.log"; sleep 25 ) & reader=$!
on_exit "kill $reader"
ignored "logFile a FIFO with a reader" 'is not a regular file' "$(mconf ".logFile = \"$LOGDIR/fifo.log\"")"
kill "$reader" 2>/dev/null
mkdir "$LOGDIR/dir.log"
ignored "logFile a directory" 'is not a regular file' "$(mconf ".logFile = \"$LOGDIR/dir.log\"")"
ignored "logFile the log directory itself" 'is not a regular file' "$(mconf ".logFile = \"$LOGDIR\"")"
if mknod "$LOGDIR/null.log" c 1 3 2>/dev/null; then
	ignored "logFile a device" 'is not a regular file' "$(mconf ".logFile = \"$LOGDIR/null.log\"")"
else
	skip "logFile a device" "mknod not permitted here"
fi
if ln "$DECOY/authorized_keys" "$LOGDIR/hard.log" 2>/dev/null; then
	ignored "logFile a hard link to the decoy" 'more than one hard link' "$(mconf ".logFile = \"$LOGDIR/hard.log\"")"
	rm -f "$LOGDIR/hard.log"
else
	skip "logFile a hard link" "ln refused"
fi

echo "# a legit log: one line per event, control characters escaped"
LOG=$LOGDIR/legit.log
cni ADD "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf ".logLevel = \"debug\" | .logFile = \"$LOG\" | .master = \"m0\nssh-rsa AAAA evil@x\"")"
check_eq "master with a newline: refused (code 7)" 7 "$(jv .code)"
cni ADD "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf ".logLevel = \"debug\" | .logFile = \"$LOG\" | .mode = \"bridge\r\n\tssh-rsa BBBB evil@y\u001b[2J\"")"
check_eq "mode with control characters: refused (code 7)" 7 "$(jv .code)"
check_eq "the log file is 0600" 600 "$(stat -c %a "$LOG")"
check_eq "no line of the tenant's making" 0 "$(grep -c -e '^ssh-rsa' -e '^	ssh-rsa' "$LOG")"
check_eq "every line is an event line" 0 "$(grep -c -v '^20[0-9-]*T[0-9:.]*Z \[[0-9]*\] [a-z]*: ' "$LOG")"
check_match "the newline is there, escaped" 'm0\\nssh-rsa AAAA evil@x' "$(cat "$LOG")"
check_match "CR, tab and ESC too" 'bridge\\r\\n\\tssh-rsa BBBB evil@y\\x1b\[2J' "$(cat "$LOG")"
check_eq "two events, two lines" 2 "$(wc -l <"$LOG")"
cni ADD "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf ".logLevel = \"debug\" | .mode = \"x\nssh-rsa CCCC\"")"
check_eq "logging to stderr: escaped as well" "0 1" "$(grep -c '^ssh-rsa' "$T_TMP/stderr") $(grep -c 'x\\nssh-rsa CCCC' "$T_TMP/stderr")"
mkdir -p "$LOGDIR/sub2"
cni ADD "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf ".logLevel = \"info\" | .logFile = \"$LOGDIR//sub2/./ok.log\"")"
check_eq "a logFile in a subdirectory, written lexically odd: accepted" 0 "$CNI_RC"
check_match "  ... and written" 'ADD ctr-log: macvlan net1 on m0' "$(cat "$LOGDIR/sub2/ok.log" 2>/dev/null)"
cni DEL "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf)"
cni ADD "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf ".logFile = \"$LOGDIR/missing-dir/x.log\"")"
check_eq "a logFile whose directory is missing: not logged, not failed" 0 "$CNI_RC"
check_match "  ... a warning on stderr" 'cannot be opened' "$(cat "$T_TMP/stderr")"
cni DEL "$MACVLAN" "$POD" net1 ctr-log <<<"$(mconf)"

echo "# the node settings file"
cp "$T_TMP/node.json" "$T_TMP/node-gw.json" && chmod 664 "$T_TMP/node-gw.json"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node-gw.json
ignored "a group-writable node file is not used" 'writable by root alone' "$(mconf ".logFile = \"$LOG\"")"
cp "$T_TMP/node.json" "$T_TMP/node-nobody.json" && chown nobody "$T_TMP/node-nobody.json"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node-nobody.json
ignored "a node file not owned by root is not used" 'owned by root' "$(mconf ".logFile = \"$LOG\"")"
mkfifo "$T_TMP/node-fifo.json"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node-fifo.json
ignored "a FIFO as the node file: refused promptly" 'not a regular file' "$(mconf ".logFile = \"$LOG\"")"
echo '{"logDirs": ["/var/log/../../root"]}' >"$T_TMP/node-bad.json"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node-bad.json
ignored "a node file with .. in a directory" 'logDirs' "$(mconf ".logFile = \"$LOG\"")"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/no-such-node.json
ignored "no node file: /var/log/ucni only" '(/var/log/ucni)' "$(mconf ".logFile = \"$LOG\"")"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node.json
cni ADD "$MACVLAN" "$POD" net1 ctr-plain <<<"$(mconf)"
check_eq "a config naming no file never needs the node file" 0 "$CNI_RC"
cni DEL "$MACVLAN" "$POD" net1 ctr-plain <<<"$(mconf)"

echo "# host-local's ipam.dataDir: only beneath the node's dataDirs ($T_TMP/data)"
mkdir -p "$T_TMP/data" && ln -s "$DECOY" "$T_TMP/data/evil"
hlconf() { echo "{\"cniVersion\": \"1.0.0\", \"name\": \"$2\", \"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.66.0.0/24\", \"dataDir\": \"$1\"}}"; }
hostile "dataDir the decoy tree" 7 '"ipam.dataDir" value' "$UCNI_BIN/host-local" "$(hlconf "$DECOY" keys)"
hostile "  ... at DEL" 7 'outside the data directories' "$UCNI_BIN/host-local" "$(hlconf "$DECOY" keys)" DEL
hostile "dataDir a link in the allowed directory to the decoy tree" 7 'symbolic link' "$UCNI_BIN/host-local" \
	"$(hlconf "$T_TMP/data/evil" keys)"
hostile "dataDir leaving the allowed directory with .." 7 '"ipam.dataDir" value' "$UCNI_BIN/host-local" \
	"$(hlconf "$T_TMP/data/../decoy" keys)"
echo '{"dataDirs": ["/"]}' >"$T_TMP/node-root.json"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node-root.json
hostile "a node file allowing / as a data directory is not used" 7 'dataDirs' "$UCNI_BIN/host-local" \
	"$(hlconf "$DECOY" keys)"
CNI_EXTRA_ENV[0]=UCNI_NODE_CONFIG=$T_TMP/node.json
check_eq "  ... nothing made in the allowed directory" "evil" "$(ls -A "$T_TMP/data")"

echo "# escaped NUL (\\u0000) and empty ipam.type"
FAKE_LOG=$T_TMP/fake-ipam.log
hostile "ipam.type \"fake-ipam\\u0000x\"" 6 '"ipam.type" holds an escaped NUL' "$MACVLAN" \
	"$(mconf ".ipam = {type: \"fake-ipam\u0000x\", log: \"$FAKE_LOG\"}")"
check "  ... the IPAM plugin never ran" test ! -e "$FAKE_LOG"
hostile "master \"m0\\u0000evil\"" 6 '"master" holds an escaped NUL' "$MACVLAN" "$(mconf '.master = "m0\u0000evil"')"
hostile "name with \\u0000" 6 '"name" holds an escaped NUL' "$MACVLAN" "$(mconf ".name = \"hostile-$T_ID\u0000x\"")"
hostile "a key with \\u0000" 6 'a key of the top-level object' "$MACVLAN" "$(mconf '. + {"master\u0000x": "evil"}')"
hostile "prevResult interface name with \\u0000" 6 '"prevResult.interfaces[0].name"' "$MACVLAN" \
	"$(mconf '.prevResult = {cniVersion: "1.0.0", interfaces: [{name: "net1\u0000x", sandbox: "/x"}]}')"
hostile "prevResult address with \\u0000" 6 '"prevResult.ips[0].address"' "$MACVLAN" \
	"$(mconf '.prevResult = {cniVersion: "1.0.0", ips: [{address: "10.0.0.1/24\u0000x"}]}')"
hostile "runtimeConfig.mac with \\u0000" 6 '"runtimeConfig.mac"' "$MACVLAN" "$(mconf '.runtimeConfig = {mac: "02:00:00:00:00:01\u0000"}')"
hostile "args with \\u0000" 6 '"args.cni.ips[0]"' "$MACVLAN" "$(mconf '.args = {cni: {ips: ["10.0.0.1\u0000x"]}}')"
hostile "DEL with \\u0000 in master" 6 '"master"' "$MACVLAN" "$(mconf '.master = "m0\u0000evil"')" DEL
mconf '.master = "m0@evil"' | tr '@' '\0' >"$T_TMP/rawnul.json"
hostile "master with a raw NUL byte" 6 '"master" holds a NUL byte' "$MACVLAN" "@$T_TMP/rawnul.json"
hostile "an empty ipam.type" 7 '"ipam.type" is empty' "$MACVLAN" "$(mconf '.ipam = {type: ""}')"
cni ADD "$MACVLAN" "$POD" net1 ctr-l2 <<<"$(mconf '.ipam = {} | .name = "a\\u0000b"')"
check_eq "\"\\\\u0000\" (a backslash, then text) and \"ipam\": {} are fine" 0 "$CNI_RC"
cni DEL "$MACVLAN" "$POD" net1 ctr-l2 <<<"$(mconf '.ipam = {} | .name = "a\\u0000b"')"

echo "# poolConfig: only inside the node's config directories, never echoed"
pool() { sconf "$(printf '.pool = "fake_vfs" | .poolConfig = %s' "$(jq -n --arg p "$1" '$p')")"; }
hostile "poolConfig the decoy shadow" 7 'is outside the config directories the node allows' "$SRIOV" "$(pool "$DECOY/shadow")"
check_match "  ... the message names the allowed directory" "$CFGDIR" "$(jv .msg)"
hostile "poolConfig /etc/shadow" 7 'outside the config directories' "$SRIOV" "$(pool /etc/shadow)"
hostile "poolConfig with .." 7 'without ".."' "$SRIOV" "$(pool "$CFGDIR/../decoy/shadow")"
hostile "poolConfig a text file with a secret" 7 'not valid JSON (error at byte 0)' "$SRIOV" "$(pool "$CFGDIR/secret-text")"
hostile "poolConfig a JSON file with secret values" 7 'resourceList[0].selectors.vendors[0]: "..."' "$SRIOV" "$(pool "$CFGDIR/secret.json")"
ln -s "$DECOY/shadow" "$CFGDIR/link.json"
hostile "poolConfig a symlink out of the directory" 7 'is a symbolic link' "$SRIOV" "$(pool "$CFGDIR/link.json")"
ln -s "$DECOY" "$CFGDIR/sub"
hostile "poolConfig beneath a symlinked directory" 7 'lies beneath a symbolic link' "$SRIOV" "$(pool "$CFGDIR/sub/shadow")"
mkfifo "$CFGDIR/fifo.json"
hostile "poolConfig a FIFO returns promptly" 7 'is not a regular file' "$SRIOV" "$(pool "$CFGDIR/fifo.json")"
mkfifo "$DECOY/fifo.json"
hostile "poolConfig a FIFO outside returns promptly" 7 'outside the config directories' "$SRIOV" "$(pool "$DECOY/fifo.json")"
mkdir "$CFGDIR/dir.json"
hostile "poolConfig a directory" 7 'is not a regular file' "$SRIOV" "$(pool "$CFGDIR/dir.json")"
hostile "poolConfig missing" 7 'cannot be opened' "$SRIOV" "$(pool "$CFGDIR/none.json")"
printf '%s' '{"resourceList": [{"resourceName": "fake_vfs", "selectors": [{"pfNames": ["ens1f0\u0000x"]}]}]}' >"$CFGDIR/nul.json"
hostile "poolConfig with \\u0000 in a pfName" 6 'resourceList[0].selectors[0].pfNames[0] holds an escaped NUL' "$SRIOV" "$(pool "$CFGDIR/nul.json")"
hostile "STATUS with poolConfig outside" 7 'outside the config directories' "$SRIOV" \
	"$(pool "$DECOY/shadow" | jq -c '.cniVersion = "1.1.0"')" STATUS
cni ADD "$SRIOV" "$POD" net1 ctr-pool <<<"$(pool "$CFGDIR/pools.json")"
check_eq "poolConfig inside the directory: the pool works" "0 net1" "$CNI_RC $(jv '.interfaces[0].name')"
cni DEL "$SRIOV" "$POD" net1 ctr-pool <<<"$(pool "$CFGDIR/pools.json")"
check_eq "  ... and DEL" 0 "$CNI_RC"

echo "# devmgr: its own --config (the admin's) and its store"
t0=$SECONDS
out=$(timeout 20 "$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" --config "$CFGDIR/fifo.json" pools 2>&1); rc=$?
check_eq "devmgr --config FIFO: refused, exit 3" 3 "$rc"
check_match "  ... not a regular file" 'not a regular file' "$out"
[ $((SECONDS - t0)) -le 10 ] && ok "  ... promptly" || fail "  ... promptly" "took $((SECONDS - t0)) s"
out=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" --config "$CFGDIR/nul.json" pools 2>&1); rc=$?
check_eq "devmgr --config with \\u0000: exit 3" 3 "$rc"
check_match "  ... naming where" 'pfNames\[0\] holds an escaped NUL \(\\u0000\) at byte [0-9]+' "$out"
out=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" --config "$CFGDIR/secret-text" pools 2>&1)
check_match "devmgr --config (the admin's file) keeps its detail" 'near' "$out"
"$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" --config "$CFGDIR/pools.json" alloc --pool fake_vfs --owner ctr-x --ifname net1 >/dev/null 2>&1
rec=$(ls "$T_TMP/dmstate/vfs/"*.json 2>/dev/null | head -n1)
if [ -n "$rec" ]; then
	pci=$(basename "$rec" .json)
	jq -c '.owner = "ctr-y"' "$rec" | sed 's/"ctr-y"/"ctr-y\\u0000x"/' >"$rec.new" && mv "$rec.new" "$rec"
	check_match "a store record with \\u0000: corrupt, not ctr-y's" '"allocation":[[:space:]]*"corrupt"' \
		"$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" show "$pci" --json 2>&1)"
	"$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/dmstate" release --owner ctr-y >/dev/null 2>&1
	check "  ... and ctr-y cannot release it" test -e "$rec"
else
	fail "devmgr alloc from the fake tree" "no record"
fi
finish
