"""The OpenAPI 3.1 document of the API (served at /api/openapi.json)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*statuses: int) -> dict:
    text = {400: "Bad input, or a field that is not supported (named in error.param)",
            401: "No token, or a token that is not valid here (revoked, expired, another "
                 "workspace's, of a deactivated member)",
            403: "The workspace switched the API off",
            404: "Unknown model",
            429: "Rate limit or quota reached; see the Retry-After header (seconds)",
            502: "The model could not answer",
            503: "Temporarily unavailable; see Retry-After"}
    return {str(s): {"description": text[s],
                     "content": {"application/json": {"schema": ERROR}}} for s in statuses}


def document(*, server: str) -> dict:
    message = {"type": "object", "required": ["role", "content"], "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant"]},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {
            "type": "object", "properties": {"type": {"const": "text"},
                                             "text": {"type": "string"}}}}]},
        "name": {"type": "string"}}}
    citation = {"type": "object", "properties": {
        "n": {"type": "integer", "description": "The [n] the answer cites"},
        "file": {"type": "string"}, "page": {"type": ["integer", "null"]},
        "file_id": {"type": "integer"}, "chunk_id": {"type": "integer"}}}
    usage = {"type": "object", "properties": {
        "prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Your company's assistant (OpenAI-compatible API)", "version": "1",
                 "description": (
                     "The workspace's assistant with its instructions, knowledge, redaction, "
                     "quotas and audit. Only the fields listed are accepted; any other "
                     "field is refused with a 400 that names it.")},
        "servers": [{"url": server}],
        "security": [{"token": []}],
        "paths": {
            "/models": {"get": {
                "summary": "The workspace's assistant, as a model",
                "responses": {"200": {"description": "A list with one model", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "object": {"const": "list"}, "data": {"type": "array", "items": {
                            "type": "object", "properties": {
                                "id": {"type": "string"}, "object": {"const": "model"},
                                "created": {"type": "integer"},
                                "owned_by": {"type": "string"}}}}}}}}},
                    **_errors(401, 403, 429)}}},
            "/chat/completions": {"post": {
                "summary": "Ask the assistant (streaming or not)",
                "parameters": [{"name": "X-Keep-History", "in": "header", "required": False,
                                "schema": {"enum": ["1", "true", "0", "false"]},
                                "description": "Keep this call in your history (like "
                                               "keep_history). Default: not kept."}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["model", "messages"],
                    "additionalProperties": False, "properties": {
                        "model": {"type": "string", "description": "The id from /models"},
                        "messages": {"type": "array", "items": message, "minItems": 1},
                        "stream": {"type": "boolean", "default": False},
                        "stream_options": {"type": "object", "properties": {
                            "include_usage": {"type": "boolean"}}},
                        "n": {"const": 1}, "store": {"const": False},
                        "user": {"type": "string",
                                 "description": "Accepted; the token already names you"},
                        "keep_history": {"type": "boolean", "default": False,
                                         "description": "Extension: keep this call in your "
                                                        "history"}}}}}},
                "responses": {
                    "200": {"description": "application/json: a chat.completion; with "
                                           "stream=true, text/event-stream of "
                                           "chat.completion.chunk ending with [DONE]",
                            "content": {"application/json": {"schema": {
                                "type": "object", "properties": {
                                    "id": {"type": "string"},
                                    "object": {"const": "chat.completion"},
                                    "model": {"type": "string"},
                                    "choices": {"type": "array"}, "usage": usage,
                                    "citations": {"type": "array", "items": citation,
                                                  "description": "Extension: the knowledge "
                                                                 "passages the answer was "
                                                                 "given (also on the last "
                                                                 "streamed chunk)"}}}}}},
                    **_errors(400, 401, 403, 404, 429, 502, 503)}}},
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "A personal access token "
                                                         "(tuneai_pat_…)"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {
                "type": "object", "properties": {
                    "message": {"type": "string"}, "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]}}}}}},
        },
    }
