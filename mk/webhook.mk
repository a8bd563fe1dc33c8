# webhook/: hardline-webhook (issues "Webhook, part 1" and "part 2").
WEBHOOK_SRCS += webhook/main.c
