/* podspec — finds the pod spec inside every object kind the webhook evaluates (Pod and the pod templates of the
 * workload controllers) and lists its containers with their display names. Reads only; all pointers returned are
 * borrowed from the object and live as long as it. */
#ifndef HARDLINE_PODSPEC_H
#define HARDLINE_PODSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib/err.h"

/* A pod spec found in an object. */
struct podspec {
	const char *kind; /* "Pod", "Deployment", ... (static) */
	const char *path; /* where the spec is, for messages: "spec", "spec.template.spec", ... (static) */
	bool is_template; /* a controller's template, not a Pod */
	json_t *spec;	  /* borrowed */
	json_t *meta;	  /* the metadata beside the spec (the Pod's, or the template's), borrowed; may be NULL */
};

/* One container of a pod spec. */
struct podspec_container {
	const char *list;  /* "containers" | "initContainers" | "ephemeralContainers" (static) */
	size_t index;	   /* position in that list */
	const char *name;  /* borrowed from the object ("" when absent) */
	const char *image; /* borrowed ("" when absent) */
	json_t *obj;	   /* the container object, borrowed */
	char who[96];	   /* display name for messages: "container web", "init container setup", escaped */
};

/* Finds the pod spec of object for the request kind (group and kind of request.kind). Returns 0 and fills *out;
 * ERR_NOT_FOUND when the kind is not one the webhook evaluates (the caller allows it); ERR_INVALID with a message
 * naming the path when the object does not have the shape of that kind (a missing or non-object spec). */
int podspec_find(const char *group, const char *kind, json_t *object, struct podspec *out, struct err *e);

/* Lists the containers of spec: initContainers, containers, then ephemeralContainers. *out is a new array of *n
 * entries (free() it; NULL when none). ERR_INVALID when a list is not an array, an entry is not an object, a name
 * or image is not a string, or a list holds more than max entries; ERR_NOMEM. */
int podspec_containers(const json_t *spec, size_t max, struct podspec_container **out, size_t *n, struct err *e);

/* The static name of kind when it is one of the kinds evaluated ("Pod", "Deployment", ...), else "other": a label
 * with a bounded set of values, for metrics. */
const char *podspec_kind_label(const char *kind);

/* True when spec.os.name is "windows". */
bool podspec_is_windows(const json_t *spec);

#endif
