"""xAPI (1.0.3 and 2.0.0) without I/O: statement validation, forms and the progress mapping.

Imports only the standard library, pydantic and `shared.domain`.
"""

from .alternate import MAX_FORM_BYTES, MAX_FORM_FIELDS, UnwrappedRequest, unwrap_alternate_request
from .document_params import (
    DocumentAddress,
    DocumentResource,
    parse_profile_params,
    parse_state_params,
)
from .documents import DocumentConflict, check_preconditions, document_etag, merged_document
from .equivalence import same_statement
from .errors import InvalidStatement
from .formats import XapiVersion, iso_ms, negotiate_version, to_milliseconds
from .forms import Format, best_language, in_format, ranked_languages
from .identity import UserRule, content_id_for, user_id_for
from .learners import NotTheLearner, check_document_learner, check_learner, check_voidable_by
from .lookups import canonical_activity, parse_activity_params, parse_agents_params, person_for
from .multipart import StatementBody, check_attachment_data, read_statement_body, write_multipart
from .owners import TENANT_OWNER, quota_owner
from .profile import XapiProfile
from .progress import DerivedEvents, MappingRules, derive_events
from .query import (
    StatementQuery,
    filter_keys,
    ifi_key,
    matches,
    parse_agent,
    parse_agent_param,
    parse_statement_query,
)
from .signature import SignedStatement, check_signature, signature_attachment
from .statement import VOIDED, validate_statement, validate_statements
from .voiding import is_voidable, retracted_event_ids, voided_statement_id

__all__ = [
    "MAX_FORM_BYTES",
    "MAX_FORM_FIELDS",
    "TENANT_OWNER",
    "VOIDED",
    "DerivedEvents",
    "DocumentAddress",
    "DocumentConflict",
    "DocumentResource",
    "Format",
    "InvalidStatement",
    "MappingRules",
    "NotTheLearner",
    "SignedStatement",
    "StatementBody",
    "StatementQuery",
    "UnwrappedRequest",
    "UserRule",
    "XapiProfile",
    "XapiVersion",
    "best_language",
    "canonical_activity",
    "check_attachment_data",
    "check_document_learner",
    "check_learner",
    "check_preconditions",
    "check_signature",
    "check_voidable_by",
    "content_id_for",
    "derive_events",
    "document_etag",
    "filter_keys",
    "ifi_key",
    "in_format",
    "is_voidable",
    "iso_ms",
    "matches",
    "merged_document",
    "negotiate_version",
    "parse_activity_params",
    "parse_agent",
    "parse_agent_param",
    "parse_agents_params",
    "parse_profile_params",
    "parse_state_params",
    "parse_statement_query",
    "person_for",
    "quota_owner",
    "ranked_languages",
    "read_statement_body",
    "retracted_event_ids",
    "same_statement",
    "signature_attachment",
    "to_milliseconds",
    "unwrap_alternate_request",
    "user_id_for",
    "validate_statement",
    "validate_statements",
    "voided_statement_id",
    "write_multipart",
]
