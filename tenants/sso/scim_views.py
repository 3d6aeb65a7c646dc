"""SCIM 2.0 endpoints: thin views over tenants.sso.scim, bearer-token only."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    ListResponse,
    Patch,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
)
from scim2_models import User as ScimUser

from tenants.sso import scim, selectors

CONTENT_TYPE = "application/scim+json"
MAX_BODY_BYTES = 1_000_000


def _json(data: dict, status: int = 200, headers: dict | None = None) -> JsonResponse:
    return JsonResponse(data, status=status, content_type=CONTENT_TYPE, headers=headers)


def _error(error, headers: dict | None = None) -> JsonResponse:
    return _json(error.model_dump(), status=int(error.status), headers=headers)


def _base_url(request) -> str:
    return request.build_absolute_uri("/scim/v2/")


def _body(request) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise scim.ScimProblem(413, "The request body is too large.")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise scim.ScimProblem(400, "The request body is not JSON.", "invalidSyntax") from exc
    if not isinstance(data, dict):
        raise scim.ScimProblem(400, "The request body must be a JSON object.", "invalidSyntax")
    return data


def scim_endpoint(view):
    """Bearer token of this client only; SCIM errors as SCIM JSON; no CSRF (no cookies)."""

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not selectors.scim_token_matches(token=token.strip()):
            error = scim.ScimProblem(401, "A valid SCIM bearer token for this workspace is "
                                          "required.").error
            return _error(error, headers={"WWW-Authenticate": 'Bearer realm="scim"'})
        try:
            return view(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - only SCIM errors are turned into 4xx
            return _error(scim.error_from(exc))

    wrapper.__name__ = view.__name__
    return wrapper


@scim_endpoint
def service_provider_config(request):
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=scim.MAX_RESULTS),
        change_password=ChangePassword(supported=False), sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type="oauthbearertoken", name="Bearer token", primary=True,
            description="The workspace's SCIM token, made on its single sign-on page.")],
    )
    return _json(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@scim_endpoint
def resource_types(request):
    types = [ResourceType.from_resource(ScimUser)]
    listing = ListResponse[ResourceType](total_results=len(types), start_index=1,
                                         items_per_page=len(types), resources=types)
    return _json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


@scim_endpoint
def schemas(request):
    found = [ScimUser.to_schema()]
    listing = ListResponse[Schema](total_results=len(found), start_index=1,
                                   items_per_page=len(found), resources=found)
    return _json(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise scim.ScimProblem(400, "startIndex and count must be integers.",
                               "invalidValue") from exc


@scim_endpoint
def users(request):
    if request.method == "GET":
        result = scim.search(filter_text=request.GET.get("filter"),
                             start_index=_int(request.GET.get("startIndex"), 1),
                             count=_int(request.GET.get("count"), 100),
                             base_url=_base_url(request))
        return _json(result.model_dump(scim_ctx=Context.SEARCH_RESPONSE))
    if request.method == "POST":
        user = scim.create(payload=_body(request))
        resource = scim.to_scim(user, base_url=_base_url(request))
        return _json(resource.model_dump(scim_ctx=Context.RESOURCE_CREATION_RESPONSE),
                     status=201, headers={"Location": resource.meta.location})
    return HttpResponse(status=405, headers={"Allow": "GET, POST"})


@scim_endpoint
def user_detail(request, user_id: str):
    user = scim.get_user(user_id=user_id)
    base = _base_url(request)
    if request.method == "GET":
        context = Context.RESOURCE_QUERY_RESPONSE
    elif request.method == "PUT":
        user = scim.replace(user=user, payload=_body(request))
        context = Context.RESOURCE_REPLACEMENT_RESPONSE
    elif request.method == "PATCH":
        user = scim.patch(user=user, payload=_body(request), base_url=base)
        context = Context.RESOURCE_PATCH_RESPONSE
    elif request.method == "DELETE":
        scim.deactivate(user=user)
        return HttpResponse(status=204)
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, PUT, PATCH, DELETE"})
    return _json(scim.to_scim(user, base_url=base).model_dump(scim_ctx=context))
