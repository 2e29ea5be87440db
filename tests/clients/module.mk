# tests/clients — real CNI clients drive the plugins: the official libcni (through
# a small Go driver of ours, built offline from Debian's packaged sources) and
# podman 4.3 with its CNI network backend.

DEPS_PKGS += golang-go golang-github-appc-cni-dev podman runc busybox-static

LIBCNI_DRIVER := $(B)/tests/ucni-libcni
TEST_PROGRAMS += $(LIBCNI_DRIVER)
CHECK_SUITES  += tests/clients/libcni.sh tests/clients/podman.sh

# GOPATH mode against /usr/share/gocode: no module download, no network.
$(LIBCNI_DRIVER): tests/clients/libcni/main.go
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  GO      $@")
	$(Q)GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= CGO_ENABLED=0 \
		GOCACHE=$(abspath $(B))/go-cache go build -o $@ ./tests/clients/libcni
