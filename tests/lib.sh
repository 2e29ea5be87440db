# Shared helpers for ucni's shell test suites (source it; bash only).
#
# Each check prints one line: "ok - what" or "FAIL - what: why". The suite ends
# with `finish`, which prints "N passed, N failed, N skipped" and sets the exit
# status. Every namespace made through `mkns` is removed on exit, also on failure.

set -u
UCNI_TOP=${UCNI_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
UCNI_BIN=${UCNI_BIN:-$UCNI_TOP/$BUILD/bin}
REF_CNI=${REF_CNI:-/usr/lib/cni}
# Unique per run so parallel suites and leftovers from a killed run never collide.
T_ID=${T_ID:-u$$}
T_PASS=0 T_FAIL=0 T_SKIP=0
T_NS=() T_CLEANUP=() T_TMP=$(mktemp -d /tmp/ucni-test.XXXXXX)
# Node settings that let host-local keep its stores (ipam.dataDir) in the suite's temp dir,
# beside the default; a suite that writes settings of its own lists "dataDirs" there too.
T_NODE_CONFIG=$T_TMP/node-default.json
echo "{\"dataDirs\": [\"$T_TMP\", \"/var/lib/cni/networks\"]}" >"$T_NODE_CONFIG"
chmod 644 "$T_NODE_CONFIG"
export UCNI_NODE_CONFIG=$T_NODE_CONFIG

ok()   { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1${2:+: $2}"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $1${2:+: $2}"; }

# check "what" command…   — passes when the command exits 0
check() {
	local what=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$what"; else fail "$what" "$(echo "$out" | tail -n3 | tr '\n' ' ')"; fi
}
# check_eq "what" expected actual
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}
# check_match "what" regex actual
check_match() {
	if [[ "$3" =~ $2 ]]; then ok "$1"; else fail "$1" "'$3' does not match /$2/"; fi
}

on_exit() { T_CLEANUP+=("$*"); }
t_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUP[i]}" >/dev/null 2>&1 || true; done
	for ns in "${T_NS[@]}"; do ip netns del "$ns" >/dev/null 2>&1 || true; done
	# `ns=$(mkns x)` registers in a subshell and is lost: sweep this run's prefix too.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${T_ID}-"); do
		ip netns del "$ns" >/dev/null 2>&1 || true
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# mkns NAME — create a namespace with a unique name, echo it, remove it on exit.
mkns() {
	local ns="${T_ID}-$1"
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	T_NS+=("$ns")
	echo "$ns"
}

finish() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# cni VERB PLUGIN NETNS IFNAME CONTAINERID < config
# Runs a plugin as a runtime would: stdout in $CNI_OUT, exit status in $CNI_RC.
# Extra environment may be given through CNI_EXTRA_ENV (array of K=V).
# NETNS may be a name from `mkns` or an absolute path ("" for none).
CNI_EXTRA_ENV=()
cni() {
	local verb=$1 plugin=$2 netns=$3 ifname=$4 cid=$5
	local nspath=
	[ -n "$netns" ] && nspath=/var/run/netns/$netns
	[[ "$netns" == /* ]] && nspath=$netns
	local wrap=()
	# CNI_NODE: run the plugin inside that namespace (the "node"), not the host's.
	[ -n "${CNI_NODE:-}" ] && wrap=(ip netns exec "$CNI_NODE")
	CNI_OUT=$("${wrap[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$nspath" \
		CNI_IFNAME="$ifname" CNI_PATH="${CNI_PATH_OVERRIDE:-$UCNI_BIN:$REF_CNI}" \
		UCNI_NODE_CONFIG="$UCNI_NODE_CONFIG" "${CNI_EXTRA_ENV[@]}" "$plugin" 2>"$T_TMP/stderr")
	CNI_RC=$?
	return 0
}

# jv FILTER — a jq query on $CNI_OUT (raw output). Example: jv '.ips[0].address'
jv() { jq -r "$1" <<<"$CNI_OUT" 2>/dev/null; }

# section "title" — a heading line with the seconds the suite has run
section() { echo "# $* [${SECONDS}s]"; }

# jf KEY [N] — the Nth (default first) string or number value of "KEY" in $CNI_OUT,
# "null" when there is none. Pure bash: no process start (slow in the VM under TCG).
jf() {
	local re='"'"$1"'":[[:space:]]*("(([^"\\]|\\.)*)"|(-?[0-9]+))' s=$CNI_OUT n=${2:-1}
	while [[ $s =~ $re ]]; do
		n=$((n - 1))
		if [ $n -eq 0 ]; then echo "${BASH_REMATCH[2]}${BASH_REMATCH[4]}"; return; fi
		s=${s#*"${BASH_REMATCH[0]}"}
	done
	echo null
}
err_msg() { local m; m=$(jf msg); echo "${m//\\\"/\"}"; }

# expect_err "what" CODE [part…] — the last `cni` run failed (exit 1) with CODE, and its
# msg or details holds every part
expect_err() {
	local what=$1 code=$2 msg part
	shift 2
	msg="$(err_msg) $(jf details)"
	if [ "$CNI_RC" -ne 1 ]; then fail "$what" "exit status $CNI_RC, output: $CNI_OUT"; return; fi
	if [ "$(jf code)" != "$code" ]; then fail "$what" "code $(jf code) (want $code): $msg"; return; fi
	for part in "$@"; do
		[[ "$msg" == *"$part"* ]] || { fail "$what" "message '$msg' lacks '$part'"; return; }
	done
	ok "$what → code $code"
}
# expect_ok "what" — the last `cni` run succeeded
expect_ok() {
	if [ "$CNI_RC" -eq 0 ]; then ok "$1"; else fail "$1" "exit $CNI_RC: $(jf code) $(err_msg) $(jf details)"; fi
}

# tmpname CID IFNAME — the temporary name ADD uses where the kernel needs one:
# "ucni" + FNV-1a (32 bit, hex) of "CID/IFNAME", as cni_tmpname() derives it
tmpname() {
	local s="$1/$2" h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 16777619 & 0xffffffff))
	done
	printf 'ucni%08x' "$h"
}
