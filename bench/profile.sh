#!/bin/bash
# Where a ucni macvlan ADD spends its time: its netlink requests, the other system calls,
# the sysctl writes, a packet socket's close and each shared library at start-up.
# Root; throw-away namespaces only; removes everything on exit.
#
#   bench/profile.sh [--perf]      (--perf adds a `perf record` of 100 ADDs, slower)
#
# It prints: the netlink requests of one ADD and one DEL (strace), the syscalls that are
# not netlink, the cost of the arp_notify/ndisc_notify sysctl writes with few and with
# many network namespaces alive, the cost of closing an AF_PACKET socket (what sending a
# gratuitous ARP from user space costs), the start-up cost of each shared library, and
# whether the kernel announces an address by itself (arp_notify=1, address added while
# the link is down, then up).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
BIN=$PWD/$B/bin
PERF=0
[ "${1:-}" = --perf ] && PERF=1
ID=ucnip$$
TMP=$(mktemp -d /tmp/ucni-profile.XXXXXX)
cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$ID-"); do ip netns del "$ns"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for t in strace gcc; do command -v $t >/dev/null || { echo "profile: needs $t" >&2; exit 1; }; done

NODE=$ID-node
ip netns add "$NODE" && ip -n "$NODE" link add m0 type veth peer name m0p && ip -n "$NODE" link set m0 up &&
	ip -n "$NODE" link set m0p up || exit 1
L2='{"cniVersion":"1.0.0","name":"bench","type":"macvlan","master":"m0"}'
STATIC='{"cniVersion":"1.0.0","name":"bench","type":"macvlan","master":"m0","ipam":{"type":"static","addresses":[{"address":"10.77.0.10/24","gateway":"10.77.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}}'
cni() { # cni VERB POD CONF [wrapper…]
	local verb=$1 pod=$2 conf=$3
	shift 3
	ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$verb" CNI_CONTAINERID="c-$pod" \
		CNI_NETNS=/var/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH="$BIN:/usr/lib/cni" "$@" "$BIN/macvlan" <<<"$conf" >/dev/null
}
requests() { # requests STRACE-FILE — the rtnetlink requests, in order
	grep -oE 'sendto\([0-9]+, \[\{nlmsg_len=[0-9]+, nlmsg_type=(RTM_[A-Z]+|0x[0-9a-f]+)' "$1" | sed -E 's/.*nlmsg_type=//' |
		sed -e 's/0x10/RTM_NEWLINK/; s/0x11/RTM_DELLINK/; s/0x12/RTM_GETLINK/; s/0x14/RTM_NEWADDR/; s/0x18/RTM_NEWROUTE/; s/0x1a/RTM_GETROUTE/' |
		tr '\n' ' '
}

echo "== netlink requests (each one a round trip to the kernel)"
for c in L2 STATIC; do
	pod=$ID-$c
	ip netns add "$pod"
	cni ADD "$pod" "${!c}" strace -f -o "$TMP/add-$c" -e trace=sendto,sendmsg,setns,openat,socket,close,execve
	cni DEL "$pod" "${!c}" strace -f -o "$TMP/del-$c" -e trace=sendto,sendmsg,setns,socket,execve
	echo "ADD $c: $(requests "$TMP/add-$c" | wc -w) requests: $(requests "$TMP/add-$c")"
	echo "   setns: $(grep -c 'setns(' "$TMP/add-$c"), /proc/sys writes: $(grep -c 'openat.*/proc/sys' "$TMP/add-$c"), AF_PACKET sockets: $(grep -c 'socket(AF_PACKET' "$TMP/add-$c"), execs: $(grep -c 'execve(' "$TMP/add-$c")"
	echo "DEL $c: $(requests "$TMP/del-$c" | wc -w) requests: $(requests "$TMP/del-$c")"
done
echo "(the floor, bench/floor.c: ADD = RTM_NEWLINK create + RTM_NEWLINK rename/up, plus one ioctl each"
echo " for the master's and the new link's index; DEL = RTM_DELLINK)"

