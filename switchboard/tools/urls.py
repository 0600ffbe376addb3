"""A declared tool's URL for one call: the model's arguments and the sender's identity filled in, quoted."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from switchboard.settings.tool_declarations import BODY_METHODS, ToolDeclaration
from switchboard.tools.identity import Identity

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def as_text(value: Any) -> str:
    """An argument as it goes into a URL: strings as they are, anything else as JSON (true, 3, 1.5, [..])."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def segment(value: str) -> str:
    """`value` quoted so it stays inside its place: "/", "?", "#", "&" and "%" are escaped, and so is a
    value that is only dots (a client would otherwise read "../" and move up the path)."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if set(quoted) == {"."} else quoted


def tool_url(tool: ToolDeclaration, arguments: Mapping[str, Any], identity: Identity) -> str:
    """{param} from the arguments, {user_id}/{sender}/{conversation} from the identity only; for GET and
    DELETE the arguments not in the path go into the query string."""
    # The reserved placeholders (tool_declarations.RESERVED_PLACEHOLDERS); no parameter may take their names.
    from_identity = {"user_id": identity.user_id, "sender": identity.sender, "conversation": identity.conversation}

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        return segment(from_identity[name] if name in from_identity else as_text(arguments[name]))

    url = _PLACEHOLDER.sub(fill, tool.url)
    if tool.method in BODY_METHODS:
        return url
    placed = set(tool.url_placeholders())
    rest = [(name, as_text(value)) for name, value in arguments.items() if name not in placed]
    return url + ("&" if "?" in url else "?") + urlencode(rest, quote_via=quote) if rest else url
