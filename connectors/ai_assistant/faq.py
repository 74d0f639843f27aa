"""The FAQ knowledge base and its retrieval: TF-IDF on accent-folded character n-grams.

Each entry of ``data/faq.json`` is indexed through its question, its paraphrases
(``variants``) and the words of its subject (``keywords``). A question's score for an entry is
``0.7 × best cosine with one of its phrasings + 0.3 × cosine with the entry as a whole`` (the
sum of its phrasings): the first term
finds the paraphrase, the second rewards questions that share the entry's vocabulary rather
than one lucky word of a short phrasing. The match also says its ``coverage``: the share of the
question's content words the entry knows (in any of its texts, answer included, compared on
their first five letters as they sound) — a question that shares one word with an entry but is about something
else covers little of it. Character n-grams (3 to 5, within words) match
inflections, missing accents and SMS spellings that word tokens would miss (``attestasion``,
``reparations``). Entries marked ``handoff`` are topics a person always answers (complaints,
litigation, personal data...): a question that lands on one is handed over.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from connectors.ai_assistant.normalize import normalize

DATA = Path(__file__).resolve().parent / "data"
FAQ_PATH = DATA / "faq.json"
#: Weight of the best single phrasing in an entry's score (the rest: the entry as a whole).
PHRASING_WEIGHT = 0.7
#: Words are compared on this many first letters for the coverage (``réparation``/``réparer``).
_PREFIX = 5
_SOUNDS = (("ph", "f"), ("qu", "k"), ("ck", "k"), ("ca", "ka"), ("co", "ko"), ("cu", "ku"), ("y", "i"),
           ("z", "s"))


def _key(word: str) -> str:
    """A word's first letters as they sound, so SMS spellings meet (``kafards``/``cafards``)."""
    for written, sound in _SOUNDS:
        word = word.replace(written, sound)
    collapsed = "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
    return collapsed[:_PREFIX]


def _content_words(text: str) -> list[str]:
    """Keys of the words that say something: no stop word, no number, three letters or more."""
    return [_key(w) for w in normalize(text).split() if len(w) > 2 and not w.isdigit()]


@dataclass(frozen=True)
class FaqEntry:
    """One question of the knowledge base, with its answer and where the answer comes from."""

    id: str
    question: str
    variants: tuple[str, ...]
    answer: str
    source: str
    #: Words of the subject (synonyms, objects, acronyms), indexed as one more phrasing.
    keywords: str = ""
    #: A topic a person always answers: the assistant only says who takes it over.
    handoff: bool = False

    @property
    def citation(self) -> str:
        """How an answer cites this entry in ``answer_sources``: ``faq:<id>``."""
        return f"faq:{self.id}"


@dataclass(frozen=True)
class Match:
    """The best entry for a question: its score (0 to 1), the runner-up's, and its coverage."""

    entry: FaqEntry
    score: float
    runner_up: float
    #: Share of the question's content words the entry knows (0 when the question has none).
    coverage: float


def load_faq(path: Path = FAQ_PATH) -> tuple[FaqEntry, ...]:
    """Read and check a FAQ file.

    The file is ``{"entries": [{"id", "question", "variants", "keywords", "answer", "source",
    "handoff"}]}``; ``variants``, ``keywords`` and ``handoff`` are optional.

    Raises:
        ValueError: If an entry misses a field, or two entries share an id.

    """
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    entries: list[FaqEntry] = []
    for raw in document.get("entries", []):
        missing = [k for k in ("id", "question", "answer", "source") if not raw.get(k)]
        if missing:
            raise ValueError(f"{path}: entry {raw.get('id', '?')!r} has no {', '.join(missing)}")
        entries.append(FaqEntry(raw["id"], raw["question"], tuple(raw.get("variants", ())),
                                raw["answer"], raw["source"], raw.get("keywords", ""),
                                bool(raw.get("handoff", False))))
    ids = [e.id for e in entries]
    if not entries or len(set(ids)) != len(ids):
        raise ValueError(f"{path}: no entry, or duplicate ids")
    return tuple(entries)


class Retriever:
    """Nearest FAQ entry of a question; built once, then read-only (safe across threads)."""

    def __init__(self, entries: tuple[FaqEntry, ...]) -> None:
        # Imported here: scikit-learn costs a second and ~90 MB to every process that merely
        # loads the connectors, and only the assistant's worker builds a retriever.
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize as l2_normalize

        self.entries = entries
        texts, owners = [], []
        for index, entry in enumerate(entries):
            for text in (entry.question, *entry.variants, *([entry.keywords] if entry.keywords else [])):
                texts.append(normalize(text))
                owners.append(index)
        self._owners = np.asarray(owners)
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False,
                                           sublinear_tf=True)
        self._phrasings = self._vectorizer.fit_transform(texts)  # rows are L2-normalised
        sums = np.vstack([np.asarray(self._phrasings[self._owners == i].sum(axis=0))
                          for i in range(len(entries))])
        self._entries = l2_normalize(sums)
        self._vocabulary = [
            frozenset(_content_words(" ".join((e.question, *e.variants, e.keywords, e.answer))))
            for e in entries
        ]

    def scores(self, question: str) -> np.ndarray:
        """Score of every entry for ``question``, 0 to 1 (see the module docstring)."""
        query = self._vectorizer.transform([normalize(question)])
        phrasing = (self._phrasings @ query.T).toarray().ravel()
        best = np.zeros(len(self.entries))
        np.maximum.at(best, self._owners, phrasing)
        whole = np.asarray(query @ self._entries.T).ravel()
        return PHRASING_WEIGHT * best + (1 - PHRASING_WEIGHT) * whole

    def match(self, question: str) -> Match:
        """The best entry for ``question``, whatever its score."""
        scores = self.scores(question)
        order = np.argsort(-scores, kind="stable")
        best = int(order[0])
        runner_up = float(scores[order[1]]) if len(order) > 1 else 0.0
        words = _content_words(question)
        known = sum(w in self._vocabulary[best] for w in words)
        coverage = known / len(words) if words else 0.0
        return Match(self.entries[best], float(scores[best]), runner_up, coverage)


_LOCK = threading.Lock()
_RETRIEVERS: dict[Path, Retriever] = {}


def get_retriever(path: Path = FAQ_PATH) -> Retriever:
    """The retriever of a FAQ file, built on first use (under a lock) and kept."""
    key = path.resolve()
    with _LOCK:
        if key not in _RETRIEVERS:
            _RETRIEVERS[key] = Retriever(load_faq(key))
        return _RETRIEVERS[key]
