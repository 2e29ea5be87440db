# shellcheck shell=bash
# How `make demo` and `make demo-vm` show their steps (sourced by scripts/demo.sh and
# scripts/demo-vm-guest.sh): each command as one would type it, its output, and one line
# on what that output shows.
#
#   part "title"        a part of the story (bold)
#   run CMD…            prints "$ CMD…" and runs it; a failure ends the demo (exit 1)
#   run_sh "PIPELINE"   the same for a shell pipeline, given as one string
#   say "text"          one line on what the user just saw
#   note "text"         a remark before a step (what a name below stands for)
#   die "text"          ends the demo with a message (exit 1)
#   cni PLUGIN VERB POD IFNAME CONFIG
#                       the plugin run as a runtime runs it, shown with its CNI_* variables
#   pod_addr POD 4|6    the pod's address of that family from its ADD result
#   cni_pods PLUGIN VERB IFNAME CONFIG "text" POD…
#                       cni for each pod in turn, each followed by say "text"
#   ping_pod FROM TO 4|6 ping from pod FROM to pod TO's address of that family
#   netconf CONFLIST JQ  what a runtime hands the plugin: plugins[0] of the list with the
#                       list's name and cniVersion; host-local's dataDir in $DEMO_TMP/ipam,
#                       and the demo's own changes as a jq expression ("." for none)
#
# cni runs $DEMO_BIN/PLUGIN behind the command prefix DEMO_WRAP (an array: `ip netns exec
# NODE` where a namespace plays the node) with the variables in DEMO_ENV (an array: the
# sandbox's state directories) and stdout in $DEMO_TMP/out; an ADD's result is kept in
# $DEMO_TMP/<pod>.result. The container id is "ctr-" and the pod name's last part.
#
# Colour only on a terminal, and never with NO_COLOR set; UCNI_DEMO_COLOR=0/1 decides
# instead when given (the VM's console is no terminal: scripts/demo-vm.sh passes it).
# A shell function may stand for a long command line (`devmgr` for the binary with the
# sandbox's options): `run` shows the short name, note says once what it stands for.

if [ -n "${UCNI_DEMO_COLOR:-}" ]; then
	demo_color=$UCNI_DEMO_COLOR
elif [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	demo_color=1
else
	demo_color=0
fi
if [ "$demo_color" = 1 ]; then
	D_BOLD=$'\033[1m' D_CMD=$'\033[36m' D_SAY=$'\033[32m' D_OFF=$'\033[0m'
else
	D_BOLD='' D_CMD='' D_SAY='' D_OFF=''
fi

part() { printf '\n%s==== %s ====%s\n' "$D_BOLD" "$*" "$D_OFF"; }
note() { printf '\n%s\n' "$*"; }
say() { printf '%s-> %s%s\n' "$D_SAY" "$*" "$D_OFF"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# The command line as typed: words with blanks or shell characters quoted.
demo_words() {
	local w out=
	for w in "$@"; do
		if [[ "$w" =~ ^[][A-Za-z0-9_./:=@%+,#-]+$ ]]; then out+=" $w"; else out+=" '${w//\'/\'\\\'\'}'"; fi
	done
	echo "${out# }"
}
run() {
	printf '\n%s$ %s%s\n' "$D_CMD" "$(demo_words "$@")" "$D_OFF"
	"$@" && return
	local rc=$?
	die "'$(demo_words "$@")' failed (exit status $rc)"
}
run_sh() {
	printf '\n%s$ %s%s\n' "$D_CMD" "$1" "$D_OFF"
	(set -o pipefail && eval "$1") && return
	local rc=$?
	die "'$1' failed (exit status $rc)"
}

cni() {
	local plugin=$1 verb=$2 pod=$3 ifname=$4 conf=$5 rc
	printf '\n%s$ CNI_COMMAND=%s CNI_CONTAINERID=ctr-%s CNI_NETNS=/var/run/netns/%s CNI_IFNAME=%s %s <%s%s\n' \
		"$D_CMD" "$verb" "${pod##*-}" "$pod" "$ifname" "$plugin" "$conf" "$D_OFF"
	"${DEMO_WRAP[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$verb" \
		CNI_CONTAINERID="ctr-${pod##*-}" CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME="$ifname" \
		CNI_PATH="$DEMO_BIN:/usr/lib/cni" "${DEMO_ENV[@]}" "$DEMO_BIN/$plugin" <"$conf" >"$DEMO_TMP/out"
	rc=$?
	cat "$DEMO_TMP/out"
	[ "$rc" -eq 0 ] || die "$plugin $verb failed (exit status $rc)"
	[ "$verb" != ADD ] || cp "$DEMO_TMP/out" "$DEMO_TMP/${pod##*-}.result"
}

# (pure bash: a process start is slow in the VM under TCG)
pod_addr() {
	local s re='"address":[[:space:]]*"([^"/]+)/' a
	s=$(<"$DEMO_TMP/${1##*-}.result") || return 1
	while [[ $s =~ $re ]]; do
		a=${BASH_REMATCH[1]}
		s=${s#*"${BASH_REMATCH[0]}"}
		case $2/$a in 4/*.* | 6/*:*) echo "$a"; return 0 ;; esac
	done
	return 1
}

cni_pods() {
	local plugin=$1 verb=$2 ifname=$3 conf=$4 text=$5 pod
	shift 5
	for pod in "$@"; do
		cni "$plugin" "$verb" "$pod" "$ifname" "$conf"
		say "$text"
	done
}

ping_pod() {
	local a
	a=$(pod_addr "$2" "$3") || die "no IPv$3 address in the result of $2"
	run ip netns exec "$1" ping -c 2 -i 0.2 -W 2 "$a"
}

netconf() {
	jq --arg d "$DEMO_TMP/ipam" ".plugins[0] + {name: .name, cniVersion: .cniVersion} | .ipam.dataDir = \$d | $2" "$1"
}
