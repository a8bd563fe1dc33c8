# lib/: modules shared by hardline and hardline-webhook. One line per module.
LIB_SRCS += lib/err.c
LIB_SRCS += lib/str.c
LIB_SRCS += lib/log.c
LIB_SRCS += lib/json.c
LIB_SRCS += lib/fileio.c
LIB_SRCS += lib/digest.c
