# The sriov CNI plugin: the CNI core + libdevmgr (device lookup, pools, allocation store).
SRIOV_OBJS  := $(B)/obj/sriov/sriov.o $(B)/obj/sriov/conf.o $(B)/obj/sriov/state.o \
	       $(B)/obj/sriov/vf.o $(B)/obj/sriov/claim.o $(B)/obj/sriov/devinfo.o
OBJS        += $(SRIOV_OBJS)
PROGRAMS    += $(BIN)/sriov
CNI_PLUGINS += sriov

$(BIN)/sriov: $(SRIOV_OBJS) $(UCNI_IPAM_BUILTIN) $(LIBUCNI) $(DEVMGR_A)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(SRIOV_OBJS) $(UCNI_IPAM_BUILTIN) $(LIBUCNI) $(DEVMGR_LIBS) $(UCNI_PLUGIN_LIBS)

# Host-kernel suite (fake sysfs, veths as VF netdevs), also under ASan/UBSan; the VM
# suite with qemu's igb and netdevsim.
# tests/sriov/isolation.sh: tenant isolation (gc, release, reclaim, refused restores) on igb.
CHECK_SUITES += tests/sriov/host.sh tests/sriov/vm.sh tests/sriov/isolation.sh
SAN_SUITES   += tests/sriov/host.sh
# strace: the host suite counts the requests and sysfs reads of an ADD and a DEL.
DEPS_PKGS    += strace
