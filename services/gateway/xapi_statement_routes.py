"""The xAPI Statement Resource: PUT, POST, GET and HEAD of /xapi/statements."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.gateway.context import GatewayContext
from services.gateway.errors import ApiError
from services.gateway.writes import charge_derived, check_batch_size
from services.gateway.xapi_http import CONSISTENT_THROUGH, XapiRequest, http_date, serve
from shared.adapters.metrics import XAPI_SIGNATURES
from shared.service_layer.xapi.ports import Attachment, StatementRecord
from shared.service_layer.xapi.statements import StatementWrite
from shared.xapi import (
    InvalidStatement,
    StatementBody,
    in_format,
    iso_ms,
    parse_statement_query,
    ranked_languages,
    read_statement_body,
    write_multipart,
)

__all__ = ["CONSISTENCY_HEADER", "SIGNATURE_HEADER", "router"]

CONSISTENCY_HEADER = "Progress-Consistency-Token"
CONSISTENCY_HEADERS = "Progress-Consistency-Tokens"
SIGNATURE_HEADER = "Progress-Signature"
_DESCRIPTION = (
    "xAPI 1.0.3 / 2.0.0 Statement Resource (docs/xapi.md). Needs X-Experience-API-Version and "
    "HTTP Basic (API key id and key), Bearer (API key) or Bearer (user token: that learner "
    "only) credentials."
)

router = APIRouter(prefix="/xapi", tags=["xAPI"])


@router.get("/statements", description=_DESCRIPTION, summary="xAPI: read statements")
async def get_statements(request: Request) -> Response:
    """Read one statement by id, or pages of many by filters."""
    return await serve(request, "statements", _dispatch)


@router.head("/statements", description=_DESCRIPTION, summary="xAPI: headers of a read")
async def head_statements(request: Request) -> Response:
    """A GET without the body (Communication 1.1)."""
    return await serve(request, "statements", _dispatch)


@router.put("/statements", description=_DESCRIPTION, summary="xAPI: store one statement")
async def put_statement(request: Request) -> Response:
    """Store the statement of `statementId` (204)."""
    return await serve(request, "statements", _dispatch)


@router.post("/statements", description=_DESCRIPTION, summary="xAPI: store statements")
async def post_statements(request: Request) -> Response:
    """Store one statement or many (200 with their ids), or an alternate-syntax request."""
    return await serve(request, "statements", _dispatch)


async def _dispatch(xapi: XapiRequest, context: GatewayContext) -> Response:
    if xapi.method in ("GET", "HEAD"):
        return await _get(xapi, context)
    if xapi.method == "PUT":
        return await _put(xapi, context)
    if xapi.method == "POST":
        return await _post(xapi, context)
    raise ApiError(405, "method_not_allowed", f"{xapi.method} is not allowed on statements")


def _authority(xapi: XapiRequest) -> dict[str, Any]:
    """The Agent the statements are stored on behalf of: the tenant's API key (Data 2.4.9)."""
    home = f"urn:progress-sync:tenant:{xapi.tenant_id}"
    return {"objectType": "Agent", "account": {"homePage": home, "name": xapi.key_id}}


def _with_tokens(response: Response, written: StatementWrite) -> Response:
    """The write's answer with its consistency token(s) and, if signed, `Progress-Signature`."""
    for status in written.signatures:
        XAPI_SIGNATURES.labels(status).inc()
    if written.signature is not None:
        response.headers[SIGNATURE_HEADER] = written.signature
    tokens = {user: token for (_, user), token in written.tokens.items()}
    if len(tokens) == 1:
        response.headers[CONSISTENCY_HEADER] = next(iter(tokens.values()))
    elif tokens:
        response.headers[CONSISTENCY_HEADERS] = json.dumps(tokens, separators=(",", ":"))
    return response


async def _put(xapi: XapiRequest, context: GatewayContext) -> Response:
    extra = sorted(set(xapi.params) - {"statementId"})
    if extra:
        raise InvalidStatement(extra[0], "is not a parameter of a statement PUT")
    if "statementId" not in xapi.params:
        raise InvalidStatement("statementId", "is required to PUT a statement")
    statement_id = parse_statement_query({"statementId": xapi.params["statementId"]}).statement_id
    assert statement_id is not None
    body = read_statement_body(xapi.header("content-type"), xapi.body)
    written = await _store(xapi, context, body, statement_id)
    return _with_tokens(Response(status_code=204), written)


async def _post(xapi: XapiRequest, context: GatewayContext) -> Response:
    if xapi.params:
        raise InvalidStatement(sorted(xapi.params)[0], "is not a parameter of a statement POST")
    body = read_statement_body(xapi.header("content-type"), xapi.body)
    count = len(body.statements) if isinstance(body.statements, list) else 1
    check_batch_size(context, count, field="statements", what="statements")
    written = await _store(xapi, context, body)
    return _with_tokens(JSONResponse(written.ids), written)


async def _store(
    xapi: XapiRequest,
    context: GatewayContext,
    body: StatementBody,
    statement_id: str | None = None,
) -> StatementWrite:
    """Store a PUT's or a POST's statements under the tenant's profile, charged to the caller."""
    profile = await context.xapi_profiles.of(xapi.tenant_id)
    return await context.xapi_statements.store(
        xapi.tenant_id,
        body,
        version=xapi.version,
        authority=_authority(xapi),
        request_id=xapi.request_id,
        rules=profile,
        learner=xapi.learner,
        require_verified=profile.require_verified_signatures,
        charge=lambda users, cost: charge_derived(context, xapi.tenant_id, users, cost),
        statement_id=statement_id,
    )


async def _get(xapi: XapiRequest, context: GatewayContext) -> Response:
    languages = ranked_languages(xapi.header("accept-language"))
    single = "statementId" in xapi.params or "voidedStatementId" in xapi.params
    if single:
        query = parse_statement_query(xapi.params)
        found = await context.xapi_reads.one(xapi.tenant_id, query, xapi.learner)
        if found is None:
            raise ApiError(404, "not_found", "no such statement", field="statementId")
        records: list[StatementRecord] = [found]
        document: object = in_format(found.statement, query.format, languages=languages)
        attachments = (
            await context.xapi_reads.attachments(xapi.tenant_id, records)
            if query.attachments
            else []
        )
        consistent = context.clock.now()
    else:
        users = (await context.xapi_profiles.of(xapi.tenant_id)).users
        page = await context.xapi_reads.page(
            xapi.tenant_id, xapi.params, learner=xapi.learner, users=users
        )
        query, records, consistent = page.query, page.records, page.consistent_through
        attachments = page.attachments
        more = f"{xapi.path}?more={page.more}" if page.more else ""
        document = {
            "statements": [
                in_format(r.statement, query.format, languages=languages) for r in records
            ],
            "more": more,
        }
    headers = {CONSISTENT_THROUGH: iso_ms(consistent)}
    if single:
        headers["Last-Modified"] = http_date(records[0].stored)
        if records[0].signature is not None:
            headers[SIGNATURE_HEADER] = records[0].signature
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    if query.attachments:
        return _multipart(payload, attachments, headers, xapi)
    media = "application/json"
    return Response(b"" if xapi.method == "HEAD" else payload, media_type=media, headers=headers)


def _multipart(
    payload: bytes, attachments: list[Attachment], headers: dict[str, str], xapi: XapiRequest
) -> Response:
    content_type, body = write_multipart(
        payload, [(a.sha2, a.content_type, a.data) for a in attachments]
    )
    headers["Content-Type"] = content_type
    return Response(b"" if xapi.method == "HEAD" else body, headers=headers)
