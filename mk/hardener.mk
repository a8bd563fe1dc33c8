# hardener/: the hardline CLI, its engine and the live-directory backend (issue "Hardener, part 1").
HARDENER_SRCS += hardener/main.c
HARDENER_SRCS += hardener/cmd_table.c
HARDENER_SRCS += hardener/cmd_table_static.c
HARDENER_SRCS += hardener/fstree.c
HARDENER_SRCS += hardener/accounts.c
HARDENER_SRCS += hardener/policy.c
HARDENER_SRCS += hardener/report.c
HARDENER_SRCS += hardener/engine.c
HARDENER_SRCS += hardener/fsdir.c
HARDENER_SRCS += hardener/step_upgrade.c
HARDENER_SRCS += hardener/step_self.c
HARDENER_SRCS += hardener/cmd_harden_rootfs.c
