# packaging: the systemd units (packaging/*.service.in: devmgr's boot apply and re-apply, and
# devmgr serve; @BINDIR@ filled in, built into
# $(B)/packaging/) and the udev rules devmgr's boot needs; mkdeb and the bash completion
# are used by the top Makefile. SYSTEMDUNITDIR and UDEVRULESDIR are in the top Makefile.
UNITS_IN   := $(sort $(wildcard packaging/*.service.in))
UNITS      := $(UNITS_IN:packaging/%.in=$(B)/packaging/%)
UDEV_RULES := $(sort $(wildcard packaging/*.rules))

# rebuilt every time: BINDIR may differ from the last build's
.PHONY: units-force
$(B)/packaging/%.service: packaging/%.service.in units-force
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' $< >$@.tmp && mv $@.tmp $@

all: $(UNITS)

.PHONY: install-boot uninstall-boot
install: install-boot
install-boot: $(UNITS)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 $(UDEV_RULES) $(DESTDIR)$(UDEVRULESDIR)/
uninstall: uninstall-boot
uninstall-boot:
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS))) \
	      $(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(notdir $(UDEV_RULES)))
