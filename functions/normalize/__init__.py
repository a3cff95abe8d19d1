"""The Normalize Lambda: an original image -> its upright JPEG derivative (see handler.py)."""
