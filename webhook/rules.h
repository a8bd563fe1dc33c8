/* rules — the securityContext rules of the hardline policy, evaluated on the effective values of a pod spec
 * (a container's own securityContext over the pod's, where Kubernetes defines the pod-level field). Appends one
 * violation per broken rule, with the field and how to fix it; never allocates anything the caller must free. */
#ifndef HARDLINE_RULES_H
#define HARDLINE_RULES_H

#include <stddef.h>

#include <jansson.h>

#include "lib/err.h"
#include "webhook/admission.h"
#include "webhook/podspec.h"
#include "webhook/wpolicy.h"

/* Checks the container-level rules of policy p on the n containers c of pod spec spec (readOnlyRootFilesystem,
 * runAsNonRoot, runAsUser, allowPrivilegeEscalation, privileged and hostProcess, capabilities, seccomp, procMount,
 * seLinuxOptions, appArmorProfile, hostPorts). Windows pods (spec.os.name "windows") get only the rules that exist
 * on Windows: runAsNonRoot, hostProcess and hostPorts.
 * Returns 0 (violations or not), ERR_INVALID when a field has the wrong type (message names container and field),
 * ERR_NOMEM. */
int rules_check_containers(const struct wpolicy *p, const json_t *spec, const struct podspec_container *c, size_t n,
    struct adm_violations *v, struct err *e);

/* Checks the pod-level rules: Windows pods (when denied), hostNetwork/hostPID/hostIPC, hostPath and other volume
 * types, the pod securityContext's seLinuxOptions, appArmorProfile, sysctls and windowsOptions.hostProcess, and the
 * AppArmor annotations of meta (the pod's or template's metadata, may be NULL). who is the display name ("pod" or
 * "pod template") and path where the spec lives ("spec", "spec.template.spec"). Errors as rules_check_containers. */
int rules_check_pod(const struct wpolicy *p, const json_t *spec, const json_t *meta, const char *who, const char *path,
    struct adm_violations *v, struct err *e);

#endif