echo
echo "== syscall summary of one L2 ADD (strace -c)"
pod=$ID-sc
ip netns add "$pod"
cni ADD "$pod" "$L2" strace -c -o "$TMP/c"
echo "$(awk '$NF == "total" {print $(NF-2) " syscalls"}' "$TMP/c"); the most frequent: $(awk 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ {print $4 " " $NF}' "$TMP/c" | sort -rn | head -n 8 | tr '\n' ',')"

cat >"$TMP/sysctl.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double put(const char *fmt, const char *ifname) {
	char p[256]; snprintf(p, sizeof(p), fmt, ifname);
	double t0 = now(); int f = open(p, O_WRONLY); if (f < 0 || write(f, "1", 1) != 1) return -1; close(f); return now() - t0; }
int main(int argc, char **argv) {
	if (setns(open(argv[1], O_RDONLY), CLONE_NEWNET) < 0) return 1;
	printf("%.3f %.3f\n", put("/proc/sys/net/ipv4/conf/%s/arp_notify", argv[2]), put("/proc/sys/net/ipv6/conf/%s/ndisc_notify", argv[2]));
	return 0; }
EOF
cat >"$TMP/pkt.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(void) {
	double v[41], u[41];
	/* The grace period is short on idle CPUs and several ms on busy ones: run it as is. */
	for (int i = 0; i < 41; i++) {
		int fd = socket(AF_PACKET, SOCK_DGRAM, htons(0x0806)); double t0 = now(); close(fd); v[i] = now() - t0;
		fd = socket(AF_INET, SOCK_DGRAM, 0); t0 = now(); close(fd); u[i] = now() - t0; usleep(1000); }
	qsort(v, 41, sizeof(double), cmp); qsort(u, 41, sizeof(double), cmp);
	printf("close() of an AF_PACKET socket: median %.3f ms, p90 %.3f ms (a UDP socket: %.3f ms)\n", v[20], v[36], u[20]);
	return 0; }
EOF
echo 'int main(void) { return 0; }' >"$TMP/nop.c"
gcc -O2 -o "$TMP/sysctl" "$TMP/sysctl.c" && gcc -O2 -o "$TMP/pkt" "$TMP/pkt.c" || exit 1

sysctl_cost() { # mean cost of the two sysctl writes on a fresh macvlan in a fresh namespace
	local i
	for i in $(seq 1 20); do
		ip netns add "$ID-s$i"
		ip -n "$NODE" link add "sx$i" link m0 type macvlan && ip -n "$NODE" link set "sx$i" netns "$ID-s$i"
		"$TMP/sysctl" "/var/run/netns/$ID-s$i" "sx$i"
		ip netns del "$ID-s$i"
	done | awk '{a += $1; b += $2; n++} END {printf "arp_notify %.3f ms, ndisc_notify %.3f ms", a / n, b / n}'
}
echo
echo "== sysctl writes (open+write+close under /proc/sys), mean of 20"
echo "with $(ip netns list | wc -l) namespaces on the machine: $(sysctl_cost)"
for i in $(seq 1 300); do echo "netns add $ID-many$i"; done | ip -batch -
# Namespaces only count once something looked their sysctl directories up.
for i in $(seq 1 300); do ip netns exec "$ID-many$i" cat /proc/sys/net/ipv4/conf/lo/arp_notify /proc/sys/net/ipv6/conf/lo/ndisc_notify >/dev/null; done
echo "with $(ip netns list | wc -l) namespaces on the machine: $(sysctl_cost)"
for i in $(seq 1 300); do echo "netns del $ID-many$i"; done | ip -batch -

echo
echo "== a gratuitous ARP from user space needs an AF_PACKET socket; closing one waits for an RCU grace period"
"$TMP/pkt"

