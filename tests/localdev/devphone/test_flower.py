"""A message's tasks are found through Flower's task search; a Flower that does not answer is no error."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from localdev.devphone.flower import Flower, stage_ends, stage_links
from localdev.processes import free_port

SID = "SM" + "a" * 32


def task(name: str, state: str, received: float, succeeded: float | None, sid: str = SID,
         retried: bool = False) -> dict[str, object]:
    """As Flower lists a task; a retried one (Celery's retry) carries its arguments as kwargs."""
    args, kwargs = ("()", f"{{'message_sid': '{sid}', 'conversation': 'conv-1', 'attempt': 0}}") if retried else (
        f"('{sid}', 'conv-1')", "{}")
    return {"name": name, "state": state, "args": args, "kwargs": kwargs, "received": received,
            "succeeded": succeeded}


def test_the_message_s_pipeline_tasks_are_found_and_dated_by_their_last_success(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/tasks", query_string={"search": SID}).respond_with_json({
        "u-reply": task("switchboard.reply", "SUCCESS", 3.0, 3.2),
        "u-intake": task("switchboard.intake", "SUCCESS", 1.0, 1.1),
        "u-complete-1": task("switchboard.complete", "RETRY", 2.0, None),
        "u-complete-2": task("switchboard.complete", "SUCCESS", 2.5, 2.9, retried=True),
        "u-summary": task("tasks.other", "SUCCESS", 2.0, 2.1),
        "u-elsewhere": task("switchboard.intake", "SUCCESS", 1.0, 1.5, sid="SM" + "b" * 32),
    })
    flower = Flower(httpserver.url_for("/"))

    tasks = flower.tasks_of(SID)

    assert tasks is not None
    assert [(t.stage, t.uuid) for t in tasks] == [
        ("intake", "u-intake"), ("complete", "u-complete-1"), ("complete", "u-complete-2"), ("reply", "u-reply")]
    assert stage_ends(tasks) == {"intake": 1.1, "complete": 2.9, "reply": 3.2}
    assert [link["url"] for link in stage_links(flower, tasks)] == [
        httpserver.url_for("/task/u-intake"), httpserver.url_for("/task/u-complete-2"),
        httpserver.url_for("/task/u-reply")]


def test_flower_s_basic_auth_is_sent_when_it_has_one(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/tasks", headers={"Authorization": "Basic YWRtaW46c2VjcmV0"}).respond_with_json({})

    assert Flower(httpserver.url_for("/"), ("admin", "secret")).tasks_of(SID) == []


def test_a_flower_that_refuses_or_does_not_answer_gives_none_and_says_why(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/tasks").respond_with_data("no", status=401)
    refusing, absent = Flower(httpserver.url_for("/")), Flower(f"http://127.0.0.1:{free_port()}", timeout=1)

    assert refusing.tasks_of(SID) is None and absent.tasks_of(SID) is None
    assert refusing.problem is not None and "FLOWER_UNAUTHENTICATED_API=true" in refusing.problem
    assert absent.problem is not None and "does not answer" in absent.problem
