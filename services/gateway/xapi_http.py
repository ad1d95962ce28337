"""What every xAPI request shares: unwrapping, the version header, credentials, errors.

`serve` turns a Starlette request into an `XapiRequest` (the 1.0.3 alternate syntax
unwrapped, the version negotiated, the caller authenticated), runs the resource's handler,
translates the use cases' errors into the project's JSON error shape (xAPI fixes only the
status codes), stamps `X-Experience-API-Version` and counts the request per resource.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial

import structlog
from fastapi import Request, Response

from services.gateway.auth import (
    CredentialSource,
    Principal,
    authenticate_user_token,
    require,
)
from services.gateway.authorization_header import (
    BasicCredentials,
    BearerCredentials,
    MalformedBasic,
    parse_authorization,
)
from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError, error_response
from services.gateway.sign_in import client_address, signed_in
from shared.adapters.metrics import XAPI_QUOTA_REFUSALS, XAPI_REQUESTS
from shared.domain.tenants import ApiKeyGrant
from shared.service_layer.errors import BrokerUnavailable, StoreUnavailable
from shared.service_layer.xapi.erased_learners import UserErased
from shared.service_layer.xapi.quotas import QuotaExceeded
from shared.service_layer.xapi.statements import StatementConflict
from shared.xapi import (
    DocumentConflict,
    InvalidStatement,
    NotTheLearner,
    XapiVersion,
    iso_ms,
    negotiate_version,
    unwrap_alternate_request,
)

__all__ = [
    "CONSISTENT_THROUGH",
    "NEWEST_VERSION",
    "VERSION_HEADER",
    "Caller",
    "Handler",
    "XapiRequest",
    "http_date",
    "serve",
    "xapi_credential",
]

log = structlog.stdlib.get_logger(__name__)

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
NEWEST_VERSION: XapiVersion = "2.0.0"
"""The version of answers that cannot know the caller's (About, unauthenticated requests)."""
_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
_REALM = {"WWW-Authenticate": 'Basic realm="xapi"'}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an xAPI request: a tenant API key, or a user token bound to one learner."""

    tenant_id: str
    key_id: str
    """The API key's id; for a user token `user:<userId>` (the stored statements' authority)."""
    learner: str | None = None
    """A user token's userId (`sub`): the only learner the request may name."""


@dataclass(frozen=True, slots=True)
class XapiRequest:
    """An xAPI request as it is meant: method, parameters, headers (lowercase names), body."""

    method: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: XapiVersion
    tenant_id: str
    key_id: str
    request_id: str
    path: str
    learner: str | None = None
    """A user token's userId, or None for a tenant API key (see `Caller`)."""

    def header(self, name: str) -> str | None:
        """A header's value (form fields of the alternate syntax included), or None."""
        return self.headers.get(name.lower())


