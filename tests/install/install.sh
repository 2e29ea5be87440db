#!/bin/bash
# make install / make uninstall into a DESTDIR: every file where the README says, with
# its mode; the installed plugins, devmgr, man pages and bash completion work; a C
# program builds against the installed libdevmgr through its .pc file (shared and
# static); uninstall leaves nothing. Nothing is ever installed outside the DESTDIR.
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
MKFAKESYSFS=${MKFAKESYSFS:-$UCNI_TOP/$BUILD/tests/fixtures/mkfakesysfs}
mk() { make --no-print-directory -s BUILD="$BUILD" "$@"; }
PLUGINS=$(mk print-cni-plugins)
root=$T_TMP/root

# expected LAYOUT — the sorted list of files and links `make install` must produce
# (paths relative to DESTDIR). LAYOUT: PREFIX LIBDIR CNI_BIN_DIR MANDIR [SYSTEMDUNITDIR]
expected() {
	local prefix=$1 libdir=$2 cnibin=$3 mandir=$4 unitdir=${5:-/lib/systemd/system} p f
	for p in $PLUGINS; do echo "$cnibin/$p"; done
	echo "$prefix/bin/devmgr"
	echo "$libdir/libdevmgr.a"
	echo "$libdir/libdevmgr.so"
	echo "$libdir/libdevmgr.so.1"
	echo "$libdir/pkgconfig/libdevmgr.pc"
	echo "$prefix/include/devmgr/devmgr.h"
	for f in conf/*.conflist conf/*.json conf/*.yaml; do echo "$prefix/share/ucni/examples/${f#conf/}"; done
	for f in doc/*.[1-8]; do echo "$mandir/man${f##*.}/${f#doc/}"; done
	echo "$prefix/share/bash-completion/completions/devmgr"
	for f in doc/*.md; do echo "$prefix/share/doc/ucni/${f#doc/}"; done
	for f in packaging/*.service.in; do f=${f%.in}; echo "$unitdir/${f#packaging/}"; done
	for f in packaging/*.rules; do echo "/lib/udev/rules.d/${f#packaging/}"; done
}
installed() { (cd "$1" && find . ! -type d | sed 's|^\.||' | sort); }

# ---- PREFIX=/usr, the defaults otherwise (plugins in /opt/cni/bin)
check "make install DESTDIR=… PREFIX=/usr" mk install DESTDIR="$root" PREFIX=/usr
check_eq "exactly the documented files are installed" "$(expected /usr /usr/lib /opt/cni/bin /usr/share/man | sort)" \
	"$(installed "$root")"
for p in $PLUGINS; do
	check_eq "plugin $p: mode 755" 755 "$(stat -c %a "$root/opt/cni/bin/$p" 2>&1)"
	out=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$root/opt/cni/bin/$p" 2>&1)
	check_match "installed $p answers VERSION" '"supportedVersions"' "$out"
done
check_match "the IPAM plugin static is installed beside the plugins" " static " " $PLUGINS "
out=$(echo '{"cniVersion":"1.0.0","name":"n","ipam":{"type":"static","addresses":[{"address":"192.0.2.5/24"}]}}' |
	CNI_COMMAND=ADD CNI_CONTAINERID=c CNI_NETNS=/x CNI_IFNAME=eth0 CNI_PATH=/x "$root/opt/cni/bin/static" 2>&1)
check_eq "installed static answers ADD" 192.0.2.5/24 "$(jq -r '.ips[0].address' <<<"$out" 2>&1)"
check_eq "devmgr: mode 755" 755 "$(stat -c %a "$root/usr/bin/devmgr")"
check_match "installed devmgr --help lists its commands" 'export --format device-plugin' \
	"$("$root/usr/bin/devmgr" --help 2>&1)"
check_eq "libdevmgr.so is a link to the soname" libdevmgr.so.1 "$(readlink "$root/usr/lib/libdevmgr.so")"
check_eq "libdevmgr.so.1 carries soname libdevmgr.so.1" libdevmgr.so.1 \
	"$(objdump -p "$root/usr/lib/libdevmgr.so.1" | awk '$1 == "SONAME" {print $2}')"
check_eq "header, .pc, examples, man pages, completion: mode 644" "644" \
	"$(stat -c %a "$root/usr/include/devmgr/devmgr.h" "$root/usr/lib/pkgconfig/libdevmgr.pc" \
		"$root"/usr/share/ucni/examples/* "$root"/usr/share/man/man*/* \
		"$root/usr/share/bash-completion/completions/devmgr" | sort -u)"
