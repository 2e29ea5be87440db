# Benchmarks: `make bench` times ucni against the reference plugins and the
# kernel floor and writes $(B)/bench.json and, from it, doc/benchmarks.md (bench/report).
# Not part of `make check`: only a 3-iteration smoke run is (bench/smoke.sh), so the
# benchmark code cannot rot unnoticed.
BENCH_DRIVER := $(B)/bench/driver
BENCH_FLOOR  := $(B)/bench/floor
BENCH_SPAWN  := $(B)/bench/spawn
TEST_PROGRAMS += $(BENCH_DRIVER) $(BENCH_FLOOR) $(BENCH_SPAWN)
# The driver: main, options, topology (namespaces, links), runner, statistics, the CNI and
# devmgr cases, output (table and JSON).
BENCH_DRIVER_OBJS := $(patsubst %,$(B)/obj/bench/%.o,driver options util topology runner stats cni devmgr output)
OBJS += $(BENCH_DRIVER_OBJS) $(B)/obj/bench/floor.o $(B)/obj/bench/spawn.o
CHECK_SUITES += bench/smoke.sh
DEPS_PKGS += containernetworking-plugins iproute2 jq

$(BENCH_DRIVER): $(BENCH_DRIVER_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

# Static, so that its own tiny footprint (≈0.7 MB) stays below every program it measures:
# wait4's ru_maxrss counts the address space a child replaced at exec (see spawn.c).
# Sanitizer builds cannot link statically; their RSS figures mean nothing anyway.
$(BENCH_SPAWN): $(B)/obj/bench/spawn.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(if $(SANITIZE),,-static) -o $@ $^

# Linked like the plugins (libnl static) so its start-up cost is comparable.
$(BENCH_FLOOR): $(B)/obj/bench/floor.o $(B)/obj/lib/base/parallel.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NL_LIBS)

# BENCH_ARGS: extra driver options, e.g. BENCH_ARGS="--iterations 100 --cases l2,scale".
BENCH_ARGS ?=
bench: deps
	$(Q)$(MAKE) -s --no-print-directory $(BIN)/macvlan $(BIN)/static $(BIN)/host-local $(BENCH_DRIVER) $(BENCH_FLOOR) $(BENCH_SPAWN) \
		$(if $(wildcard devmgr/module.mk),$(BIN)/devmgr $(MKFAKESYSFS) $(DEVMGR_BENCH) $(DEVMGR_BENCH_INV) $(DEVMGR_BENCH_SERVE))
	$(Q)B=$(B) bench/run $(BENCH_ARGS)

# ipvlan and sriov (a VF of qemu's igb) in the qemu VM (tests/vm): relative numbers only.
# Not part of `make bench`: the VM needs its own set-up (kernel, qemu) and several minutes.
.PHONY: bench-vm
bench-vm: deps
	$(Q)$(MAKE) -s --no-print-directory $(BIN)/macvlan $(BIN)/ipvlan $(BIN)/sriov $(BIN)/static $(BENCH_DRIVER) $(BENCH_FLOOR) $(BENCH_SPAWN)
	$(Q)B=$(B) bench/vm.sh $(BENCH_ARGS)
