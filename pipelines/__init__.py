"""The item pipeline, one stage a module: normalise, validate, deduplicate, store."""
