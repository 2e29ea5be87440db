# libFuzzer targets (clang): `make fuzz` runs each for FUZZ_TIME seconds;
# make check runs a short pass through tests/fuzz/run.sh.
FUZZ_TARGETS := fuzz_conf fuzz_args fuzz_result fuzz_ipam
# devmgr's parsers: pool config, sysfs values and names, allocation records, a VF's saved state
DM_FUZZ_TARGETS := fuzz_dm_config fuzz_dm_sysfs fuzz_dm_record fuzz_dm_saved
FUZZ_TARGETS += $(DM_FUZZ_TARGETS)
FUZZ_BINS    := $(FUZZ_TARGETS:%=build/fuzz/bin/%)
FUZZ_TIME    ?= 60
DEPS_PKGS    += clang libclang-rt-14-dev
CHECK_SUITES += tests/fuzz/run.sh

ifeq ($(FUZZ),1)
OBJS += $(FUZZ_TARGETS:%=$(B)/obj/tests/fuzz/%.o)
# every plugin's config parser (their main() is left out under UCNI_FUZZ); sriov's
# objects by name: sriov/module.mk, which lists them, is read after this file
$(B)/bin/fuzz_conf: $(B)/obj/tests/fuzz/fuzz_conf.o $(B)/obj/macvlan/macvlan.o $(B)/obj/ipvlan/ipvlan.o \
		$(B)/obj/ipvlan/port.o $(addprefix $(B)/obj/sriov/,sriov.o conf.o state.o vf.o claim.o devinfo.o) \
		$(LIBUCNI) $(B)/lib/libdevmgr.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(LIBUCNI) $(B)/lib/libdevmgr.a \
		$(UCNI_PLUGIN_LIBS) $(shell $(PKG_CONFIG) --libs libudev)
# the IPAM plugins' parsers (host-local's and static's main() are left out under UCNI_FUZZ)
$(B)/bin/fuzz_ipam: $(B)/obj/tests/fuzz/fuzz_ipam.o $(addprefix $(B)/obj/ipam/,hostlocal.o hostlocal-dns.o range.o \
		disk.o static.o common.o) $(LIBUCNI)
$(B)/bin/fuzz_args: $(B)/obj/tests/fuzz/fuzz_args.o $(LIBUCNI)
$(B)/bin/fuzz_result: $(B)/obj/tests/fuzz/fuzz_result.o $(LIBUCNI)
$(filter-out $(DM_FUZZ_TARGETS:%=$(B)/bin/%) $(B)/bin/fuzz_conf,$(FUZZ_BINS)):
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(UCNI_PLUGIN_LIBS)
# libdevmgr.a of the fuzz tree (devmgr/module.mk is read after this file: name it directly)
$(DM_FUZZ_TARGETS:%=$(B)/bin/%): $(B)/bin/%: $(B)/obj/tests/fuzz/%.o $(B)/lib/libdevmgr.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(DEVMGR_LIBS)
fuzz-build: $(FUZZ_BINS)
endif

.PHONY: fuzz fuzz-build
fuzz: deps
	$(Q)$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	$(Q)FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run.sh
