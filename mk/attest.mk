# Attestations: DSSE, in-toto, keys, the registry client, keygen/attest/verify (issue "Attestations").
LIB_SRCS += lib/base64.c
LIB_SRCS += lib/keys.c
LIB_SRCS += lib/dsse.c
LIB_SRCS += lib/intoto.c
HARDENER_SRCS += hardener/cmd_keygen.c
HARDENER_SRCS += hardener/cmd_dsse.c
LIB_SRCS += lib/imageref.c
HARDENER_SRCS += hardener/att_store.c hardener/attest.c hardener/cmd_attest.c hardener/cmd_verify.c
LIB_SRCS += lib/registry_auth.c lib/registry.c
HARDENER_SRCS += hardener/cmd_registry_probe.c
