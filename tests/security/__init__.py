"""Issue 20: the API contract, faults and abuse findings, each reproduced."""