echo
echo "== start-up cost of the libraries (spawn + exit of a do-nothing program, 200 runs)"
gcc -O2 -static -o "$TMP/nop-static" "$TMP/nop.c" && gcc -O2 -o "$TMP/nop-libc" "$TMP/nop.c" &&
	gcc -O2 -o "$TMP/nop-cjson" "$TMP/nop.c" -Wl,--no-as-needed -lcjson &&
	gcc -O2 -o "$TMP/nop-libnl" "$TMP/nop.c" -Wl,--no-as-needed -lnl-route-3 -lnl-3 || exit 1
cat >"$TMP/spawn.c" <<'EOF'
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
	double w[200], c[200]; long rss = 0;
	for (int i = 0; i < 200; i++) {
		struct timespec a, b; struct rusage ru; int st; pid_t p;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (posix_spawn(&p, argv[1], NULL, NULL, argv + 1, environ) || wait4(p, &st, 0, &ru) < 0) return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		w[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		c[i] = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
		rss = ru.ru_maxrss; }
	qsort(w, 200, sizeof(double), cmp); qsort(c, 200, sizeof(double), cmp);
	printf("%-28s wall %.3f ms  cpu %.3f ms  peak RSS %ld kB\n", argv[2], w[100], c[100], rss);
	return 0; }
EOF
# Static, so that its own small footprint does not show up in the children's peak RSS.
gcc -O2 -static -o "$TMP/spawn" "$TMP/spawn.c" || exit 1
"$TMP/spawn" "$TMP/nop-static" "static"
"$TMP/spawn" "$TMP/nop-libc" "libc (dynamic)"
"$TMP/spawn" "$TMP/nop-cjson" "libc + libcjson (dynamic)"
"$TMP/spawn" "$TMP/nop-libnl" "libc + libnl-3/route (dynamic)"

echo
echo "== does the kernel send the gratuitous ARP itself? (arp_notify=1, address added while down, then up)"
pod=$ID-garp
ip netns add "$pod"
ip -n "$NODE" link add g0 link m0 type macvlan && ip -n "$NODE" link set g0 netns "$pod"
cat >"$TMP/cap.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("m0p", 0)); s.settimeout(2)
open(sys.argv[1], "w").close()
try:
    while True:
        p = s.recv(2048)
        if p[28:32] == p[38:42]:
            print("gratuitous ARP for", socket.inet_ntoa(p[28:32]), "seen on the master's peer"); break
except socket.timeout:
    print("no gratuitous ARP within 2 s")
EOF
if command -v python3 >/dev/null; then
	ip netns exec "$NODE" python3 "$TMP/cap.py" "$TMP/ready" &
	for i in $(seq 1 50); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	ip netns exec "$pod" sh -c 'echo 1 >/proc/sys/net/ipv4/conf/g0/arp_notify'
	ip -n "$pod" addr add 10.77.0.99/24 dev g0
	ip -n "$pod" link set g0 up
	wait
else
	echo "(python3 missing: skipped)"
fi

if [ $PERF = 1 ] && command -v perf >/dev/null; then
	echo
	echo "== perf record of 100 L2 ADDs (kernel + user, comm macvlan)"
	for i in $(seq 1 100); do echo "netns add $ID-p$i"; done | ip -batch -
	printf 'for i in $(seq 1 100); do CNI_COMMAND=ADD CNI_CONTAINERID=c$i CNI_NETNS=/var/run/netns/%s-p$i CNI_IFNAME=eth0 CNI_PATH=%s %s/macvlan <<<%q >/dev/null; done\n' \
		"$ID" "$BIN:/usr/lib/cni" "$BIN" "$L2" >"$TMP/loop.sh"
	ip netns exec "$NODE" perf record -q -F 10000 -g -o "$TMP/perf.data" -- bash "$TMP/loop.sh" 2>/dev/null
	perf report -i "$TMP/perf.data" --comm macvlan --children --sort sym --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | grep -E 'sys_sendto|rtnl_newlink|register_netdevice|netif_change_name|proc_sys|__d_lookup|_dl_|execve|exit_mmap|setns|rtnl_getlink' | head -n 20
fi
