"""Several machines: the Redis frontier, worker claims, the coordinator, finalize."""
