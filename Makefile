# ucni — one non-recursive Makefile; each directory adds its part through module.mk.
#
#   make                 build everything into build/
#   make check           install missing packages, build, run every test suite
#   make demo            macvlan, devmgr and sriov in a sandbox of namespaces (no NIC, no VM)
#   make demo-vm         ipvlan and sriov on an emulated SR-IOV NIC in the test VM
#   make bench           benchmarks
#   make install         DESTDIR, PREFIX, CNI_BIN_DIR, BINDIR, LIBDIR, SYSTEMDUNITDIR, … honoured; make uninstall
#   make deb             a Debian package build/ucni_<version>_<arch>.deb
#
# Switches: V=1 (show commands), WERROR=1, SANITIZE=address,undefined, CC=clang

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
CNI_BIN_DIR ?= /opt/cni/bin
SYSTEMDUNITDIR ?= /lib/systemd/system
DESTDIR     ?=

CC       ?= cc
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
PKG_CONFIG ?= pkg-config

# A sanitizer or fuzzing build lives in its own tree so it never mixes objects
# with a normal one.
ifeq ($(FAULTS),1)
B := build/fault
CFLAGS += -DUCNI_FAULTS
else ifeq ($(FUZZ),1)
B := build/fuzz
CC := clang
SANITIZE := address,undefined
else ifeq ($(SANITIZE),)
B := build
else
B := build/san
endif
BIN := $(B)/bin

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-align -Wwrite-strings -Wno-unused-parameter \
            -Wnull-dereference -Wvla -Wundef
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

SAN_FLAGS :=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(FUZZ),1)
SAN_FLAGS += -fsanitize=fuzzer-no-link -DUCNI_FUZZ
endif

