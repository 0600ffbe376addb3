"""A tool's URL: arguments quoted into their place, the identity's placeholders from the identity alone."""

from __future__ import annotations

from switchboard.tools.urls import segment, tool_url
from tests.switchboard.tools.conftest import ASKER, ToolsFrom, one_tool

ID_PARAMETER = "{type: object, properties: {id: {type: string}, page: {type: integer}}, required: [id]}"


def test_an_argument_is_quoted_so_it_stays_inside_its_path_segment(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(one_tool("https://api.example.org/registrations/{id}", parameters=ID_PARAMETER))

    assert tool_url(tool, {"id": "R 1/../admin?x=1#y"}, ASKER) == (
        "https://api.example.org/registrations/R%201%2F..%2Fadmin%3Fx%3D1%23y")
    assert tool_url(tool, {"id": ".."}, ASKER) == "https://api.example.org/registrations/%2E%2E"


def test_get_puts_the_arguments_not_in_the_path_into_the_query(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(one_tool("https://api.example.org/r/{id}?lang=en", parameters=ID_PARAMETER))

    assert tool_url(tool, {"id": "R1", "page": 2}, ASKER) == "https://api.example.org/r/R1?lang=en&page=2"


def test_post_sends_the_arguments_in_the_body_not_the_query(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(one_tool("https://api.example.org/r/{id}", method="POST", parameters=ID_PARAMETER))

    assert tool_url(tool, {"id": "R1", "page": 2}, ASKER) == "https://api.example.org/r/R1"


def test_the_reserved_placeholders_are_filled_from_the_identity_only(tools_from: ToolsFrom) -> None:
    [tool] = tools_from(one_tool("https://api.example.org/people/{user_id}/{sender}/{conversation}"))

    assert tool_url(tool, {}, ASKER) == ("https://api.example.org/people/15551234567/whatsapp%3A%2B15551234567/"
                                         "c0nv3rsat10n")


def test_a_value_of_only_dots_cannot_climb_the_path() -> None:
    assert segment(".") == "%2E" and segment("...") == "%2E%2E%2E" and segment("1.5") == "1.5"