def http_date(when: datetime) -> str:
    """An HTTP date (`Last-Modified`) of an aware datetime."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


Handler = Callable[[XapiRequest, GatewayContext], Awaitable[Response]]


async def serve(request: Request, resource: str, handler: Handler) -> Response:
    """Run `handler` for an xAPI request and answer in the xAPI way (see the module doc)."""
    method, version = request.method, NEWEST_VERSION
    context: GatewayContext = request.app.state.context
    try:
        xapi = await _unwrapped(request)
        method, version = xapi.method, xapi.version
        response = await _translated(handler, xapi, context)
    except (ApiError, StoreUnavailable, BrokerUnavailable) as error:
        response = error_response(error)
    response.headers.setdefault(VERSION_HEADER, version)
    if resource == "statements" and method in ("GET", "HEAD"):
        response.headers.setdefault(CONSISTENT_THROUGH, iso_ms(context.clock.now()))
    label = method if method in _METHODS else "other"
    XAPI_REQUESTS.labels(resource, label, f"{response.status_code // 100}xx").inc()
    return response


async def _translated(handler: Handler, xapi: XapiRequest, context: GatewayContext) -> Response:
    try:
        return await handler(xapi, context)
    except InvalidStatement as error:
        raise ApiError(400, "invalid_statement", str(error), field=error.path or None) from None
    except StatementConflict as error:
        raise ApiError(409, "statement_conflict", str(error), field="id") from None
    except DocumentConflict as error:
        codes = {412: "precondition_failed", 400: "precondition_required"}
        code = codes.get(error.status, "document_conflict")
        raise ApiError(error.status, code, error.message) from None
    except NotTheLearner as error:
        raise ApiError(403, "forbidden", str(error), field=error.path or None) from None
    except QuotaExceeded as error:
        XAPI_QUOTA_REFUSALS.labels(error.quota).inc()
        log.warning(
            "xapi_quota_exceeded",
            tenant=xapi.tenant_id,
            quota=error.quota,
            field=error.field,
            request_id=xapi.request_id,
        )
        raise ApiError(413, "quota", str(error), field=error.field) from None
    except UserErased as error:
        raise ApiError(410, "erased", str(error), field=error.field) from None


async def _unwrapped(request: Request) -> XapiRequest:
    body = await request.body()
    query = dict(request.query_params)
    headers = {name.lower(): value for name, value in request.headers.items()}
    method = request.method
    try:
        alternate = unwrap_alternate_request(method, query, headers.get("content-type"), body)
    except InvalidStatement as error:
        raise ApiError(400, "invalid_request", str(error), field=error.path or None) from None
    if alternate is not None:
        method, query, body = alternate.method, alternate.params, alternate.body
        headers.update({name.lower(): value for name, value in alternate.headers.items()})
    path = request.url.path
    version = negotiate_version(headers.get(VERSION_HEADER.lower()))
    if version is None and path.endswith("/about"):
        version = NEWEST_VERSION
    caller = Caller("", "")
    if version is None:
        raise await _versionless(request, method, headers)
    if alternate is not None and version != "1.0.3":
        raise ApiError(
            400,
            "invalid_request",
            "2.0.0 has no alternate request syntax",
            field="method",
            headers={VERSION_HEADER: version},
        )
    if not path.endswith("/about"):
        try:
            caller = await _authenticate(
                headers.get("authorization"),
                request.app.state.context,
                _scope(method),
                client_address(request.scope),
            )
        except ApiError as error:
            error.headers[VERSION_HEADER] = version
            raise
    request_id = str(getattr(request.state, "request_id", ""))
    return XapiRequest(
        method,
        query,
        headers,
        body,
        version,
        caller.tenant_id,
        caller.key_id,
        request_id,
        path,
        caller.learner,
    )


def _scope(method: str) -> str:
    return "read" if method in ("GET", "HEAD") else "write"


async def _versionless(request: Request, method: str, headers: dict[str, str]) -> ApiError:
    """The 400 for a request naming no supported version, in the caller's tenant's version.

    Its `X-Experience-API-Version` is the tenant's `default_version` when the credentials
    name a tenant, else the newest version served (XAPI-00331: each version's suite expects
    its own version on this 400).
    """
    answer: XapiVersion = NEWEST_VERSION
    context: GatewayContext = request.app.state.context
    address = client_address(request.scope)
    try:
        caller = await _authenticate(headers.get("authorization"), context, _scope(method), address)
    except ApiError:
        pass
    else:
        answer = (await context.xapi_profiles.of(caller.tenant_id)).default_version
    return ApiError(
        400,
        "unsupported_version",
        f"send {VERSION_HEADER}: 1.0.3 or 2.0.0 (Communication 3.3)",
        field=VERSION_HEADER,
        headers={VERSION_HEADER: answer},
    )


async def _authenticate(
    authorization: str | None, context: GatewayContext, scope: str, address: str
) -> Caller:
    """The caller of `Basic <id:key>`, `Bearer <key>` or `Bearer <user token>`.

    Every credential is checked under the address's failed-login limit. A user token (a JWT)
    is verified as the native API verifies it (`auth.authenticate_user_token`), binds the
    request to its learner (`shared.xapi.learners`), and its learner's budget pays the
    request; a key's tenant pays for a key.
    """
    check = partial(xapi_credential, authorization, context.max_token_lifetime)
    found = await signed_in(context, address, check)
    if isinstance(found, Principal):
        assert found.user_id is not None, "a JWT is a user token"
        require(found, scope, found.user_id)
        context.rate_limits.charge(found.tenant_id, {found.user_id: 1}, 1)
        return Caller(found.tenant_id, f"user:{found.user_id}", found.user_id)
    if scope not in found.scopes:
        raise ApiError(403, "forbidden", f"this credential lacks the '{scope}' scope")
    context.rate_limits.charge(found.tenant_id, {}, 1)
    return Caller(found.tenant_id, found.key_id or "api-key")


async def xapi_credential(
    authorization: str | None, max_token_lifetime: int, credentials: CredentialSource
) -> ApiKeyGrant | Principal:
    """The grant of `Basic <id:key>` or `Bearer <key>`, or the principal of a user token.

    Raises:
        ApiError: 401 for missing, malformed or unknown credentials.
    """
    try:
        parsed = parse_authorization(authorization)
    except MalformedBasic as error:
        raise ApiError(401, "unauthorized", str(error), headers=_REALM) from error
    if isinstance(parsed, BearerCredentials) and parsed.is_user_token:
        return await authenticate_user_token(parsed.credential, credentials, max_token_lifetime)
    if parsed is None:
        raise ApiError(
            401, "unauthorized", "send HTTP Basic (API key id and key) credentials", headers=_REALM
        )
    key_id, secret = (
        (parsed.key_id, parsed.key)
        if isinstance(parsed, BasicCredentials)
        else (None, parsed.credential)
    )
    grant = await credentials.grant_for_key(secret)
    if grant is None or (key_id is not None and grant.key_id != key_id):
        raise ApiError(401, "unauthorized", "unknown API key id or key", headers=_REALM)
    return grant
