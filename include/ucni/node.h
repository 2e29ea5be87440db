/* Node settings: the directories the node's admin lets a network config name files and
 * stores in (logFile, poolConfig, resolvConf, ipam.dataDir), and the one way each is opened. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The node settings file; the variable names another one (the runtime's environment
 * is the node's, never a tenant's). */
#define NODE_SETTINGS_PATH "/etc/ucni/node.json"
#define NODE_SETTINGS_ENV "UCNI_NODE_CONFIG"
#define NODE_LOG_DIR_DEFAULT "/var/log/ucni"
#define NODE_CONFIG_DIR_DEFAULT "/etc/ucni"
#define NODE_DEVINFO_DIR_DEFAULT "/var/run/k8s.cni.cncf.io/devinfo"
/* The reference host-local's default dataDir. */
#define NODE_DATA_DIR_DEFAULT "/var/lib/cni/networks"

/* "sriovDeviceIDs": which VFs a network config may name by deviceID (runtimeConfig.deviceID,
 * deviceID, pciBusID): "any" (the default, as the reference plugin), or "pools": only a VF
 * in one of the node's devmgr pools (its own pool configuration, never one a config names). */
#define NODE_DEVICE_IDS_KEY "sriovDeviceIDs"
enum node_device_ids {
	NODE_DEVICE_IDS_ANY,
	NODE_DEVICE_IDS_POOLS,
};
/* The node's "sriovDeviceIDs" into *RET: 0, or -EPERM with *ret_why (static) when the node
 * settings cannot be used (then no policy is known: the caller refuses). */
int node_device_ids(enum node_device_ids *ret, const char **ret_why);

enum node_dirs {
	NODE_LOG_DIRS,    /* "logDirs": where a logFile may be */
	NODE_CONFIG_DIRS, /* "configDirs": where a file a config names (poolConfig) may be */
	NODE_DATA_DIRS,   /* "dataDirs": where a store a config names (ipam.dataDir) may be */
	NODE_DEVINFO_DIRS, /* "devinfoDirs": where a device-info file (runtimeConfig.CNIDeviceInfoFile) may be */
	NODE_DIRS_KINDS,
};

/*
 * Opens PATH, a file a network config names, for FLAGS (O_RDONLY, or O_WRONLY|O_APPEND|
 * O_CREAT with MODE) when it lies beneath a directory of KIND: PATH is normalized
 * lexically (absolute; "//" and "." dropped; "..", control characters refused), then
 * opened component by component from that directory without following any symbolic
 * link, with O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC added; it must be a regular file
 * with a single link (checked before the open and again with fstat on the descriptor),
 * or not exist when FLAGS creates it.
 * Returns 0 and *ret_fd; -EPERM when the rules refuse it (*ret_why, a static string,
 * says why and names the allowed directories, also when the node settings are unusable);
 * another -errno when opening failed (the directory or the file is missing, …).
 */
int node_open(enum node_dirs kind, const char *path, int flags, mode_t mode, int *ret_fd,
	      const char **ret_why);

/* Is PATH (lexically: normalized as node_open does) strictly beneath a directory of KIND?
 * 0, or -EPERM with *ret_why. Nothing is opened. */
int node_path_check(enum node_dirs kind, const char *path, const char **ret_why);

/*
 * Opens the directory that holds PATH, a file beneath a directory of KIND, to create,
 * replace or remove that file there: the allowed directory itself (which may be reached
 * through links; with CREATE made 0755 with its parents when missing), then each component
 * below it without following any link (lib/base's state_open_subdir: made 0755 with CREATE,
 * and each one owned by the caller and not writable by group or others). *ret_dirfd, and
 * the file's name into RET_NAME (NAME_MAX + 1 bytes). -EPERM with *ret_why when the rules
 * refuse it; another -errno when opening failed (-ENOENT without CREATE).
 */
int node_open_parent(enum node_dirs kind, const char *path, int create, int *ret_dirfd, char *ret_name,
		     const char **ret_why);
/*
 * Opens the directory PATH, one a network config names, when it is or lies beneath a
 * directory of KIND: normalized as node_open does; the allowed directory itself is opened
 * as named (links allowed: the admin's), then every component beneath it with
 * O_DIRECTORY|O_NOFOLLOW (state_walk(), the walk of state_open_subdir without its owner
 * rule). With CREATE, missing components are made with exactly MODE (never group or other
 * writable), and a missing allowed directory with its parents; nothing is made when the
 * path is refused.
 * Returns 0 and *ret_fd (O_RDONLY|O_DIRECTORY|O_CLOEXEC); -EPERM with *ret_why when the
 * rules refuse it (outside, too long, "..", a link or a non-directory on the way); another
 * -errno (-ENOENT without CREATE).
 */
int node_open_dir(enum node_dirs kind, const char *path, bool create, mode_t mode, int *ret_fd,
		  const char **ret_why);

/* Opens PATH, a file the node named (its environment, its defaults), for reading:
 * non-blocking, and only a regular file (fstat on the descriptor). Returns 0, -EPERM
 * with *ret_why, or another -errno. */
int node_open_regular(const char *path, int *ret_fd, const char **ret_why);

/* The directories of KIND, ", "-separated (static storage); "" when the settings
 * cannot be loaded. */
const char *node_dirs_str(enum node_dirs kind);

/* Normalizes the absolute PATH into BUF: 0, -EINVAL (relative, "..", a control
 * character) or -ENAMETOOLONG. */
int node_path_normalize(const char *path, char *buf, size_t size);

/* Forget the loaded settings (the unit tests change them). */
void node_reset(void);
