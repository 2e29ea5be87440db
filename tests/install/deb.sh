#!/bin/bash
# make deb: the package's metadata, contents and modes; its Depends cover every library
# its programs load; it installs into and is removed from a scratch root with
# `dpkg --root` (never the real system); the installed programs work; lintian reports
# no error (its warnings are listed).
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
mk() { make --no-print-directory -s BUILD="$BUILD" "$@"; }
PLUGINS=$(mk print-cni-plugins)
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
VERSION=$(cat VERSION)

start=$(date +%s%N)
out=$(mk deb 2>&1)
check_eq "make deb" 0 "$?"
deb=$(mk print-deb)
check_eq "the package is build/ucni_<VERSION>_<arch>.deb" "build/ucni_${VERSION}_$ARCH.deb" "$deb"
echo "# make deb took $(( ($(date +%s%N) - start) / 1000000 )) ms"
[ -f "$deb" ] || { fail "package built" "$out"; finish; }

field() { dpkg-deb -f "$deb" "$1"; }
check_eq "Package" ucni "$(field Package)"
check_eq "Version" "$VERSION" "$(field Version)"
check_eq "Architecture" "$ARCH" "$(field Architecture)"
check_match "Maintainer is a name and an address" '^[^<]+ <[^@ ]+@[^> ]+\.[a-z]+>$' "$(field Maintainer)"
check_match "Description has a synopsis and a long text" '.+' "$(field Description | sed -n 2p)"
deps=$(field Depends)
for p in libc6 libcjson1 libpci3 libudev1; do
	check_match "Depends names $p" "(^|, )$p( |,|$)" "$deps"
done
check_match "Recommends containernetworking-plugins (host-local, static)" containernetworking-plugins "$(field Recommends)"
check_eq "shlibs announces libdevmgr.so.1" "libdevmgr 1 ucni (>= $VERSION)" \
	"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./shlibs)"
check_eq "triggers ldconfig" "activate-noawait ldconfig" "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./triggers)"

# contents: exactly the install layout, man pages gzip'ed, plus Debian's doc files
expected=$(
	for p in $PLUGINS; do echo "/opt/cni/bin/$p"; done
	echo /usr/bin/devmgr
	for f in libdevmgr.a libdevmgr.so libdevmgr.so.1 pkgconfig/libdevmgr.pc; do echo "/usr/lib/$MA/$f"; done
	echo /usr/include/devmgr/devmgr.h
	for f in conf/*.conflist conf/*.json conf/*.yaml; do echo "/usr/share/ucni/examples/${f#conf/}"; done
	for f in doc/*.[1-8]; do echo "/usr/share/man/man${f##*.}/${f#doc/}.gz"; done
	echo /usr/share/bash-completion/completions/devmgr
	echo /usr/share/doc/ucni/copyright
	for f in doc/*.md; do echo "/usr/share/doc/ucni/${f#doc/}"; done
	echo /usr/share/doc/ucni/changelog.gz
	for f in packaging/*.service.in; do f=${f%.in}; echo "/lib/systemd/system/${f#packaging/}"; done
	for f in packaging/*.rules; do echo "/lib/udev/rules.d/${f#packaging/}"; done
	echo /usr/share/lintian/overrides/ucni
)
listing=$(dpkg-deb -c "$deb")
check_eq "dpkg-deb -c: exactly the expected files" "$(sort <<<"$expected")" \
	"$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sed 's|^\.||' | sort)"
check_eq "every entry is owned by root:root" "root/root" "$(awk '{print $2}' <<<"$listing" | sort -u)"

# ---- install into a scratch root with dpkg's own database there
R=$T_TMP/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
# --path-include: a host dpkg.cfg.d that excludes /usr/share/man or /usr/share/doc (as
# minimal container images have) must not thin out what the test checks.
dp() { dpkg --root="$R" --force-depends --force-not-root --log=/dev/null --path-include='*' "$@"; }
check "dpkg --root=SCRATCH -i the package" dp -i "$deb"
check_eq "dpkg in the scratch root: ucni is installed" "install ok installed $VERSION" \
	"$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status} ${Version}' ucni 2>&1)"
check_eq "the real system's dpkg database does not know ucni" "" \
	"$(dpkg-query -W -f='${Status}' ucni 2>/dev/null | grep installed)"
for p in $PLUGINS; do
	check_eq "$p in /opt/cni/bin: mode 755" 755 "$(stat -c %a "$R/opt/cni/bin/$p" 2>&1)"
	check_match "installed $p answers VERSION" '"supportedVersions"' \
		"$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$R/opt/cni/bin/$p" 2>&1)"
	check_eq "$p is stripped" "" "$(file -b "$R/opt/cni/bin/$p" | grep -o 'not stripped')"
done
check_match "installed devmgr --help works" '^Usage: devmgr' "$("$R/usr/bin/devmgr" --help 2>&1)"
check_eq "devmgr --version" "devmgr $VERSION" "$("$R/usr/bin/devmgr" --version 2>&1)"
check_eq "modes: library 644, headers/examples/man/completion 644" "644" \
	"$(stat -c %a "$R/usr/lib/$MA/libdevmgr.so.1" "$R/usr/lib/$MA/libdevmgr.a" "$R/usr/include/devmgr/devmgr.h" \
		"$R"/usr/share/ucni/examples/* "$R"/usr/share/man/man*/* "$R/usr/share/bash-completion/completions/devmgr" | sort -u)"
