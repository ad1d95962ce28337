"""xAPI (1.0.3 and 2.0.0) without I/O: statement validation, forms and the progress mapping.

Imports only the standard library, pydantic and `shared.domain`.
"""

from .errors import InvalidStatement
from .formats import XapiVersion
from .identity import UserRule, content_id_for, user_id_for
from .progress import DerivedEvents, MappingRules, derive_events
from .statement import VOIDED, validate_statement, validate_statements
from .voiding import retracted_event_ids, voided_statement_id

__all__ = [
    "VOIDED",
    "DerivedEvents",
    "InvalidStatement",
    "MappingRules",
    "UserRule",
    "XapiVersion",
    "content_id_for",
    "derive_events",
    "retracted_event_ids",
    "user_id_for",
    "validate_statement",
    "validate_statements",
    "voided_statement_id",
]
