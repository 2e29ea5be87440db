# devmgr: libdevmgr (static archive for the plugins, shared library + pkg-config file for
# install) and the devmgr CLI; its tests live in tests/devmgr and tests/fixtures.

DEPS_PKGS += libpci-dev libudev-dev pci.ids pciutils libcmocka-dev libnghttp2-dev libprotobuf-c-dev \
             protobuf-c-compiler

PCI_CFLAGS  := $(shell $(PKG_CONFIG) --cflags libpci 2>/dev/null)
UDEV_LIBS   := $(shell $(PKG_CONFIG) --libs libudev 2>/dev/null || echo -ludev)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

DEVMGR_LIB_SRCS := devmgr/util.c devmgr/device.c devmgr/inventory.c devmgr/vfinfo.c devmgr/vfstate.c \
                   devmgr/config.c devmgr/config-pf.c devmgr/apply.c devmgr/apply-steps.c devmgr/sysfsops.c devmgr/store.c devmgr/store-lock.c devmgr/store-record.c \
                   devmgr/store-claim.c devmgr/store-release.c devmgr/store-gc.c devmgr/json.c \
                   devmgr/libpci.c devmgr/virtfn.c devmgr/vfcursor.c devmgr/eswitch.c \
                   devmgr/nodestate.c devmgr/dp.c devmgr/dp-health.c devmgr/dp-prefer.c devmgr/dp-alloc.c devmgr/dp-served.c
# the CLI: one file per command group (devmgr/cli/)
DEVMGR_CLI_SRCS := devmgr/cli/main.c devmgr/cli/ctx.c devmgr/cli/inventory.c devmgr/cli/pools.c devmgr/cli/table.c \
                   devmgr/cli/alloc.c devmgr/cli/provision.c devmgr/cli/apply.c devmgr/cli/watch.c devmgr/cli/serve.c
