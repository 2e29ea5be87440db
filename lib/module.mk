# The CNI core: one static archive every plugin links.
LIBUCNI_SRCS := lib/cni.c lib/conf.c lib/error.c lib/result.c lib/log.c lib/netns.c lib/nl.c \
                lib/ipam.c lib/ipcfg.c lib/stacked.c lib/fault.c lib/state.c lib/node.c lib/sha256.c
LIBUCNI_OBJS := $(LIBUCNI_SRCS:%.c=$(B)/obj/%.o)
LIBUCNI      := $(B)/lib/libucni.a
OBJS         += $(LIBUCNI_OBJS)

$(LIBUCNI): $(LIBUCNI_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

# A CNI plugin binary from its objects + the core.
UCNI_PLUGIN_LIBS = $(LIBUCNI) $(NL_LIBS) $(JSON_LIBS)
