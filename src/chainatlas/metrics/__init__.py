"""Pure computations on frames (DESIGN §6, §9): no I/O, no settings, no printing."""
