"""The one door to the model API.

Callers use this interface only:

- `model_endpoint(config)`: where a client's calls go and with which key
  (`connection_errors` checks settings before they are saved);
- `stream_chat(...)`, `embed(...)`, `check_connection(...)`: the calls, each
  through the outbound privacy step (redact -> call -> restore -> audit);
- `load_context(...)` / `for_embedding(...)`: who a call is for (`CallContext`);
- `GatewayError`: every failure, with a sentence for the employee and one for
  the tenant admin.

Inside: `endpoints` (resolution), `gateway` (the only module that talks to the
model API, official `openai` SDK), `errors` (the translation table),
`privacy` (the outbound privacy step).
"""

from llm.endpoints import NEEDS_OWN_KEY, ModelEndpoint, connection_errors, model_endpoint
from llm.errors import GatewayError
from llm.gateway import Completion, check_connection, embed, stream_chat
from llm.privacy import CallContext, for_embedding, load_context

__all__ = [
    "NEEDS_OWN_KEY",
    "CallContext",
    "Completion",
    "GatewayError",
    "ModelEndpoint",
    "check_connection",
    "connection_errors",
    "embed",
    "for_embedding",
    "load_context",
    "model_endpoint",
    "stream_chat",
]
