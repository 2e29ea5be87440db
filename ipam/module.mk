# The IPAM plugins: what they share (common.c, on lib/cni) and one program each.
IPAM_COMMON_OBJS := $(B)/obj/ipam/common.o
STATIC_OBJS      := $(B)/obj/ipam/static.o
OBJS        += $(IPAM_COMMON_OBJS) $(STATIC_OBJS)
PROGRAMS    += $(BIN)/static
CNI_PLUGINS += static

$(BIN)/static: $(STATIC_OBJS) $(IPAM_COMMON_OBJS) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(STATIC_OBJS) $(IPAM_COMMON_OBJS) $(UCNI_PLUGIN_LIBS)

# The unit test of common.c links it besides the core.
$(B)/tests/unit/test_ipamcommon: $(IPAM_COMMON_OBJS)
$(B)/tests/unit/test_ipamcommon: UCNI_PLUGIN_LIBS = $(IPAM_COMMON_OBJS) $(LIBUCNI) $(NL_LIBS) $(JSON_LIBS)
