"""The indexer Lambda: Kinesis records -> index documents (see handler.py)."""
