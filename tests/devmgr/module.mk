# devmgr's tests: cmocka unit tests of libdevmgr, then the CLI, concurrency+crash and VM
# suites (shell). All but the VM suite run on fake sysfs trees from tests/fixtures.
DEVMGR_UNIT := $(B)/tests/devmgr/test_devmgr
OBJS += $(B)/obj/tests/devmgr/test_devmgr.o
TEST_PROGRAMS += $(DEVMGR_UNIT)
CHECK_SUITES += $(DEVMGR_UNIT) tests/devmgr/cli.sh tests/devmgr/apply.sh tests/devmgr/stress.sh tests/devmgr/serve.sh \
                tests/devmgr/vm.sh tests/devmgr/apply-vm.sh tests/devmgr/serve-vm.sh
# serve.sh: a kubelet stand-in on Debian's gRPC for Python, the messages compiled at test time
DEPS_PKGS += python3-grpcio python3-protobuf python3-grpc-tools
SAN_SUITES   += $(SAN_B)/tests/devmgr/test_devmgr $(SAN_B)/tests/devmgr/test_dp tests/devmgr/cli.sh tests/devmgr/apply.sh \
                tests/devmgr/serve.sh

$(B)/obj/tests/devmgr/test_devmgr.o: ALL_CFLAGS += $(PCI_CFLAGS)

# The eswitch and node-state parts of libdevmgr that need no kernel.
ESWITCH_UNIT := $(B)/tests/devmgr/test_eswitch
OBJS += $(B)/obj/tests/devmgr/test_eswitch.o
TEST_PROGRAMS += $(ESWITCH_UNIT)
# devmgr status on the fake tree; the eswitch step lists on netdevsim in the VM
CHECK_SUITES += $(ESWITCH_UNIT) tests/devmgr/status.sh tests/devmgr/eswitch-vm.sh
SAN_SUITES   += $(SAN_B)/tests/devmgr/test_eswitch tests/devmgr/status.sh

# The device plugin model (devmgr/dp.h).
DEVMGR_DP_UNIT := $(B)/tests/devmgr/test_dp
OBJS += $(B)/obj/tests/devmgr/test_dp.o
TEST_PROGRAMS += $(DEVMGR_DP_UNIT)
CHECK_SUITES += $(DEVMGR_DP_UNIT)

# The three unit programs: each its own test file and the shared fixture (fixture.c).
OBJS += $(B)/obj/tests/devmgr/fixture.o
$(DEVMGR_UNIT) $(ESWITCH_UNIT) $(DEVMGR_DP_UNIT): $(B)/tests/devmgr/%: $(B)/obj/tests/devmgr/%.o \
		$(B)/obj/tests/devmgr/fixture.o $(DEVMGR_A) | $(B)/tests/fixtures/mkfakesysfs
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DEVMGR_LIBS) $(CMOCKA_LIBS)

# Latency of claim+release under concurrency (library level), for `make bench`.
DEVMGR_BENCH := $(B)/tests/devmgr/bench_alloc
OBJS += $(B)/obj/tests/devmgr/bench_alloc.o
TEST_PROGRAMS += $(DEVMGR_BENCH)
$(DEVMGR_BENCH): $(B)/obj/tests/devmgr/bench_alloc.o $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(DEVMGR_LIBS)

DEVMGR_BENCH_INV := $(B)/tests/devmgr/bench_inventory
OBJS += $(B)/obj/tests/devmgr/bench_inventory.o
TEST_PROGRAMS += $(DEVMGR_BENCH_INV)
$(DEVMGR_BENCH_INV): $(B)/obj/tests/devmgr/bench_inventory.o $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(DEVMGR_LIBS)

# dm_eswitch_get/set from the command line for the eswitch VM suite (also as FAULTS=1).
ESWITCH_TOOL := $(B)/tests/devmgr/eswitch_tool
OBJS += $(B)/obj/tests/devmgr/eswitch_tool.o
TEST_PROGRAMS += $(ESWITCH_TOOL)
$(ESWITCH_TOOL): $(B)/obj/tests/devmgr/eswitch_tool.o $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(DEVMGR_LIBS)

# devmgr serve under a kubelet of its own (C, on devmgr/rpc/grpc.c), for `make bench`.
DEVMGR_BENCH_SERVE := $(B)/tests/devmgr/bench_serve
OBJS += $(B)/obj/tests/devmgr/bench_serve.o
TEST_PROGRAMS += $(DEVMGR_BENCH_SERVE)
$(B)/obj/tests/devmgr/bench_serve.o: ALL_CFLAGS += -Idevmgr -I$(DEVMGR_PROTO_GEN)
$(B)/obj/tests/devmgr/bench_serve.o: $(DEVMGR_PROTO_GEN)/api.pb-c.h
$(DEVMGR_BENCH_SERVE): $(B)/obj/tests/devmgr/bench_serve.o $(B)/obj/devmgr/rpc/grpc.o $(B)/obj/gen/api.pb-c.o $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DEVMGR_LIBS) $(SERVE_LIBS) -lm

# The gRPC layer of devmgr serve (devmgr/rpc/grpc.c) on a socketpair.
DEVMGR_GRPC_UNIT := $(B)/tests/devmgr/test_grpc
OBJS += $(B)/obj/tests/devmgr/test_grpc.o
TEST_PROGRAMS += $(DEVMGR_GRPC_UNIT)
CHECK_SUITES += $(DEVMGR_GRPC_UNIT)
SAN_SUITES += $(SAN_B)/tests/devmgr/test_grpc
$(B)/obj/tests/devmgr/test_grpc.o: ALL_CFLAGS += -Idevmgr
$(DEVMGR_GRPC_UNIT): $(B)/obj/tests/devmgr/test_grpc.o $(B)/obj/devmgr/rpc/grpc.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SERVE_LIBS) $(CMOCKA_LIBS)
