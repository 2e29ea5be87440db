# cmocka unit tests of the core (no root, no kernel state).
UNIT_TESTS := test_env test_conf test_result test_error test_state test_lock test_valid test_nl test_sha256
UNIT_BINS  := $(UNIT_TESTS:%=$(B)/tests/unit/%)
OBJS       += $(UNIT_TESTS:%=$(B)/obj/tests/unit/%.o)
TEST_PROGRAMS += $(UNIT_BINS)
CHECK_SUITES  += $(UNIT_BINS)
SAN_SUITES    += $(UNIT_TESTS:%=$(SAN_B)/tests/unit/%)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(UCNI_PLUGIN_LIBS) $(CMOCKA_LIBS)
CHECK_SUITES  += tests/unit/valgrind.sh
DEPS_PKGS     += valgrind
