MACVLAN_OBJS := $(B)/obj/macvlan/macvlan.o
OBJS        += $(MACVLAN_OBJS)
PROGRAMS    += $(BIN)/macvlan
CNI_PLUGINS += macvlan

$(BIN)/macvlan: $(MACVLAN_OBJS) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MACVLAN_OBJS) $(UCNI_PLUGIN_LIBS)
