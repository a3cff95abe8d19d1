"""autotagger: automatic image tagging, on AWS (Step Functions) and on one machine.

Importing the package must stay cheap and dependency-free: the indexer Lambda asset ships
only the core modules, without onnxruntime, FastAPI or boto3.
"""

__version__ = "0.1.0"
