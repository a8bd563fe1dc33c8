# webhook/: hardline-webhook (issues "Webhook, part 1" and "part 2").
WEBHOOK_SRCS += webhook/main.c
WEBHOOK_SRCS += webhook/admission.c
WEBHOOK_SRCS += webhook/podspec.c
WEBHOOK_SRCS += webhook/rules.c
WEBHOOK_SRCS += webhook/wpolicy.c
WEBHOOK_SRCS += webhook/server.c webhook/tlsreload.c webhook/metrics.c webhook/filewatch.c
LDLIBS += $(shell pkg-config --libs gnutls)
WEBHOOK_SRCS += webhook/attcheck.c webhook/attcache.c webhook/attdir.c
