"""Domain logic as plain functions over plain data: no I/O, no third-party imports."""
