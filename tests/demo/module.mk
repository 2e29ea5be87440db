# The demos keep working: make demo's script on the host (also interrupted, nothing left
# behind), make demo-vm's in the test VM (about half a minute, plus a boot interrupted).
CHECK_SUITES += tests/demo/demo.sh tests/demo/demo-vm.sh
