"""headwater.framework: core graph-building types (dtypes, shapes, errors, ...)."""
