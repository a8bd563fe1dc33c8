# OCI images: transports, layers, the image backend, harden and scan (issue "Hardener, part 2").
LIB_SRCS += lib/tarlayer.c
