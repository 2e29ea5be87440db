/* The invocation's one CNI error: recorded once, printed once, as JSON on stdout. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ucni/cni.h"
#include "ucni/log.h"

static struct {
	int code;
	char *msg;
	char *details;
} err;

static int errno_ret(int r)
{
	return r < 0 ? r : -EINVAL;
}

/* details: given by the caller; else, for a failed operation, the errno's
 * text and the kernel's own words (kmsg) when the caller has them. */
__attribute__((format(printf, 5, 0))) static int record(int code, int r, const char *details, const char *kmsg,
							  const char *fmt, va_list ap)
{
	if (err.msg)
		return errno_ret(r);
	err.code = code;
	if (vasprintf(&err.msg, fmt, ap) < 0)
		err.msg = NULL;
	if (details) {
		err.details = strdup(details);
	} else if (r < 0 && (code == CNI_ERR_KERNEL || code == CNI_ERR_IO || code == CNI_ERR_INTERNAL ||
			     code == CNI_ERR_IPAM || code == CNI_ERR_TRY_AGAIN)) {
		bool k = kmsg && *kmsg;
		if (asprintf(&err.details, "%s%s%s", strerror(-r), k ? ": " : "", k ? kmsg : "") < 0)
			err.details = NULL;
	}
	log_error("%s%s%s", err.msg ? err.msg : "", err.details ? ": " : "",
		  err.details ? err.details : "");
	return errno_ret(r);
}

int cni_fail(int code, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r = record(code, r, NULL, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int cni_fail_kernel(int code, int r, const char *kmsg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r = record(code, r, NULL, kmsg, fmt, ap);
	va_end(ap);
	return r;
}

int cni_fail_details(int code, int r, const char *details, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r = record(code, r, details, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int cni_fail_from_json(const cJSON *e, const char *who)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(e, "details");
	int c = cJSON_IsNumber(code) && code->valuedouble >= 1 && code->valuedouble <= 65535
			? (int)code->valuedouble
			: CNI_ERR_IPAM;
	return cni_fail_details(c, -EIO, cJSON_IsString(details) ? details->valuestring : "",
				"%s: %s", who, cJSON_IsString(msg) ? msg->valuestring : "failed");
}

bool cni_failed(void)
{
	return err.msg != NULL;
}

int cni_error_code(void)
{
	return err.msg ? err.code : 0;
}

const char *cni_error_msg(void)
{
	return err.msg ? err.msg : "";
}

void cni_error_reset(void)
{
	free(err.msg);
	free(err.details);
	err.msg = err.details = NULL;
	err.code = 0;
}

void cni_error_stash(struct cni_error_saved *ret)
{
	*ret = (struct cni_error_saved){.code = err.code, .msg = err.msg, .details = err.details};
	err.msg = err.details = NULL;
	err.code = 0;
}

void cni_error_unstash(struct cni_error_saved *saved)
{
	cni_error_reset();
	err.code = saved->code;
	err.msg = saved->msg;
	err.details = saved->details;
	*saved = (struct cni_error_saved){0};
}

void cni_error_saved_free(struct cni_error_saved *saved)
{
	free(saved->msg);
	free(saved->details);
	*saved = (struct cni_error_saved){0};
}

cJSON *cni_error_json(const char *version)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cniVersion", version ? version : cni_version_str(CNI_V_NEWEST));
	cJSON_AddNumberToObject(o, "code", err.msg ? err.code : CNI_ERR_INTERNAL);
	cJSON_AddStringToObject(o, "msg", err.msg ? err.msg : "internal error");
	if (err.details && *err.details)
		cJSON_AddStringToObject(o, "details", err.details);
	return o;
}

void cni_error_print(const char *version)
{
	cJSON *o = cni_error_json(version);
	cni_print_json(o);
	cJSON_Delete(o);
}