# serve: the device plugin (devmgr/serve.c) and its gRPC layer (devmgr/rpc/), in the devmgr
# program only: libdevmgr and the plugins stay free of HTTP/2 and protobuf.
DEVMGR_SERVE_SRCS := devmgr/serve.c devmgr/rpc/grpc.c devmgr/rpc/dpsvc.c
DEVMGR_PROTO_GEN  := $(B)/gen/devmgr/rpc
DEVMGR_SERVE_OBJS := $(DEVMGR_SERVE_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/api.pb-c.o
DEVMGR_LIB_OBJS := $(DEVMGR_LIB_SRCS:%.c=$(B)/obj/%.o)
DEVMGR_CLI_SRCS += devmgr/cli/status.c
DEVMGR_PIC_OBJS := $(DEVMGR_LIB_SRCS:%.c=$(B)/pic/%.o) $(UCNI_CORE_SRCS:%.c=$(B)/pic/%.o)
DEVMGR_CLI_OBJS := $(DEVMGR_CLI_SRCS:%.c=$(B)/obj/%.o) $(DEVMGR_SERVE_OBJS)

# What a program linking libdevmgr.a needs after it (the sriov plugin uses this).
# libudev is only pulled in when the watch code is linked; libpci is not linked at all:
# the inventory opens it on first use (devmgr/libpci.c), so only its headers are needed.
DEVMGR_A    := $(B)/lib/libdevmgr.a
DEVMGR_SO   := $(B)/lib/libdevmgr.so.1
DEVMGR_PC   := $(B)/lib/pkgconfig/libdevmgr.pc
DEVMGR_LIBS := $(DEVMGR_A) -Wl,--push-state,--as-needed $(UDEV_LIBS) -Wl,--pop-state \
               $(JSON_LIBS) $(NL_LIBS)

OBJS += $(DEVMGR_LIB_OBJS) $(DEVMGR_PIC_OBJS) $(DEVMGR_CLI_OBJS)
PROGRAMS += $(BIN)/devmgr

$(DEVMGR_LIB_OBJS) $(filter $(B)/pic/devmgr/%,$(DEVMGR_PIC_OBJS)) $(DEVMGR_CLI_OBJS): ALL_CFLAGS += $(PCI_CFLAGS)

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC(pic) $<")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

# libdevmgr carries the core's base and kernel layers (lib/base, lib/kernel), so that the
# installed archive and shared library stand alone; the shared library exports dm_* only.
$(DEVMGR_A): $(DEVMGR_LIB_OBJS) $(UCNI_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(DEVMGR_SO): $(DEVMGR_PIC_OBJS) devmgr/libdevmgr.sym
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libdevmgr.so.1 -Wl,--version-script=devmgr/libdevmgr.sym \
		-o $@ $(DEVMGR_PIC_OBJS) $(UDEV_LIBS) $(JSON_LIBS) \
		$(shell $(PKG_CONFIG) --libs libnl-3.0 2>/dev/null || echo -lnl-3)
	$(Q)ln -sf libdevmgr.so.1 $(B)/lib/libdevmgr.so

$(DEVMGR_PC): devmgr/libdevmgr.pc.in
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' $< > $@

# The messages of the device plugin API, compiled from devmgr/rpc/api.proto at build time
# (never committed); its services are left out for protoc-c (a method named Register would be
# a C keyword in the generated stubs, which devmgr/rpc/ does not use). libnghttp2 and libprotobuf-c are linked statically: devmgr gains no
# runtime dependency (doc/architecture.md has the sizes).
$(DEVMGR_PROTO_GEN)/api.pb-c.c $(DEVMGR_PROTO_GEN)/api.pb-c.h &: devmgr/rpc/api.proto
	@mkdir -p $(DEVMGR_PROTO_GEN)
	$(if $(Q),@echo "  PROTOC  $<")
	$(Q)sed '/^service /,/^}/d' $< >$(DEVMGR_PROTO_GEN)/api.proto
	$(Q)protoc-c --c_out=$(DEVMGR_PROTO_GEN) -I$(DEVMGR_PROTO_GEN) $(DEVMGR_PROTO_GEN)/api.proto
$(B)/obj/gen/api.pb-c.o: $(DEVMGR_PROTO_GEN)/api.pb-c.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(SAN_FLAGS) $(CFLAGS) -I$(DEVMGR_PROTO_GEN) -MMD -MP -c -o $@ $<
$(DEVMGR_SERVE_OBJS): ALL_CFLAGS += -I$(DEVMGR_PROTO_GEN)
$(DEVMGR_SERVE_OBJS) $(B)/obj/devmgr/cli/serve.o: $(DEVMGR_PROTO_GEN)/api.pb-c.h
SERVE_LIBS := -Wl,-Bstatic -lnghttp2 -lprotobuf-c -Wl,-Bdynamic

$(BIN)/devmgr: $(DEVMGR_CLI_OBJS) $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DEVMGR_CLI_OBJS) $(DEVMGR_LIBS) $(SERVE_LIBS) $(UDEV_LIBS)

all: $(DEVMGR_A) $(DEVMGR_SO) $(DEVMGR_PC)

.PHONY: install-devmgr uninstall-devmgr
install: install-devmgr
install-devmgr: $(BIN)/devmgr $(DEVMGR_A) $(DEVMGR_SO) $(DEVMGR_PC)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/devmgr
	install -m 0755 $(BIN)/devmgr $(DESTDIR)$(BINDIR)/
	install -m 0644 $(DEVMGR_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(DEVMGR_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libdevmgr.so.1 $(DESTDIR)$(LIBDIR)/libdevmgr.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		devmgr/libdevmgr.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libdevmgr.pc
	install -m 0644 include/devmgr/devmgr.h $(DESTDIR)$(INCLUDEDIR)/devmgr/
uninstall: uninstall-devmgr
uninstall-devmgr:
	rm -f $(DESTDIR)$(BINDIR)/devmgr $(DESTDIR)$(LIBDIR)/libdevmgr.a $(DESTDIR)$(LIBDIR)/libdevmgr.so.1 \
	      $(DESTDIR)$(LIBDIR)/libdevmgr.so $(DESTDIR)$(LIBDIR)/pkgconfig/libdevmgr.pc \
	      $(DESTDIR)$(INCLUDEDIR)/devmgr/devmgr.h
	-rmdir $(DESTDIR)$(INCLUDEDIR)/devmgr 2>/dev/null
