# hardener/: the hardline CLI, its engine and the live-directory backend (issue "Hardener, part 1").
HARDENER_SRCS += hardener/main.c
HARDENER_SRCS += hardener/cmd_table.c
HARDENER_SRCS += hardener/cmd_table_static.c
HARDENER_SRCS += hardener/fstree.c
HARDENER_SRCS += hardener/accounts.c