check_eq ".pc: libdir is the multiarch directory" "libdir=/usr/lib/$MA" \
	"$(grep '^libdir=' "$R/usr/lib/$MA/pkgconfig/libdevmgr.pc")"
check_eq "no build path leaks into the package" "" "$(grep -rl "$UCNI_TOP" "$R/usr" "$R/opt" 2>/dev/null)"
for m in "$R"/usr/share/man/man*/*.gz; do
	check_eq "man page $(basename "$m") renders without warnings" "" \
		"$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$m" 2>&1 >/dev/null)"
done

# Depends covers every shared library the package's ELF files link directly (NEEDED;
# libdevmgr is its own). dpkg knows /lib paths on a merged-/usr system, so try both.
owner() {
	local p
	for p in "$1" "$(realpath "$1")" "${1#/usr}" "/usr${1#/usr}"; do
		dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1 | grep . && return
	done
	echo "?"
}
missing=""
for f in "$R"/opt/cni/bin/* "$R/usr/bin/devmgr" "$R/usr/lib/$MA/libdevmgr.so.1"; do
	map=$(LD_LIBRARY_PATH="$R/usr/lib/$MA" ldd "$f")
	for needed in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		# "name => /path (addr)", or for the dynamic loader "/path (addr)"
		lib=$(awk -v n="$needed" '$1 == n {print $3} $1 ~ "/" n "$" {print $1}' <<<"$map" | head -n1)
		[ -n "$lib" ] || { missing+=" $(basename "$f"):$needed(not found)"; continue; }
		case $lib in "$R"/*) continue ;; esac
		pkg=$(owner "$lib")
		[[ ", $deps," == *", $pkg "* || ", $deps," == *", $pkg,"* ]] || missing+=" $(basename "$f"):$needed($pkg)"
	done
done
check_eq "Depends names the package of every library loaded" "" "$missing"

check "dpkg --root=SCRATCH -r ucni" dp -r ucni
check_eq "removal leaves no file of the package" "" \
	"$(cd "$R" && find . -path ./var -prune -o ! -type d -print)"

# ---- lintian
if command -v lintian >/dev/null; then
	lout=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges')
	check_eq "lintian: no errors" "" "$(grep '^E:' <<<"$lout")"
	while read -r w; do [ -n "$w" ] && echo "# lintian $w"; done <<<"$(grep '^W:' <<<"$lout")"
else
	skip "lintian" "not installed (make deps installs it)"
fi
finish
