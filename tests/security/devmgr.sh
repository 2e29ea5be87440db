#!/bin/bash
# Security of devmgr's CLI and allocation store, on the fake sysfs tree:
#   - nothing from the command line or the config becomes a path unchecked: owner ids,
#     interface names, device names, pool names, netns paths — each refused with its
#     documented exit code, the store unchanged, no file made anywhere else;
#   - the store's files are 0600 in 0700 directories whatever the umask; an existing state
#     directory of another user, writable by group or others, or a symlink, is refused
#     (exit 8) with its mode, owner and content unchanged;
#   - no symlink in the state directory is followed: records, lock files, store.lock,
#     format, vfs/, locks/, config.json planted as links to a file outside stay untouched;
#   - another owner's VF cannot be released or taken; gc releases an owner whose netns
#     was unmounted (the path is then a plain file, not nsfs);
#   - a full disk (tmpfs of 16 KiB) and a read-only state directory (read-only bind mount),
#     both inside a private mount namespace (unshare -m): alloc, release and apply fail
#     with a clear message, nothing is lost and no partial record or temp file remains.
#
# Exit codes (devmgr --help): 1 failure, 2 usage, 3 bad configuration, 4 not found,
# 5 no free VF, 6 busy, 8 corrupt or foreign state.
. "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP" || exit 1

GEN=$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs
DEVMGR=$UCNI_BIN/devmgr
SYS=$T_TMP/sys
ST=$T_TMP/state
CONF=$UCNI_TOP/conf/devmgr-pools.json
OUTSIDE=$T_TMP/outside # files a planted symlink points at
"$GEN" "$SYS" || { fail "generate the fake sysfs"; finish; }
mkdir -p "$OUTSIDE"

