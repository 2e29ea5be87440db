# cmocka unit tests of the core (no root, no kernel state): every tests/unit/test_*.c is a
# program, linked with the shared fixtures (tests/unit/fixture.c).
UNIT_TESTS := $(sort $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)))
UNIT_BINS  := $(UNIT_TESTS:%=$(B)/tests/unit/%)
UNIT_FIXTURE := $(B)/obj/tests/unit/fixture.o
OBJS       += $(UNIT_TESTS:%=$(B)/obj/tests/unit/%.o) $(UNIT_FIXTURE)
TEST_PROGRAMS += $(UNIT_BINS)
CHECK_SUITES  += $(UNIT_BINS)
SAN_SUITES    += $(UNIT_TESTS:%=$(SAN_B)/tests/unit/%)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $(UNIT_FIXTURE) $(LIBUCNI)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_FIXTURE) $(UCNI_PLUGIN_LIBS) $(CMOCKA_LIBS)
CHECK_SUITES  += tests/unit/valgrind.sh
DEPS_PKGS     += valgrind
