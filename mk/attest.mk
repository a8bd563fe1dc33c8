# Attestations: DSSE, in-toto, keys, the registry client, keygen/attest/verify (issue "Attestations").
