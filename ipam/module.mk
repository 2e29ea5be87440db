# The IPAM plugins: what they share (common.c, on lib/cni) and one program each.
IPAM_COMMON_OBJS := $(B)/obj/ipam/common.o
STATIC_OBJS      := $(B)/obj/ipam/static-main.o $(B)/obj/ipam/static.o
OBJS        += $(IPAM_COMMON_OBJS) $(STATIC_OBJS) $(B)/obj/ipam/inproc.o
PROGRAMS    += $(BIN)/static
CNI_PLUGINS += static

$(BIN)/static: $(STATIC_OBJS) $(IPAM_COMMON_OBJS) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(STATIC_OBJS) $(IPAM_COMMON_OBJS) $(UCNI_PLUGIN_LIBS)

# The programs' notes carry the build id (ipam/note.h).
$(B)/obj/ipam/static-main.o $(B)/obj/ipam/hostlocal-main.o: $(UCNI_BUILDID_H)

# The unit test of common.c links it besides the core.
$(B)/tests/unit/test_ipamcommon: $(IPAM_COMMON_OBJS)
$(B)/tests/unit/test_ipamcommon: UCNI_PLUGIN_LIBS = $(IPAM_COMMON_OBJS) $(LIBUCNI) $(NL_LIBS) $(JSON_LIBS)

# static against the reference binary, field by field (no root needed).
CHECK_SUITES += tests/ipam/static.sh
SAN_SUITES   += tests/ipam/static.sh

# host-local: the verbs (hostlocal.c), resolvConf (hostlocal-dns.c), range sets and the
# allocation order (range.c), the reference's store on disk (disk.c).
HOSTLOCAL_OBJS := $(B)/obj/ipam/hostlocal-main.o $(B)/obj/ipam/hostlocal.o $(B)/obj/ipam/hostlocal-dns.o $(B)/obj/ipam/range.o $(B)/obj/ipam/disk.o
OBJS        += $(HOSTLOCAL_OBJS)
PROGRAMS    += $(BIN)/host-local
CNI_PLUGINS += host-local

$(BIN)/host-local: $(HOSTLOCAL_OBJS) $(IPAM_COMMON_OBJS) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(HOSTLOCAL_OBJS) $(IPAM_COMMON_OBJS) $(UCNI_PLUGIN_LIBS)

# The unit test of ranges, the allocation order, the store and resolvConf links them besides the core.
HOSTLOCAL_LIB_OBJS := $(B)/obj/ipam/range.o $(B)/obj/ipam/disk.o $(B)/obj/ipam/hostlocal-dns.o $(IPAM_COMMON_OBJS)
$(B)/tests/unit/test_hlrange: $(HOSTLOCAL_LIB_OBJS)
$(B)/tests/unit/test_hlrange: UCNI_PLUGIN_LIBS = $(HOSTLOCAL_LIB_OBJS) $(LIBUCNI) $(NL_LIBS) $(JSON_LIBS)

# The differential suite against the reference plugin (tests/ipam/host-local.sh).
CHECK_SUITES += tests/ipam/host-local.sh
SAN_SUITES   += tests/ipam/host-local.sh
