"""Run the original frameworks on the same inputs as the ONNX models, for the comparison tests.

Each runs in a separate process (torch lives only in the build venv, TF.js only under the
sources cache), reading inputs from and writing outputs to .npy / raw float32 files.
"""