dm() { # dm ARGS… — stdout in $OUT, stderr in $ERR, status in $RC
	OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" --config "$CONF" "$@" 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
}
expect_rc() { # expect_rc "what" CODE [NEEDLE in stderr]
	if [ "$RC" -eq "$2" ] && [[ "$ERR" == *"${3:-}"* ]]; then ok "$1 (exit $2)"
	else fail "$1" "exit $RC, wanted $2${3:+ and \"$3\"}: $ERR"; fi
}
# the records and the installed config, byte for byte (lock files are empty)
store_state() { (cd "$ST" 2>/dev/null && find . -type f -printf '%p %s %m\n' | grep -v '\.lock ' | sort &&
	cat vfs/*.json config.json 2>/dev/null) | md5sum; }
# every regular file under T_TMP except the store, the fixture and the outside victims
strays() { find "$T_TMP" -path "$SYS" -prune -o -path "$ST" -prune -o -path "$OUTSIDE" -prune -o \
	-newer "$T_TMP/mark" -type f ! -name err -print; }
victim() { echo "precious $1" >"$OUTSIDE/$1"; }
victim_intact() { [ "$(cat "$OUTSIDE/$1" 2>/dev/null)" = "precious $1" ]; }

# ---------------------------------------------------------------- names
dm alloc --pool mlx_low --owner ctr-a --ifname net1
expect_rc "a first allocation" 0
A=$(awk '{print $1}' <<<"$OUT")
before=$(store_state)
touch "$T_TMP/mark"
long=$(printf 'a%.0s' $(seq 1 256))
for id in "" ".." "../ctr-a" "ctr-a/../ctr-b" "a/b" "/etc" ".hidden" "-x" "a b" $'a\nb' $'a\tb' $'ctr\x01' \
	$'ctr\x7f' "a;b" "a\$(id)" "$long"; do
	show=$(printf '%q' "$id" | cut -c1-24)
	dm alloc --pool mlx_low --owner "$id"
	expect_rc "alloc --owner $show refused" 2 "owner"
	dm release --owner "$id"
	expect_rc "release --owner $show refused" 2 "owner"
done
for ifn in "" "." ".." "a/b" "../eth0" "averyverylongname" "a b" "a:b" $'e\tth0' $'eth\n0'; do
	show=$(printf '%q' "$ifn")
	dm alloc --pool mlx_low --owner ctr-z --ifname "$ifn"
	expect_rc "alloc --ifname $show refused" 2 "interface name"
	dm release --owner ctr-a --ifname "$ifn"
	expect_rc "release --ifname $show refused" 2 "interface name"
done
for dev in "../$A" "$A/../../x" "$A/" ".." "." "/etc/passwd" "../../../../etc/passwd" $'0000:af:00.2\n' "0000:af:00.2 "; do
	show=$(printf '%q' "$dev")
	dm release "$dev"
	expect_rc "release of device $show refused" 4 "no PCI device or netdev"
	dm show "$dev"
	expect_rc "show of device $show: not found" 4
done
dm vfs "../0000:3b:00.0" 4
expect_rc "vfs on a path-like PF name refused" 4
for p in "../mlx_low" "mlx_low/" "/etc/passwd" ""; do
	show=$(printf '%q' "$p")
	dm alloc --pool "$p" --owner ctr-z
	expect_rc "alloc from pool $show: no such pool" 4 "no pool named"
done
check_eq "none of the refusals changed the store" "$before" "$(store_state)"
check_eq "none of them made a file anywhere" "" "$(strays)"
check "the record still names ctr-a" jq -e '.owner == "ctr-a"' "$ST/vfs/$A.json"

# pool, PF and selector names in the configuration
badconf() { # badconf "what" JQ_EDIT NEEDLE
	jq "$2" "$CONF" >"$T_TMP/bad.json"
	OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" --config "$T_TMP/bad.json" pools 2>&1)
	RC=$? ERR=$OUT
	expect_rc "$1" 3 "$3"
}
badconf "resourceName with '/'" '.resourceList[0].resourceName = "a/b"' "resourceName"
badconf "resourceName '..'" '.resourceList[0].resourceName = ".."' "resourceName"
badconf "resourceName with a control character" '.resourceList[0].resourceName = "a\u0001"' "resourceName"
badconf "pfNames entry with '/'" '.resourceList[1].selectors[0].pfNames = ["../ens1f0#0-5"]' "not an interface name"
badconf "rootDevices entry with a path" '.resourceList[2].selectors[0].rootDevices = ["0000:af:00.0/..#0-3"]' "not a PCI address"
badconf "pciAddresses entry with a path" '.resourceList[0].selectors.pciAddresses = ["../0000:3b:01.6"]' "not a PCI address"
badconf "pfs name with '/'" '.pfs[0].name = "ens1f0/../x"' "interface name"
printf '{"resourceList": [{"resourceName": "a", "selectors": {"drivers": ["x"], "drivers": ["y"]}}]}' >"$T_TMP/dup.json"
OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" --config "$T_TMP/dup.json" pools 2>&1)
RC=$? ERR=$OUT
expect_rc "a selector key given twice is refused" 3 '"drivers" is given twice'

# netns: an absolute path to an existing network namespace, nothing else
mkfifo "$T_TMP/fifo"
echo x >"$T_TMP/plainfile"
for n in "relative/netns" "run/netns/x"; do
	dm alloc --pool mlx_rest --owner ctr-n --netns "$n"
	expect_rc "alloc --netns $n (relative) refused" 2 "absolute"
done
dm alloc --pool mlx_rest --owner ctr-n --netns "$T_TMP/nonexistent"
expect_rc "alloc --netns that does not exist" 4 "does not exist"
for n in "$T_TMP/plainfile" "$T_TMP/fifo" "$T_TMP" /proc/self/ns/mnt /dev/null; do
	dm alloc --pool mlx_rest --owner ctr-n --netns "$n"
	expect_rc "alloc --netns ${n#"$T_TMP"/} (not a network namespace) refused" 2 "not a network namespace"
done
check_eq "and the store is unchanged" "$before" "$(store_state)"

# ---------------------------------------------------------- permissions
rm -rf "$ST"
(umask 000 && "$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" --config "$CONF" alloc --pool mlx_low --owner ctr-a >/dev/null &&
	"$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" apply "$CONF" >/dev/null)
check_eq "umask 000: the state directory and its subdirectories are 0700" "700 700 700" \
	"$(stat -c %a "$ST" "$ST/vfs" "$ST/locks" | tr '\n' ' ' | sed 's/ $//')"
check_eq "umask 000: every file is 0600 (record, locks, format, store.lock, config.json)" "" \
	"$(find "$ST" -type f ! -perm 0600 -printf '%p %m\n')"
check "there are such files" test -f "$ST/vfs/$A.json" -a -f "$ST/locks/$A.lock" -a -f "$ST/format" -a -f "$ST/config.json"
check_eq "nothing but files and directories" "" "$(find "$ST" ! -type f ! -type d)"
# The rule for an existing state directory (shared with lib/base/state.c): a real directory,
# owned by devmgr's uid, not writable by group or others. It is decided before anything
# changes: a refused one keeps its mode, owner and content (no chmod, no file made).
chmod 0755 "$ST"
dm pools
expect_rc "a state directory readable by others (0755) is used" 0
check_eq "and left as it is (no chmod)" "755" "$(stat -c %a "$ST")"
chmod 0700 "$ST"
dm release --owner ctr-a
dir_state() { (stat -c '%a %U' "$1" "$1/vfs" "$1/locks"; cd "$1" && find . -printf '%p %m %s\n' | sort) | md5sum; }
for m in 0777 0770 0702; do
	chmod "$m" "$ST"
	before=$(dir_state "$ST")
	dm alloc --pool mlx_low --owner ctr-b
	expect_rc "a state directory of mode $m is refused" 8 "writable by group or others (mode $m)"
	dm pools
	expect_rc "also by a reading command" 8 "refusing to use it"
	check_eq "mode $m: mode, owner and content unchanged" "$before" "$(dir_state "$ST")"
done
chmod 0700 "$ST"
chmod 0777 "$ST/vfs"
before=$(dir_state "$ST")
dm alloc --pool mlx_low --owner ctr-b
expect_rc "a vfs/ writable by others is refused" 8 "vfs/ or locks/"
check_eq "and left as it was" "$before" "$(dir_state "$ST")"
chmod 0700 "$ST/vfs"
chown nobody "$ST"
before=$(dir_state "$ST")
dm alloc --pool mlx_low --owner ctr-b
expect_rc "a state directory owned by another user is refused" 8 "belongs to uid $(id -u nobody)"
check_eq "its owner, mode and content unchanged" "$before" "$(dir_state "$ST")"
chown root "$ST"
mkdir -p "$T_TMP/other-store" && chmod 0700 "$T_TMP/other-store"
ln -s "$T_TMP/other-store" "$T_TMP/store-link"
OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$T_TMP/store-link" --config "$CONF" alloc --pool mlx_low --owner a 2>&1)
RC=$? ERR=$OUT
expect_rc "a state directory that is a symlink is refused" 8 "is not a directory"
check_eq "nothing was made behind the link" "" "$(ls -A "$T_TMP/other-store")"
check_eq "its target's mode is unchanged" "700" "$(stat -c %a "$T_TMP/other-store")"

# ---------------------------------------------------------- symlinks
# The first VF of mlx_low is $A; each link points at a file outside the store.
victim rec
ln -s "$OUTSIDE/rec" "$ST/vfs/$A.json"
touch "$T_TMP/mark"
dm alloc --pool mlx_low --owner ctr-s --json
expect_rc "alloc with a symlink planted as a record" 0
check_eq "the linked VF is skipped, not written through" "0000:af:00.3" "$(jq -r .pciAddress <<<"$OUT")"
check "the file outside is untouched" victim_intact rec
dm pools --json
check_eq "pools shows the linked record as corrupt" "corrupt" \
	"$(jq -r --arg a "$A" '.pools[].members[] | select(.pciAddress == $a) | .state' <<<"$OUT")"
dm release "$A" --owner ctr-s
expect_rc "an owner cannot release through the link" 8 "corrupt"
dm gc
expect_rc "gc reports it and leaves it" 8 "could not be read"
check "the file outside is still untouched" victim_intact rec
dm release "$A"
expect_rc "the operator removes the link by address" 0
check "the link is gone, the file outside stays" test ! -L "$ST/vfs/$A.json" -a -f "$OUTSIDE/rec"
check "and is untouched" victim_intact rec

victim lock
rm -f "$ST/locks/$A.lock"
ln -s "$OUTSIDE/lock" "$ST/locks/$A.lock"
dm alloc --pool mlx_low --owner ctr-t --json
check_eq "a VF whose lock file is a symlink is skipped" "0000:af:00.4" "$(jq -r .pciAddress <<<"$OUT")"
dm release "$A"
expect_rc "release through a symlinked lock file fails" 1 "Too many levels of symbolic links"
check "the lock's target is untouched" victim_intact lock
rm "$ST/locks/$A.lock"
check_eq "no file was made outside" "lock rec" "$(ls "$OUTSIDE" | tr '\n' ' ' | sed 's/ $//')"

before=$(store_state)
for f in store.lock format; do
	victim "$f"
	mv "$ST/$f" "$T_TMP/$f.saved"
	ln -s "$OUTSIDE/$f" "$ST/$f"
	dm alloc --pool mlx_rest --owner ctr-u
	expect_rc "$f as a symlink: the store is refused" 8
	dm release --owner ctr-s
	expect_rc "$f as a symlink: release refused too" 8
	check "$f: the file outside is untouched" victim_intact "$f"
	rm "$ST/$f" && mv "$T_TMP/$f.saved" "$ST/$f"
done
for d in vfs locks; do
	mkdir -p "$OUTSIDE/$d.dir"
	mv "$ST/$d" "$T_TMP/$d.saved"
	ln -s "$OUTSIDE/$d.dir" "$ST/$d"
	dm alloc --pool mlx_rest --owner ctr-u
	expect_rc "$d/ as a symlink: the store is refused" 8
	check_eq "$d/: nothing was written into the linked directory" "" "$(ls -A "$OUTSIDE/$d.dir")"
	rm "$ST/$d" && mv "$T_TMP/$d.saved" "$ST/$d"
done
check_eq "the store is as it was after all that" "$before" "$(store_state)"

victim config
rm -f "$ST/config.json"
ln -s "$OUTSIDE/config" "$ST/config.json"
"$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" apply "$CONF" >/dev/null 2>&1
check "apply over a symlinked config.json replaces the link, not its target" \
	test ! -L "$ST/config.json" -a "$(stat -c %a "$ST/config.json")" = 600
check "the link's target is untouched" victim_intact config
rm "$ST/config.json"
ln -s "$OUTSIDE/config" "$ST/config.json"
OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$ST" pools 2>&1)
RC=$? ERR=$OUT
expect_rc "an installed config.json that is a symlink is not read" 8 "not a regular file"
rm "$ST/config.json"
dm release --owner ctr-s
dm release --owner ctr-t

# ------------------------------------------------- another owner's VF
dm alloc --pool mlx_low --owner ctr-a --ifname net1
A=$(awk '{print $1}' <<<"$OUT")
dm alloc --pool mlx_low --owner ctr-b --ifname net1
B=$(awk '{print $1}' <<<"$OUT")
before=$(store_state)
dm release "$A" --owner ctr-b
expect_rc "ctr-b cannot release ctr-a's VF" 6 "held by another owner"
dm release --owner ctr
check_eq "an owner id that is a prefix releases nothing" "released 0 VFs" "$OUT"
dm release --owner CTR-A
check_eq "ids are case-sensitive" "released 0 VFs" "$OUT"
dm release --owner ctr-a --ifname net2
check_eq "the right id with another ifname releases nothing" "released 0 VFs" "$OUT"
dm release "$A" --owner ctr-a --json
check_eq "the id and its own device release it" "[\"$A\"]" "$(jq -c .released <<<"$OUT" 2>/dev/null)"
dm alloc --pool mlx_low --owner ctr-a --ifname net1
dm release "$B" --owner "ctr-b/../ctr-a"
expect_rc "a crafted id cannot reach another's record" 2
dm alloc --pool mlx_low --owner ctr-c --json
check "a new owner never gets a held VF" test "$(jq -r .pciAddress <<<"$OUT")" != "$A" -a "$(jq -r .pciAddress <<<"$OUT")" != "$B"
check_eq "ctr-b still holds its VF" "ctr-b" "$(jq -r .owner "$ST/vfs/$B.json")"
dm release --owner ctr-a && dm release --owner ctr-b && dm release --owner ctr-c

# ------------------------------------------- gc: netns no longer nsfs
if ns=$(mkns sec); then
	dm alloc --pool mlx_rest --owner ctr-ns --netns "/run/netns/$ns" --json
	expect_rc "alloc for a live netns" 0
	N=$(jq -r .pciAddress <<<"$OUT")
	dm gc
	check_eq "gc keeps it while the netns lives" "released 0 stale allocations" "$OUT"
	umount "/run/netns/$ns"
	check "the netns path is now a plain file" test -f "/run/netns/$ns"
	dm gc --json
	check_eq "gc releases it: the path no longer names that netns" 1 "$(jq .released <<<"$OUT")"
	check "its record is gone" test ! -e "$ST/vfs/$N.json"
	rm -f "/run/netns/$ns"
else
	skip "gc with an unmounted netns" "cannot create a netns"
fi

# --------------------------------------- full disk, read-only state directory
# In a private mount namespace: no mount is visible outside, and all go with it.
if ! unshare -m --propagation private true 2>/dev/null; then
	skip "full disk and read-only state directory" "unshare -m does not work here"
	finish
fi
MST=$T_TMP/mstate
mkdir -p "$MST"
# The inner script prints "ok - …"/"FAIL - …" lines; they are counted below.
cat >"$T_TMP/inner.sh" <<'EOF'
set -u
ok() { echo "ok - $1"; }
fail() { echo "FAIL - $1${2:+: $2}"; }
check_eq() { if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
dm() { OUT=$("$DEVMGR" --sysfs-root "$SYS" --state-dir "$MST" --config "$CONF" "$@" 2>"$T_TMP/merr"); RC=$?; ERR=$(cat "$T_TMP/merr"); }
expect_rc() { if [ "$RC" -eq "$2" ] && [[ "$ERR" == *"${3:-}"* ]]; then ok "$1 (exit $2)"; else fail "$1" "exit $RC, wanted $2 and \"${3:-}\": $ERR"; fi; }
records() { (cd "$MST/vfs" && ls -A | sort | tr '\n' ' '; cat ./*.json 2>/dev/null) | md5sum; }
valid() { for f in "$MST"/vfs/*.json; do [ -e "$f" ] || continue
	jq -e --arg a "$(basename "$f" .json)" '.pciAddress == $a and (.owner | type == "string")' "$f" >/dev/null || return 1; done; }

mount -t tmpfs -o size=16k,mode=0700 ucni-sec "$MST" || { fail "mount a 16 KiB tmpfs"; exit 0; }
n=0
for i in $(seq 1 12); do
	dm alloc --pool intel_netdev --owner "full-$i"
	[ "$RC" -ne 0 ] && break
	n=$i
done
[ "$n" -ge 1 ] && [ "$n" -lt 12 ] && ok "the 16 KiB store holds $n allocations" || fail "fill the store" "$n allocations"
expect_rc "the next alloc fails on the full disk with a clear error" 1 "no space left on the file system"
check_eq "no partial record, no temp file left" "$n" "$(ls -A "$MST/vfs" | wc -l)"
valid && ok "every record is complete" || fail "every record is complete"
before=$(records)
dm alloc --pool intel_netdev --owner full-1
check_eq "the holder asking again still gets its VF" "0 $before" "$RC $(records)"
dm release --owner full-1
expect_rc "release works on the full disk" 0
dm alloc --pool intel_netdev --owner full-new
expect_rc "and frees room for a new allocation" 0
# fill what is left with a plain file: a write of any size now fails
dd if=/dev/zero of="$MST/filler" bs=1k count=16 2>/dev/null
before=$(records)
dm alloc --pool mlx_low --owner full-x
expect_rc "alloc on a full disk: a clear error" 1 "no space left"
check_eq "nothing lost, nothing half-written" "$before" "$(records)"
"$DEVMGR" --sysfs-root "$SYS" --state-dir "$MST" apply "$CONF" >"$T_TMP/mout" 2>&1
RC=$? ERR=$(cat "$T_TMP/mout")
expect_rc "apply cannot install its pools on a full disk" 1 "cannot install"
check_eq "and leaves no temp file" "" "$(ls -A "$MST" | grep -v -E '^(format|store.lock|locks|vfs|filler)$')"
rm -f "$MST/filler"

# read-only: a bind mount of the store onto itself, remounted read-only
mount --bind "$MST" "$MST" && mount -o remount,bind,ro "$MST" || { fail "make the store read-only"; exit 0; }
before=$(records)
dm alloc --pool intel_netdev --owner ro-1
expect_rc "alloc on a read-only store fails clearly" 1 "Read-only file system"
dm release --owner full-2
expect_rc "release on a read-only store fails clearly" 1 "Read-only file system"
dm gc
expect_rc "gc on a read-only store with nothing stale" 0
dm pools --json
expect_rc "pools still reads a read-only store" 0
check_eq "pools sees every allocation" "$(ls "$MST/vfs" | grep -c json)" "$(jq '[.pools[].used] | add' <<<"$OUT")"
check_eq "the read-only store is unchanged" "$before" "$(records)"
umount "$MST"
dm release --owner full-2
expect_rc "writable again: release works" 0
EOF
touch "$T_TMP/mark"
inner=$(DEVMGR=$DEVMGR SYS=$SYS MST=$MST CONF=$CONF T_TMP=$T_TMP unshare -m --propagation private bash "$T_TMP/inner.sh" 2>&1)
echo "$inner"
T_PASS=$((T_PASS + $(grep -c '^ok - ' <<<"$inner")))
T_FAIL=$((T_FAIL + $(grep -c '^FAIL - ' <<<"$inner")))
check_eq "no mount leaked out of the private namespace" "" "$(findmnt -n -o TARGET "$MST" 2>/dev/null; grep -c ucni-sec /proc/mounts | grep -v '^0$')"
check_eq "nothing was written to the directory under the mounts" "" "$(ls -A "$MST")"
finish
