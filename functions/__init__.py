"""Lambda handlers. Each is thin: it adapts the AWS event to autotagger core code."""
