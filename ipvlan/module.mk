# ipvlan: the ipvlan keys, attributes and the per-master mode guard; the rest is lib/plugin/stacked.c.
IPVLAN_OBJS := $(B)/obj/ipvlan/ipvlan.o $(B)/obj/ipvlan/port.o
OBJS        += $(IPVLAN_OBJS)
PROGRAMS    += $(BIN)/ipvlan
CNI_PLUGINS += ipvlan

$(BIN)/ipvlan: $(IPVLAN_OBJS) $(UCNI_IPAM_BUILTIN) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(IPVLAN_OBJS) $(UCNI_IPAM_BUILTIN) $(UCNI_PLUGIN_LIBS)

# Unit tests of the registry's DEL and GC paths and of the netns identity (host),
# also under ASan+UBSan. Then the suite proper: the host kernel has no ipvlan, so it
# boots one VM (tests/vm) for all its cases.
IPVLAN_UNIT := $(B)/tests/ipvlan/unit
OBJS          += $(B)/obj/tests/ipvlan/unit.o
TEST_PROGRAMS += $(IPVLAN_UNIT)
CHECK_SUITES  += $(IPVLAN_UNIT) tests/ipvlan/run
SAN_SUITES    += $(SAN_B)/tests/ipvlan/unit

$(IPVLAN_UNIT): $(B)/obj/tests/ipvlan/unit.o $(B)/obj/ipvlan/port.o $(UNIT_FIXTURE) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(B)/obj/tests/ipvlan/unit.o $(B)/obj/ipvlan/port.o $(UNIT_FIXTURE) \
		$(UCNI_PLUGIN_LIBS) $(CMOCKA_LIBS)
