"""How good is it, against what: benchmark scripts (each prints a table and writes JSON)."""
