MACVLAN_OBJS := $(B)/obj/macvlan/macvlan.o
OBJS        += $(MACVLAN_OBJS)
PROGRAMS    += $(BIN)/macvlan
CNI_PLUGINS += macvlan

$(BIN)/macvlan: $(MACVLAN_OBJS) $(UCNI_IPAM_BUILTIN) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MACVLAN_OBJS) $(UCNI_IPAM_BUILTIN) $(UCNI_PLUGIN_LIBS)
