# OCI images: transports, layers, the image backend, harden and scan (issue "Hardener, part 2").
LIB_SRCS += lib/tarlayer.c
LIB_SRCS += lib/transport.c
LIB_SRCS += lib/oci.c
LIB_SRCS += lib/oci_store.c
LIB_SRCS += lib/oci_store_dir.c
LIB_SRCS += lib/oci_store_tar.c
LIB_SRCS += lib/oci_writer.c
LIB_SRCS += lib/cleanup.c
HARDENER_SRCS += hardener/cmd_image_inspect.c
HARDENER_SRCS += hardener/imageview.c
HARDENER_SRCS += hardener/cmd_harden.c
HARDENER_SRCS += hardener/cmd_scan.c
