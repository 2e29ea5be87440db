/* devlink over generic netlink (lib/kernel/devlink.c): a device's eswitch mode,
 * the device named by its devlink handle, bus and device name ("pci" and
 * "0000:01:00.0", "netdevsim" and "netdevsim10"). */
#pragma once

#include <stdint.h>
#include <linux/devlink.h>
#include "ucni/nl.h"

/* Errors: the kernel's own -errno (-ENODEV: devlink has no such device), and
 * -EOPNOTSUPP when the device has no eswitch (the kernel answers without a mode
 * or refuses the command) or the kernel has no devlink family at all. */

/* The mode (DEVLINK_ESWITCH_MODE_LEGACY or _SWITCHDEV) of bus/dev, on a socket
 * of its own. */
int devlink_eswitch_get(const char *bus, const char *dev, int *ret_mode);
/* Sets it; the driver's refusal is its -errno (its extended-ack text is on the
 * socket of devlink_eswitch_set_on(), for a caller that reports it). */
int devlink_eswitch_set(const char *bus, const char *dev, int mode);

/* The same on an open generic netlink socket whose devlink family id is known:
 * the caller keeps the socket for nlsk_message(). */
struct devlink {
	struct nlsk sk;
	uint16_t family;
};
#define DEVLINK_NULL { .sk = NLSK_NULL }
/* Opens a generic netlink socket and resolves the "devlink" family. */
int devlink_open(struct devlink *dl);
void devlink_close(struct devlink *dl);
int devlink_eswitch_get_on(struct devlink *dl, const char *bus, const char *dev, int *ret_mode);
int devlink_eswitch_set_on(struct devlink *dl, const char *bus, const char *dev, int mode);

/* The message codec, apart from the socket (for the tests): a request of cmd
 * for bus/dev (NULL when out of memory), and the mode an
 * DEVLINK_CMD_ESWITCH_GET reply carries (-EOPNOTSUPP without one, -EBADMSG
 * when malformed). */
struct nl_msg *devlink_msg(uint16_t family, uint8_t cmd, const char *bus, const char *dev);
int devlink_eswitch_parse(struct nlmsghdr *h, uint16_t family, int *ret_mode);
