# tests/install — make install/uninstall into a DESTDIR, the Debian package from
# `make deb` (dpkg --root into a scratch root, lintian), and the Kubernetes-facing
# files (NetworkAttachmentDefinitions, devmgr's device plugin export).
# yq (YAML → JSON) reads the NADs; lintian checks the package; file/binutils inspect it.
DEPS_PKGS    += yq lintian file binutils dpkg-dev man-db groff-base
CHECK_SUITES += tests/install/install.sh tests/install/deb.sh tests/install/k8s.sh
# install.sh and k8s.sh use build/tests/fixtures/mkfakesysfs (built by `make tests`).
