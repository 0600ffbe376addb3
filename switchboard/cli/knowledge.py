"""`switchboard knowledge build` (index every bot's knowledge folder) and `switchboard knowledge show "question"`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.settings import Settings, get_settings

if TYPE_CHECKING:
    from switchboard.knowledge.index import KnowledgeIndex

# Imported inside each command below, not here: services (the OpenAI and Twilio SDKs), bm25s, numpy and
# pypdf would slow `switchboard --help` and every other command (each command module loads to build the parser).


def _build(args: argparse.Namespace) -> int:
    from switchboard.clients.openai_embeddings import EmbeddingsClient
    from switchboard.errors import ConfigurationFault, PermanentError, TransientError
    from switchboard.knowledge.building import build_folder
    from switchboard.services import build_store

    settings = get_settings()
    folders = [args.folder] if args.folder else _every_folder(settings)
    if not folders:
        return _fail("no knowledge folder to build: set KNOWLEDGE_PATH (or knowledge_path in BOTS_FILE)")
    store, embeddings = build_store(settings), EmbeddingsClient.from_settings(settings)
    failed = 0
    for folder in folders:
        try:
            index = build_folder(store, folder, embeddings)
        except (TransientError, PermanentError, ConfigurationFault) as exc:
            print(f"switchboard: {folder}: the embeddings failed, the old index stays: {exc}", file=sys.stderr)
            failed += 1
            continue
        except OSError as exc:
            print(f"switchboard: {folder}: cannot be read: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(_summary(folder, index, settings))
        for path, why in index.corpus.skipped:
            print(f"  left out {path}: {why}")
    return 1 if failed else 0


def _show(args: argparse.Namespace) -> int:
    from switchboard.clients.openai_embeddings import EmbeddingsClient
    from switchboard.domain.bot_profiles import BotProfiles
    from switchboard.knowledge import KnowledgeLibrary
    from switchboard.services import build_store

    settings = get_settings()
    profiles = BotProfiles.from_settings(settings)
    profile = profiles.for_number(args.to) if args.to else profiles.default
    folder = args.folder or profile.knowledge_path
    if folder is None:
        return _fail(f"{profile.label} has no knowledge folder (KNOWLEDGE_PATH, or knowledge_path in BOTS_FILE)")
    # The library a worker uses, so this shows what a worker would send (and builds the index if none is saved).
    library = KnowledgeLibrary(build_store(settings), settings, EmbeddingsClient.from_settings(settings))
    knowledge = library.for_folder(folder, profile.knowledge_contact)
    selection = knowledge.select(args.question)
    if knowledge.index is not None:
        print(_summary(folder, knowledge.index, settings), file=sys.stderr)
    if selection.how in ("bm25", "embeddings"):
        ranked = ", ".join(f"{passage.title} ({score:.2f})" for passage, score in selection.passages) or "none"
        print(f"retrieved by {selection.how}: {ranked}", file=sys.stderr)
    print("appended to the system prompt:", file=sys.stderr)
    print(knowledge.render(selection))
    return 0


def _every_folder(settings: Settings) -> list[Path]:
    """KNOWLEDGE_PATH and every folder BOTS_FILE names, each once, in the file's order."""
    from switchboard.domain.bot_profiles import BotProfiles

    folders = [profile.knowledge_path for profile in BotProfiles.from_settings(settings).all()]
    return list(dict.fromkeys(folder for folder in folders if folder is not None))


def _summary(folder: Path, index: KnowledgeIndex, settings: Settings) -> str:
    budget = settings.knowledge_prompt_max_tokens
    whole = index.whole_tokens <= budget
    return (f"{folder}: {len(index.corpus.files)} file(s), {len(index.passages)} passage(s), about "
            f"{index.whole_tokens} tokens: {'whole in the prompt' if whole else 'retrieved per question'} "
            f"(KNOWLEDGE_PROMPT_MAX_TOKENS {budget}); "
            f"{'embedded with ' + index.model if index.model else 'BM25'}; index {index.fingerprint}")


def _fail(why: str) -> int:
    print(f"switchboard: {why}", file=sys.stderr)
    return 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    knowledge = commands.add_parser("knowledge", help="the operator's facts: build their index, show what a "
                                                      "question gets")
    actions = knowledge.add_subparsers(dest="knowledge_command", required=True)
    build = actions.add_parser("build", help="index KNOWLEDGE_PATH and every folder BOTS_FILE names, "
                                             "embeddings included (KNOWLEDGE_EMBEDDING_MODEL)")
    build.add_argument("--folder", type=Path, help="only this folder")
    build.set_defaults(run=_build)
    show = actions.add_parser("show", help="print the knowledge the model would get with a question")
    show.add_argument("question")
    show.add_argument("--to", metavar="OUR_NUMBER", help="the bot of this receiving number (BOTS_FILE)")
    show.add_argument("--folder", type=Path, help="this folder instead of the bot's")
    show.set_defaults(run=_show)
