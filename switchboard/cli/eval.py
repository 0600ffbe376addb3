"""`switchboard eval cases.yaml [--bot NUMBER]`: run scripted conversations against a bot and print a table.

Exit 0 when every check passes, 1 when one fails (a model error fails its case), 2 when the cases file,
the bot or the configuration is bad. docs/evals.md is the operator's side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from switchboard.settings import get_settings

# Imported inside the command below, not here: the OpenAI SDK, bm25s and pypdf would slow
# `switchboard --help` and every other command (each command module loads to build the parser).


def _eval(args: argparse.Namespace) -> int:
    from switchboard.domain.bot_profiles import BotProfiles
    from switchboard.evals.cases import CasesFileError, load_cases
    from switchboard.evals.runner import CALL_ERRORS, EvalBot, run_cases
    from switchboard.evals.table import render, summary

    try:
        cases = load_cases(args.cases)
    except CasesFileError as exc:
        return _bad(str(exc))
    settings = get_settings()
    profiles = BotProfiles.from_settings(settings)
    number = args.bot or cases.bot
    profile = profiles.for_number(number) if number else profiles.default
    if number and profile is profiles.default:
        return _bad(f"bot {number}: BOTS_FILE does not list it (its bots: "
                    f"{', '.join(p.number for p in profiles.all() if p.number) or 'none'})")
    try:
        bot = EvalBot.from_settings(settings, profile)
    except (ValueError, OSError) as exc:  # ToolsFileError, or a tool named like a built-in one
        return _bad(f"bot {profile.label}: {exc}")
    except CALL_ERRORS as exc:  # the knowledge's embeddings could not be made
        print(f"switchboard eval: bot {profile.label}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"bot: {profile.label} | model: {settings.openai_model} | knowledge: {profile.knowledge_path or 'none'} | "
          f"tools: {', '.join(bot.toolbox.names()) or 'none'}")
    rows = run_cases(bot, cases)
    print(render(rows))
    print(summary(rows))
    return 0 if all(row.passed for row in rows) else 1


def _bad(message: str) -> int:
    print(f"switchboard eval: {message}", file=sys.stderr)
    return 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser(
        "eval", help="run scripted conversations (a cases file) against a bot's prompt, knowledge and tools, "
                     "with tools answered by the file's fixtures; print a table, exit 1 on a failed check")
    evaluate.add_argument("cases", type=Path, help="the cases file (YAML; docs/evals.md)")
    evaluate.add_argument("--bot", metavar="NUMBER",
                          help="the receiving number whose BOTS_FILE profile answers (default: the file's `bot`, "
                               "else the settings' own profile)")
    evaluate.set_defaults(run=_eval)