check_eq "examples are the files of conf/" "" \
	"$(for f in conf/*.conflist conf/*.json conf/*.yaml; do cmp -s "$f" "$root/usr/share/ucni/examples/${f#conf/}" || echo "$f"; done)"
unit=$root/lib/systemd/system/ucni-devmgr-serve.service
check_eq "the systemd unit of devmgr serve: mode 644" 644 "$(stat -c %a "$unit" 2>&1)"
check_eq "... starting the installed devmgr" "ExecStart=/usr/bin/devmgr serve" "$(grep '^ExecStart=' "$unit")"
if command -v systemd-analyze >/dev/null; then
	# verified as installed, with the binary and man page from DESTDIR
	mkdir -p "$T_TMP/unit" && sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >"$T_TMP/unit/${unit##*/}"
	check "... passes systemd-analyze verify" env MANPATH="$root/usr/share/man" systemd-analyze verify "$T_TMP/unit/${unit##*/}"
else
	skip "systemd-analyze verify of the unit" "systemd-analyze is not installed"
fi
pc=$root/usr/lib/pkgconfig/libdevmgr.pc
check_eq ".pc names the install prefix" "prefix=/usr libdir=/usr/lib includedir=/usr/include" \
	"$(grep -E '^(prefix|libdir|includedir)=' "$pc" | xargs)"

# ---- a program against the installed library, found through pkg-config
cat >"$T_TMP/use.c" <<'EOF'
#include <stdio.h>
#include <devmgr/devmgr.h>
int main(int argc, char **argv)
{
	char pci[DM_PCI_ADDR_MAX];
	dm_inventory *inv = NULL;
	if (argc != 2 || dm_pci_addr_normalize("3B:01.0", pci) < 0 || dm_inventory_load(argv[1], 0, &inv) < 0)
		return 1;
	printf("%s %zu\n", pci, dm_inventory_count(inv));
	dm_inventory_free(inv);
	return 0;
}
EOF
"$MKFAKESYSFS" "$T_TMP/sys" >/dev/null
want="0000:3b:01.0 $("$root/usr/bin/devmgr" --sysfs-root "$T_TMP/sys" list --json | jq '[.pfs[], .pfs[].vfs[], .nics[]] | length')"
pcenv=(env PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig:/usr/lib/$(gcc -print-multiarch)/pkgconfig:/usr/share/pkgconfig"
	PKG_CONFIG_SYSROOT_DIR="$root")
flags=$("${pcenv[@]}" pkg-config --cflags --libs libdevmgr 2>&1)
check_match "pkg-config --cflags --libs libdevmgr points into the installed tree" \
	"^-I$root/usr/include .*-L$root/usr/lib -ldevmgr$" "$(xargs <<<"$flags")"
# shellcheck disable=SC2086
check "a C program compiles and links against the shared libdevmgr" \
	cc -Wall -Werror -o "$T_TMP/use" "$T_TMP/use.c" $flags
check_match "it runs with the installed libdevmgr.so.1" "libdevmgr.so.1 => $root/usr/lib/libdevmgr.so.1" \
	"$(LD_LIBRARY_PATH=$root/usr/lib ldd "$T_TMP/use" 2>&1)"
check_eq "and agrees with devmgr on the fake tree" "$want" \
	"$(LD_LIBRARY_PATH=$root/usr/lib "$T_TMP/use" "$T_TMP/sys" 2>&1)"
sflags=$("${pcenv[@]}" pkg-config --static --cflags --libs libdevmgr 2>&1)
# shellcheck disable=SC2086
check "statically linked against libdevmgr.a (with the .pc's private libraries)" \
	cc -Wall -Werror -o "$T_TMP/use-static" "$T_TMP/use.c" \
	$(sed "s|-ldevmgr|$root/usr/lib/libdevmgr.a|" <<<"$sflags")
check_eq "the static program needs no libdevmgr.so" "" "$(ldd "$T_TMP/use-static" | grep libdevmgr)"
check_eq "and prints the same" "$want" "$("$T_TMP/use-static" "$T_TMP/sys" 2>&1)"
check_eq "libdevmgr.so.1 exports only dm_ symbols" "" \
	"$(nm -D --defined-only "$root/usr/lib/libdevmgr.so.1" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^dm_/ {print $3}' | xargs)"
man -l "$root/usr/share/man/man3/libdevmgr.3" 2>/dev/null | col -b |
	sed -n '/^EXAMPLE/,/^FILES/p' | sed '1d;$d' | sed 's/^       //' >"$T_TMP/example.c"
# shellcheck disable=SC2086
check "the EXAMPLE of libdevmgr(3) compiles against the installed library" \
	cc -Wall -Werror -o "$T_TMP/example" "$T_TMP/example.c" $flags
check "and runs" env LD_LIBRARY_PATH="$root/usr/lib" "$T_TMP/example"

# ---- the boot units and udev rules (devmgr(8), BOOT)
unit=$root/lib/systemd/system/ucni-devmgr.service
check_eq "units and rules: mode 644" 644 "$(stat -c %a "$root"/lib/systemd/system/* "$root"/lib/udev/rules.d/* | sort -u)"
check_eq "the unit runs the installed devmgr on /etc/ucni/devmgr.json" "ExecStart=/usr/bin/devmgr apply /etc/ucni/devmgr.json" \
	"$(grep '^ExecStart=' "$unit")"
check_eq "oneshot, remains active, before network-pre and the kubelet, only with the file" \
	"Type=oneshot RemainAfterExit=yes Before=network-pre.target kubelet.service shutdown.target Wants=network-pre.target systemd-udev-settle.service ConditionPathExists=/etc/ucni/devmgr.json" \
	"$(grep -E '^(Type|RemainAfterExit|Before|Wants|ConditionPathExists)=' "$unit" | sort -t= -k1,1 -s |
		awk -F= '{a[$1]=$0} END {print a["Type"], a["RemainAfterExit"], a["Before"], a["Wants"], a["ConditionPathExists"]}')"