NL_CFLAGS   := $(shell $(PKG_CONFIG) --cflags libnl-3.0 2>/dev/null)
JSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
# libnl is linked statically: it halves the start-up cost of every plugin exec
# (bench/profile.sh measures it). cJSON has no static archive in Debian.
NL_LIBS     := -Wl,-Bstatic -lnl-3 -Wl,-Bdynamic -lpthread -lm
JSON_LIBS   := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)

ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -Iinclude $(NL_CFLAGS) $(JSON_CFLAGS) \
              $(WARNINGS) $(SAN_FLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Filled by the module fragments.
PROGRAMS      :=   # executables in $(BIN)
CNI_PLUGINS   :=   # the subset of PROGRAMS installed into CNI_BIN_DIR
TEST_PROGRAMS :=   # test executables (built by `make tests`)
CHECK_SUITES  :=   # suite names run by `make check`, in order (see tests/run-suites)
DEPS_PKGS     := build-essential pkg-config libnl-3-dev libcjson-dev \
                 libcmocka-dev iproute2 containernetworking-plugins jq iputils-ping
OBJS          :=
SAN_B         := build/san
SAN_SUITES    :=   # suites run again against the ASan+UBSan build in $(SAN_B)

.PHONY: all tests check deps demo bench install uninstall clean
all:

# The order of the fragments is the order of the suites in make check:
# fast unit tests first, the VM last.
MODULES := lib/module.mk macvlan/module.mk tests/unit/module.mk tests/fuzz/module.mk \
           tests/integ/module.mk ipvlan/module.mk devmgr/module.mk tests/devmgr/module.mk \
           sriov/module.mk tests/fixtures/module.mk tests/clients/module.mk tests/vm/module.mk \
           bench/module.mk
include $(wildcard $(MODULES)) $(filter-out $(MODULES),$(sort $(wildcard */module.mk tests/*/module.mk)))

all: $(PROGRAMS)
tests: all $(TEST_PROGRAMS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

deps:
	$(Q)scripts/deps $(sort $(DEPS_PKGS))

# Every suite runs even when an earlier one failed; tests/run-suites prints the totals.
# SAN_SUITES run a second time against an ASan+UBSan build (build/san).
check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	$(Q)BUILD=$(B) tests/run-suites $(CHECK_SUITES) --build $(SAN_B) $(SAN_SUITES)

# install/uninstall: the plugins, examples, man pages and bash completion here; devmgr,
# libdevmgr, its header and .pc file come from install-devmgr (devmgr/module.mk), a
# prerequisite of both. uninstall removes exactly those files; directories only when
# they are ucni's own, or, with a DESTDIR, any left empty below DESTDIR.
EXAMPLESDIR ?= $(DATADIR)/ucni/examples
DOCDIR      ?= $(DATADIR)/doc/ucni
DOCS        := $(sort $(wildcard doc/*.md))
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
MAN_PAGES   := $(sort $(wildcard doc/*.[1-8]))
EXAMPLES    := $(sort $(wildcard conf/*.conflist conf/*.conf conf/*.json conf/*.yaml))
INSTALL_DIRS = $(CNI_BIN_DIR) $(SYSTEMDUNITDIR) $(BINDIR) $(LIBDIR)/pkgconfig $(INCLUDEDIR)/devmgr $(EXAMPLESDIR) \
               $(DOCDIR) $(BASHCOMPDIR) $(sort $(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))))

install: all
	install -d $(DESTDIR)$(CNI_BIN_DIR)
	$(if $(CNI_PLUGINS),install -m 0755 $(addprefix $(BIN)/,$(CNI_PLUGINS)) $(DESTDIR)$(CNI_BIN_DIR)/)
	install -d $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(EXAMPLESDIR)/
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 packaging/devmgr.bash-completion $(DESTDIR)$(BASHCOMPDIR)/devmgr
	for m in $(MAN_PAGES); do d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
		install -d $$d && install -m 0644 $$m $$d/ || exit 1; done
	$(if $(DESTDIR),,-ldconfig)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(CNI_BIN_DIR)/,$(CNI_PLUGINS))
	rm -f $(addprefix $(DESTDIR)$(EXAMPLESDIR)/,$(notdir $(EXAMPLES))) $(DESTDIR)$(BASHCOMPDIR)/devmgr
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rm -f $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rmdir $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(DATADIR)/ucni $(DESTDIR)$(INCLUDEDIR)/devmgr 2>/dev/null || true
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(if $(DESTDIR),top='$(patsubst %/,%,$(DESTDIR))'; for d in $(INSTALL_DIRS); do d=$$top$$d; \
		while [ "$$d" != "$$top" ] && [ "$${d#$$top/}" != "$$d" ]; do \
			if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || break; fi; d=$${d%/*}; done; \
	done)

# make deb: a binary package ucni_<version>_<arch>.deb in $(B)/, built with dpkg-deb from
# a `make install` into a staging tree (PREFIX=/usr, plugins in /opt/cni/bin: see
# packaging/mkdeb for why). UCNI_VERSION: the VERSION file, else git describe.
UCNI_VERSION := $(or $(shell cat VERSION 2>/dev/null),$(shell git describe --tags --always 2>/dev/null | sed 's/^v//'),0)
DEB_ARCH     ?= $(shell dpkg --print-architecture 2>/dev/null)
DEB_MULTIARCH ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
DEB_CNI_DIR  ?= /opt/cni/bin
DEB_STAGE    := $(B)/deb/root
DEB_FILE     := $(B)/ucni_$(UCNI_VERSION)_$(DEB_ARCH).deb
.PHONY: deb print-deb
ifneq ($(filter deb,$(MAKECMDGOALS)),)
ifneq ($(SANITIZE)$(filter 1,$(FAULTS) $(FUZZ)),)
$(error make deb: not from a sanitizer, fault or fuzz build)
endif
endif
deb: all
	$(Q)rm -rf $(B)/deb
	$(Q)$(MAKE) --no-print-directory -s install DESTDIR=$(abspath $(DEB_STAGE)) PREFIX=/usr \
		LIBDIR=/usr/lib$(if $(DEB_MULTIARCH),/$(DEB_MULTIARCH)) CNI_BIN_DIR=$(DEB_CNI_DIR) >/dev/null
	$(Q)packaging/mkdeb $(DEB_STAGE) $(UCNI_VERSION) $(DEB_ARCH) $(DEB_FILE)
print-deb:
	@echo $(DEB_FILE)

print-cni-plugins:
	@echo $(CNI_PLUGINS)

print-suites:
	@echo $(CHECK_SUITES) --build $(SAN_B) $(SAN_SUITES)

clean:
	rm -rf build

-include $(OBJS:.o=.d)


# make demo: macvlan, devmgr and the sriov plugin in network namespaces on this host
# (scripts/demo.sh); make demo-vm: ipvlan and sriov on an emulated SR-IOV NIC in the
# test VM (scripts/demo-vm.sh, which runs scripts/demo-vm-guest.sh there).
DEMO_PROGRAMS := $(BIN)/macvlan $(BIN)/ipvlan $(BIN)/sriov $(BIN)/devmgr $(MKFAKESYSFS)
demo-programs: $(DEMO_PROGRAMS)
	@:
.PHONY: demo-vm demo-programs
demo: deps
	$(Q)$(MAKE) --no-print-directory demo-programs
	$(Q)UCNI_BIN=$(CURDIR)/$(BIN) scripts/demo.sh
demo-vm: deps
	$(Q)$(MAKE) --no-print-directory demo-programs
	$(Q)UCNI_BIN=$(CURDIR)/$(BIN) scripts/demo-vm.sh
.PRECIOUS: $(B)/obj/%.o
