/* The device plugin API (v1beta1) on the model of devmgr/dp.h: the DevicePlugin service's
 * methods for one resource socket, and the messages serve sends (ListAndWatch updates,
 * Register). protobuf-c encodes them; grpc.h carries them. */
#ifndef DEVMGR_RPC_DPSVC_H
#define DEVMGR_RPC_DPSVC_H

#include <stddef.h>
#include <stdint.h>

#include "../dp.h"
#include "grpc.h"

#define DP_API_VERSION "v1beta1"
#define DP_PATH_REGISTER "/v1beta1.Registration/Register"
#define DP_PATH_LIST_AND_WATCH "/v1beta1.DevicePlugin/ListAndWatch"

/* What one resource socket serves: res is replaced when the set is rebuilt. */
typedef struct dp_service {
	const dp_resource *res;
	const char *devinfo_dir;
	unsigned long calls, errors; /* answered calls, and those answered with an error */
} dp_service;

/* The DevicePlugin methods; a connection's userdata is its dp_service. */
extern const grpc_method dp_service_methods[];
extern const size_t dp_service_n_methods;

/* The ListAndWatchResponse for r, and the RegisterRequest of r (malloc'ed into *ret). */
int dp_list_encode(const dp_resource *r, uint8_t **ret, size_t *ret_len);
int dp_register_encode(const dp_resource *r, uint8_t **ret, size_t *ret_len);

#endif
