"""The tenant assistant: a question in, a short French answer with its sources out.

Questions about the tenant's own file are answered from their golden records
(:mod:`connectors.ai_assistant.records`); anything else from the FAQ when the retrieval is sure
enough (:mod:`connectors.ai_assistant.faq`), otherwise a person takes over. Pure given a
context: no HTTP, no model download.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from connectors.ai_assistant.faq import FAQ_PATH, Match, get_retriever
from connectors.ai_assistant.intents import PERSONAL, Topic, topic_of
from connectors.ai_assistant.records import ANSWERS
from connectors.ai_assistant.settings import (
    DEFAULT_ANSWER_THRESHOLD,
    DEFAULT_MIN_COVERAGE,
    AiAssistantSettings,
)
from connectors.sdk.context import MappingContext

MODEL = "tenant_assistant"
MODEL_NAME = "pivot-assistant"
MODEL_SEMVER = "1.0.0"
_HERE = Path(__file__).resolve().parent
_CODE = ("normalize.py", "intents.py", "faq.py", "records.py", "assistant.py")

HANDOFF = "Bonjour, merci pour votre question. Un conseiller va vous répondre dans les meilleurs délais."
UNIDENTIFIED = ("Bonjour, pour vous répondre sur votre dossier, un conseiller doit d'abord vérifier "
                "votre identité : il va vous répondre dans les meilleurs délais.")
#: Label of a hand-off in :meth:`Assistant.route` and in the evaluation set.
HANDOFF_LABEL = "handoff"


@dataclass(frozen=True)
class Reply:
    """What the assistant says, what it rests on, and how it decided."""

    topic: Topic
    answer: str
    sources: tuple[str, ...]
    handed_to_human: bool
    #: FAQ retrieval score and coverage of the best entry (None for an answer from records).
    score: float | None = None
    coverage: float | None = None


def model_version(faq_path: Path, threshold: float, min_coverage: float) -> str:
    """``pivot-assistant-<semver>+<fingerprint>`` of the code, the FAQ file and the two bars."""
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update((_HERE / name).read_bytes())
    digest.update(faq_path.read_bytes())
    digest.update(f"{threshold:.4f}|{min_coverage:.4f}".encode())
    return f"{MODEL_NAME}-{MODEL_SEMVER}+{digest.hexdigest()[:10]}"


class Assistant:
    """Answers tenants' questions from their records and a FAQ; read-only once built."""

    def __init__(
        self, faq_path: Path = FAQ_PATH, threshold: float = DEFAULT_ANSWER_THRESHOLD,
        min_coverage: float = DEFAULT_MIN_COVERAGE,
    ) -> None:
        self.faq_path = faq_path
        self.threshold = threshold
        self.min_coverage = min_coverage
        self.retriever = get_retriever(faq_path)
        self.model_version = model_version(faq_path, threshold, min_coverage)

    def faq(self, text: str) -> Reply:
        """The FAQ answer to ``text``; a hand-off when the best entry misses a bar or is a handoff topic."""
        match: Match = self.retriever.match(text)
        score, coverage = round(match.score, 4), round(match.coverage, 4)
        if match.score < self.threshold or match.coverage < self.min_coverage:
            return Reply(Topic.FAQ, HANDOFF, (), True, score, coverage)
        entry = match.entry
        if entry.handoff:
            return Reply(Topic.FAQ, f"Bonjour, merci pour votre message. {entry.answer}",
                         (entry.citation,), True, score, coverage)
        return Reply(Topic.FAQ, f"Bonjour, {_lower_first(entry.answer)} (Source : {entry.source}.)",
                     (entry.citation,), False, score, coverage)

    def reply(self, text: str, ctx: MappingContext, tenant_id: str | None, today: date) -> Reply:
        """Answer a tenant's question; personal topics only from ``tenant_id``'s own records.

        Without ``tenant_id`` a personal question is handed to a person: no record is read.
        """
        topic = topic_of(text)
        if topic not in PERSONAL:
            return self.faq(text)
        if not tenant_id:
            return Reply(topic, UNIDENTIFIED, (), True)
        found = ANSWERS[topic](ctx, tenant_id, today)
        return Reply(topic, found.answer, found.sources, found.handed_to_human)

    def route(self, text: str) -> str:
        """What a question leads to, without records: ``intent:<topic>``, a FAQ id or ``handoff``."""
        topic = topic_of(text)
        if topic in PERSONAL:
            return f"intent:{topic.value}"
        reply = self.faq(text)
        return HANDOFF_LABEL if reply.handed_to_human else reply.sources[0].removeprefix("faq:")


def _lower_first(text: str) -> str:
    """``Le préavis…`` → ``le préavis…`` after ``Bonjour,``; acronyms (``APL…``) stay as they are."""
    return text[0].lower() + text[1:] if text[1:2].islower() or text[1:2] == "'" else text


_LOCK = threading.Lock()
_ASSISTANTS: dict[tuple[Path, float, float], Assistant] = {}


def get_assistant(settings: AiAssistantSettings | None = None) -> Assistant:
    """The assistant of some settings (default: read from the environment), built once and kept."""
    settings = settings or AiAssistantSettings()
    key = ((settings.faq_path or FAQ_PATH).resolve(), settings.answer_threshold, settings.min_coverage)
    with _LOCK:
        if key not in _ASSISTANTS:
            _ASSISTANTS[key] = Assistant(*key)
        return _ASSISTANTS[key]
