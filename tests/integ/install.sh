#!/bin/bash
# make install / uninstall honour DESTDIR, PREFIX and CNI_BIN_DIR.
source "$(dirname "$0")/../lib.sh"
cd "$UCNI_TOP"
root=$T_TMP/root
vars=(DESTDIR="$root" PREFIX=/usr CNI_BIN_DIR=/usr/libexec/cni)
check "make install into DESTDIR" make --no-print-directory -s install "${vars[@]}"
for p in $(make --no-print-directory -s print-cni-plugins); do
	check "plugin $p installed into CNI_BIN_DIR, executable" test -x "$root/usr/libexec/cni/$p"
	check "installed $p answers VERSION" sh -c "echo '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION '$root/usr/libexec/cni/$p' | grep -q supportedVersions"
done
check_eq "nothing installed outside DESTDIR" "" "$(ls /usr/libexec/cni/macvlan 2>/dev/null)"
check "make uninstall" make --no-print-directory -s uninstall "${vars[@]}"
check_eq "uninstall removed the plugins" "" "$(find "$root" -type f | head -n3)"
finish