check_eq "... after udev's coldplug has settled (the PFs are there), which it pulls in" \
	"After=systemd-udevd.service systemd-modules-load.service local-fs.target After=systemd-udev-trigger.service systemd-udev-settle.service Wants=network-pre.target systemd-udev-settle.service" \
	"$(grep -E '^(After|Wants)=' "$unit" | xargs)"
if command -v systemd-analyze >/dev/null; then
	for u in "$root"/lib/systemd/system/*.service; do
		# serve's unit has the default dependencies (sysinit.target ...), which an install
		# tree lacks: it is verified above against the host's units
		[ "${u##*/}" = ucni-devmgr-serve.service ] && continue
		# --root: ExecStart= is looked up in the installed tree; --man=no: the man page is checked above
		out=$(systemd-analyze verify --root="$root" --man=no "/lib/systemd/system/${u##*/}" 2>&1)
		check_eq "systemd-analyze verify ${u##*/}: exit 0, no warning" "0 " "$? $out"
	done
	printf '[Unit]\nDefaultDependencies=no\nBogus=1\n[Service]\nType=oneshot\nExecStart=/usr/bin/devmgr list\n' \
		>"$root/lib/systemd/system/ucni-bogus.service"
	check_match "... and it does warn about an unknown key" "Unknown key 'Bogus'" \
		"$(systemd-analyze verify --root="$root" --man=no /lib/systemd/system/ucni-bogus.service 2>&1)"
	rm -f "$root/lib/systemd/system/ucni-bogus.service"
else
	skip "systemd-analyze verify of the units" "systemd-analyze is not installed (package systemd)"
