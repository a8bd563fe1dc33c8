# OCI images: transports, layers, the image backend, harden and scan (issue "Hardener, part 2").
