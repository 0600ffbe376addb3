"""Evals (issue 14): scripted conversations run against a bot's prompt, knowledge and tools, each answer checked.

`switchboard eval cases.yaml` (switchboard/cli/eval.py) is the operator's way to try a prompt or knowledge
change before users see it; docs/evals.md is their side.

| module   | its job                                                                       |
|----------|-------------------------------------------------------------------------------|
| cases    | the cases file's format (pydantic models) and reading it                      |
| checks   | one answer against its turn's expectations: a pass or fail per expectation    |
| fixtures | the executor that answers tool calls from the cases file                      |
| runner   | the bot made ready (model, in-memory knowledge, tools) and each case run      |
| table    | the fixed-width table of results and its summary line                         |
"""
