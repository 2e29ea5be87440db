# The core, in four layers; each depends only on the ones above it in this list.
#   lib/base    files, locks and atomic writes, digests, node settings, device-info files,
#               fault injection (no kernel, no CNI)
#   lib/kernel  rtnetlink, devlink (generic netlink), network namespaces (what the plugins and devmgr share)
#   lib/cni     the CNI protocol: environment, config, results, errors, IPAM exec, log
#   lib/plugin  the plugin frame: CHECK's first steps and ADD's result (frame.c), the
#               stacked-link ADD/DEL/CHECK flow (stacked.c), addresses and routes (ipcfg.c)
# devmgr links base and kernel (libdevmgr carries their objects); the plugins link all.
UCNI_BASE_SRCS   := lib/base/state.c lib/base/lock.c lib/base/io.c lib/base/valid.c lib/base/sha256.c lib/base/devinfo.c \
                    lib/base/node.c lib/base/fault.c lib/base/elfnote.c lib/base/buildid.c \
                    lib/base/parallel.c
UCNI_KERNEL_SRCS := lib/kernel/nl.c lib/kernel/link.c lib/kernel/route.c lib/kernel/vf.c lib/kernel/netns.c \
                    lib/kernel/sysfs.c lib/kernel/devlink.c
UCNI_CNI_SRCS    := lib/cni/cni.c lib/cni/conf.c lib/cni/error.c lib/cni/result.c lib/cni/log.c \
                    lib/cni/ipam.c lib/cni/ipam-inproc.c
UCNI_PLUGIN_SRCS := lib/plugin/stacked.c lib/plugin/ipcfg.c lib/plugin/frame.c
# What devmgr shares with the plugins.
UCNI_CORE_SRCS   := $(UCNI_BASE_SRCS) $(UCNI_KERNEL_SRCS)
UCNI_CORE_OBJS   := $(UCNI_CORE_SRCS:%.c=$(B)/obj/%.o)
LIBUCNI_SRCS := $(UCNI_CORE_SRCS) $(UCNI_CNI_SRCS) $(UCNI_PLUGIN_SRCS)
LIBUCNI_OBJS := $(LIBUCNI_SRCS:%.c=$(B)/obj/%.o)
LIBUCNI      := $(B)/lib/libucni.a
OBJS         += $(LIBUCNI_OBJS)

# An archive names its members by file name only: the names stay unique across lib/.
$(LIBUCNI): $(LIBUCNI_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# A CNI plugin binary from its objects + the core.
UCNI_PLUGIN_LIBS = $(LIBUCNI) $(NL_LIBS) $(JSON_LIBS)
# The IPAM plugins a plugin runs in-process (ipam/inproc.c; ipam/module.mk builds them):
# objects, not an archive, as the core reaches them only through a weak symbol.
UCNI_IPAM_BUILTIN := $(addprefix $(B)/obj/ipam/,inproc.o static.o hostlocal.o hostlocal-dns.o range.o disk.o common.o)

# The build id (ucni/buildid.h, generated): a digest of every source and of the compiler
# and its flags. A plugin runs an IPAM in-process only when the IPAM binary's note
# carries the plugin's own id (lib/cni/ipam-inproc.c). The header is rewritten only
# when the digest changes, so an unchanged tree rebuilds nothing.
UCNI_STAMP_SRCS := $(sort $(wildcard include/*/*.h lib/*/*.c ipam/*.[ch] macvlan/*.[ch] ipvlan/*.[ch] \
                   sriov/*.[ch] devmgr/*.[ch]) Makefile $(wildcard */module.mk))
UCNI_BUILDID_H  := $(B)/gen/ucni/buildid.h
ALL_CFLAGS      += -I$(B)/gen
$(UCNI_BUILDID_H): $(UCNI_STAMP_SRCS)
	@mkdir -p $(dir $@)
	$(Q){ cat $(UCNI_STAMP_SRCS); echo '$(CC) $(subst ','',$(ALL_CFLAGS) $(ALL_LDFLAGS))'; } | sha256sum | \
		sed 's/ .*//; s/.*/#define UCNI_BUILD_ID "&"/' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(B)/obj/lib/base/buildid.o: $(UCNI_BUILDID_H)
