/* podspec — the pod spec paths of Pod, PodTemplate, ReplicationController, the apps/v1 workloads, Job and CronJob,
 * and a typed listing of the containers (see podspec.h). */
#include "webhook/podspec.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"

/* The kinds evaluated and where their pod spec lives. "extensions" is the pre-1.16 group of some workloads. */
static const struct {
	const char *group, *kind;
	const char *const path[5]; /* member names from the object down to the spec */
	const char *display;
} kinds[] = {
	{ "", "Pod", { "spec" }, "spec" },
	/* pods/ephemeralcontainers before Kubernetes 1.23 sent this kind: the lists at the top, no pod spec */
	{ "", "EphemeralContainers", { NULL }, "" },
	{ "", "PodTemplate", { "template", "spec" }, "template.spec" },
	{ "", "ReplicationController", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "apps", "Deployment", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "apps", "ReplicaSet", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "apps", "StatefulSet", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "apps", "DaemonSet", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "extensions", "Deployment", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "extensions", "ReplicaSet", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "extensions", "DaemonSet", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "batch", "Job", { "spec", "template", "spec" }, "spec.template.spec" },
	{ "batch", "CronJob", { "spec", "jobTemplate", "spec", "template", "spec" },
	    "spec.jobTemplate.spec.template.spec" },
};

int podspec_find(const char *group, const char *kind, json_t *object, struct podspec *out, struct err *e)
{
	json_t *cur = object, *parent = NULL;
	char where[64] = "object";

	memset(out, 0, sizeof(*out));
	if (group == NULL || kind == NULL)
		return ERR_NOT_FOUND;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].group, group) != 0 || strcmp(kinds[i].kind, kind) != 0)
			continue;
		if (!json_is_object(cur))
			return err_set(e, ERR_INVALID, "the %s object must be a JSON object", kinds[i].kind);
		for (size_t k = 0; k < 5 && kinds[i].path[k] != NULL; k++) {
			parent = cur;
			cur = json_object_get(cur, kinds[i].path[k]);
			size_t wl = k == 0 ? 0 : strlen(where);

			str_fmt(where + wl, sizeof(where) - wl, "%s%s", k == 0 ? "" : ".", kinds[i].path[k]);
			if (!json_is_object(cur))
				return err_set(e, ERR_INVALID, "%s: %s must be an object", kinds[i].kind, where);
		}
		out->kind = kinds[i].kind;
		out->path = kinds[i].display;
		out->is_template =
		    strcmp(kinds[i].kind, "Pod") != 0 && strcmp(kinds[i].kind, "EphemeralContainers") != 0;
		out->spec = cur;
		out->meta = json_object_get(parent, "metadata");
		if (!json_is_object(out->meta))
			out->meta = NULL;
		return 0;
	}
	return ERR_NOT_FOUND;
}

/* Reads a string member that may be absent (""); ERR_INVALID for another type or an embedded NUL. */
static int opt_str(const json_t *obj, const char *key, const char **out, const char *list, size_t i, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, ERR_INVALID, "spec.%s[%zu].%s must be a string", list, i, key);
	*out = json_string_value(v);
	return 0;
}

int podspec_containers(const json_t *spec, size_t max, struct podspec_container **out, size_t *n, struct err *e)
{
	static const char *const lists[] = { "initContainers", "containers", "ephemeralContainers" };
	static const char *const whos[] = { "init container", "container", "ephemeral container" };
	struct podspec_container *v = NULL;
	size_t total = 0, k = 0;
	int r = ERR_INVALID;

	*out = NULL;
	*n = 0;
	for (size_t l = 0; l < 3; l++) {
		json_t *arr = json_object_get(spec, lists[l]);

		if (arr == NULL || json_is_null(arr))
			continue;
		if (!json_is_array(arr))
			return err_set(e, ERR_INVALID, "spec.%s must be an array", lists[l]);
		if (json_array_size(arr) > max)
			return err_set(e, ERR_TOO_LARGE, "spec.%s has %zu entries, more than the limit of %zu",
			    lists[l], json_array_size(arr), max);
		total += json_array_size(arr);
	}
	if (total == 0)
		return 0;
	if ((v = calloc(total, sizeof(*v))) == NULL)
		return err_set(e, ERR_NOMEM, "pod spec: out of memory");
	for (size_t l = 0; l < 3; l++) {
		json_t *arr = json_object_get(spec, lists[l]), *c;
		size_t i;
		char esc[72];

		json_array_foreach(arr, i, c)
		{
			struct podspec_container *pc = &v[k];

			if (!json_is_object(c)) {
				err_set(e, ERR_INVALID, "spec.%s[%zu] must be an object", lists[l], i);
				goto out;
			}
			pc->list = lists[l];
			pc->index = i;
			pc->obj = c;
			if ((r = opt_str(c, "name", &pc->name, lists[l], i, e)) != 0 ||
			    (r = opt_str(c, "image", &pc->image, lists[l], i, e)) != 0)
				goto out;
			r = ERR_INVALID;
			if (*pc->name != '\0') {
				str_escape(esc, sizeof(esc), pc->name, strlen(pc->name), 63);
				str_fmt(pc->who, sizeof(pc->who), "%s %s", whos[l], esc);
			} else {
				str_fmt(pc->who, sizeof(pc->who), "%s #%zu", whos[l], i + 1);
			}
			k++;
		}
	}
	*out = v;
	*n = k;
	v = NULL; /* transferred */
	r = 0;
out:
	free(v);
	return r;
}

const char *podspec_kind_label(const char *kind)
{
	for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].kind;
	return "other";
}

bool podspec_is_windows(const json_t *spec)
{
	const char *name = json_string_value(json_object_get(json_object_get(spec, "os"), "name"));

	return name != NULL && strcmp(name, "windows") == 0;
}
