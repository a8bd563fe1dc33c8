/* hardline-webhook — entry point (the server arrives with "Webhook, part 1"). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "hardline-webhook: not built yet\n");
	return 1;
}
