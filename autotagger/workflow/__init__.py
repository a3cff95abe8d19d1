"""Local workflow engine: runs an Amazon States Language definition (the one CDK deploys) in-process.

Task resources resolve through a TaskRegistry of adapters keyed by ARN, so the same definition
runs against local adapters or AWS ones (`autotagger.workflow.aws_sdk`).
"""

from .failures import DefinitionError, StatesFailure, UnknownResourceError
from .history import Execution
from .machine import StateMachine
from .registry import TaskRegistry

__all__ = ["DefinitionError", "Execution", "StateMachine", "StatesFailure", "TaskRegistry", "UnknownResourceError"]
