"""xAPI (1.0.3 and 2.0.0) without I/O: statement validation, forms and the progress mapping.

Imports only the standard library, pydantic and `shared.domain`.
"""

from .errors import InvalidStatement
from .formats import XapiVersion
from .statement import VOIDED, validate_statement, validate_statements

__all__ = [
    "VOIDED",
    "InvalidStatement",
    "XapiVersion",
    "validate_statement",
    "validate_statements",
]