fi
# udev rules: systemd 252 has no `udevadm verify`; `udevadm test` parses every rules file
# of /etc/udev/rules.d, here a tmpfs over it in a private mount namespace holding ours and
# a broken one (its error shows the check would catch ours)
udev_parse() {
	unshare -m bash -c 'mount -t tmpfs ucni-rules /etc/udev/rules.d && cp "$@" /etc/udev/rules.d/ &&
		printf "ACTION==\"add\", FOO{bar}=\"1\"\n" >/etc/udev/rules.d/79-ucni-broken.rules &&
		udevadm test --action=add /sys/class/net/lo 2>&1' _ "$@"
}
if command -v udevadm >/dev/null && [ -d /etc/udev/rules.d ] && [ -e /sys/class/net/lo ]; then
	out=$(udev_parse "$root"/lib/udev/rules.d/*.rules)
	for r in "$root"/lib/udev/rules.d/*.rules; do
		check_match "udevadm reads ${r##*/}" "Reading rules file: /etc/udev/rules.d/${r##*/}" "$out"
		check_eq "udevadm finds no error in ${r##*/}" "" "$(grep "^/etc/udev/rules.d/${r##*/}:" <<<"$out")"
	done
	check_match "udevadm reports the broken rule (the check can fail)" "79-ucni-broken.rules:1 Invalid key 'FOO'" "$out"
	check_eq "lo (no physfn) is not marked unmanaged" "" "$(grep NM_UNMANAGED <<<"$out")"
else
	skip "udev rules parsed by udevadm" "udevadm, /etc/udev/rules.d or /sys/class/net/lo missing"
fi

# ---- man pages render without a warning; the completion loads and completes
for m in "$root"/usr/share/man/man*/*; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$m" 2>&1 >/dev/null)
	check_eq "man page $(basename "$m") renders without warnings (man --warnings)" "" "$w"
	check_eq "man page $(basename "$m"): groff -man -ww (every warning) is silent" "" \
		"$(groff -man -Tutf8 -ww -z "$m" 2>&1)"
	check_match "man page $(basename "$m") has NAME, SYNOPSIS or DESCRIPTION, SEE ALSO" \
		'NAME.*(SYNOPSIS|DESCRIPTION).*SEE ALSO' "$(man -l "$m" 2>/dev/null | col -b | tr '\n' ' ')"
done
check_match "devmgr(8) documents every command of devmgr --help" '^$' \
	"$(for c in list show vfs apply pools alloc release gc export watch serve; do
		man -l "$root/usr/share/man/man8/devmgr.8" 2>/dev/null | col -b | grep -qE "^ +$c( |$)" || echo "$c"; done)"
comp=$root/usr/share/bash-completion/completions/devmgr
# complete WORDS… — what bash would offer for the last word (the line as typed)
complete_line() {
	env -i PATH="$PATH" bash --norc --noprofile -c '
		source "$1" || exit 1
		complete -p devmgr >/dev/null || exit 1
		COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; COMP_WORDBREAKS=$3
		_devmgr; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$1" $' \t\n"\'><=;|&(:'  # bash's default
}
check_eq "completion: the commands" "list show status vfs apply pools alloc release gc export watch serve" \
	"$(complete_line 'devmgr ' | xargs)"
check_eq "completion: a command's prefix" "alloc" "$(complete_line 'devmgr al' | xargs)"
check_eq "completion: global options" "--sysfs-root --state-dir --config --help --version" \
	"$(complete_line 'devmgr --' | xargs)"
check_eq "completion: alloc's options" "--pool --owner --ifname --netns --numa --json --sysfs-root --state-dir --config" \
	"$(complete_line 'devmgr alloc --' | xargs)"
check_eq "completion: serve's options" "--kubelet-dir --devinfo-dir --resource-prefix --sysfs-root --state-dir --config" \
	"$(complete_line 'devmgr serve --' | xargs)"
check_eq "completion: export --format" "device-plugin" "$(complete_line 'devmgr export --format ' | xargs)"
export PATH="$root/usr/bin:$PATH"
check_eq "completion: show completes VF addresses after a ':' (from devmgr list --json)" "01.0 01.1 01.2 01.3 01.4 01.5 01.6 01.7" \
	"$(complete_line "devmgr --sysfs-root $T_TMP/sys show 0000:3b:01" | xargs)"
check_eq "completion: vfs completes PFs only" "0000:3b:00.0 ens1f0 0000:3b:00.1 ens1f1 0000:af:00.0 ens2f0 0000:af:00.1 ens2f1" \
	"$(complete_line "devmgr --sysfs-root $T_TMP/sys vfs " | xargs)"
check_eq "completion: --pool completes the pools of the configuration" "intel_dpdk intel_netdev mlx_low mlx_rest" \
	"$(complete_line "devmgr --sysfs-root $T_TMP/sys --state-dir $T_TMP/st --config conf/devmgr-pools.json alloc --pool " | xargs)"

# ---- uninstall
check "make uninstall" mk uninstall DESTDIR="$root" PREFIX=/usr
check_eq "uninstall leaves nothing, not even empty directories" "" "$(ls -A "$root" 2>&1)"
check "DESTDIR itself is kept" test -d "$root"

# ---- every directory variable is honoured
vars=(DESTDIR="$root" PREFIX=/usr/local CNI_BIN_DIR=/usr/libexec/cni LIBDIR=/usr/local/lib64 MANDIR=/usr/local/man
	SYSTEMDUNITDIR=/usr/local/lib/systemd/system)
check "make install with CNI_BIN_DIR, LIBDIR, MANDIR and SYSTEMDUNITDIR set" mk install "${vars[@]}"
check_eq "the files follow the variables" \
	"$(expected /usr/local /usr/local/lib64 /usr/libexec/cni /usr/local/man /usr/local/lib/systemd/system | sort)" \
	"$(installed "$root")"
check_eq "the unit starts devmgr from BINDIR" "ExecStart=/usr/local/bin/devmgr serve" \
	"$(grep '^ExecStart=' "$root/usr/local/lib/systemd/system/ucni-devmgr-serve.service" 2>&1)"
check_eq ".pc follows LIBDIR" "libdir=/usr/local/lib64" "$(grep '^libdir=' "$root/usr/local/lib64/pkgconfig/libdevmgr.pc")"
mkdir -p "$root/usr/local/share/man/man1" && touch "$root/usr/local/share/keep"
check "make uninstall" mk uninstall "${vars[@]}"
check_eq "uninstall removes only what install put there" "/usr/local/share/keep /usr/local/share/man/man1" \
	"$(cd "$root" && find . -mindepth 1 | sed 's|^\.||' | grep -E 'keep|man1$' | sort | xargs)"
check_eq "and no other file" "" "$(cd "$root" && find . -type f ! -name keep)"
for p in $PLUGINS; do
	check "nothing installed outside DESTDIR ($p)" test ! -e "/usr/libexec/cni/$p"
done
finish
