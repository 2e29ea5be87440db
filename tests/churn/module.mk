# tests/churn: ADD/DEL churn of ipvlan and sriov in the test VM (UCNI_CHURN_CYCLES, default
# 200 per plugin), and a VF on vfio-pci behind qemu's emulated Intel IOMMU (tests/vm/run
# --iommu). Both boot their own VM; tests/vm/setup provides qemu and the boot files.
CHECK_SUITES += tests/churn/run tests/churn/vfio
DEPS_PKGS    += util-linux
