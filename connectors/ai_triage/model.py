"""The offline triage classifier: French lexicon + a small text model, combined transparently.

How a message is triaged (:func:`classify`):

1. **Normalise** (:mod:`connectors.ai_triage.normalize`): accents, SMS writing, misspellings.
2. **Lexicon** (:mod:`connectors.ai_triage.lexicon`): weighted cues per category; danger cues
   set ``urgent``, lost-service cues set ``high``; negations (``pas de fuite``) cancel problem cues.
3. **Text model**: character n-gram + word TF-IDF and two logistic regressions (category,
   urgency), trained on ``data/train.jsonl`` at first use (about a second) and kept in memory.
4. **Combine**: category = weighted mix of the lexicon's distribution and the model's
   probabilities; urgency = rules first (danger, then lost service), the model only *raises*
   urgency (a missed urgent request is the worst error), never lowers a rule.

The result (:class:`TriageResult`) carries the cues that decided (``reasons``), a confidence,
``needs_human_review`` below the review threshold, the ``model_version`` and the SHA-256 of
the input text, so every AI decision can be traced (AI Act record keeping).

:func:`classify` is pure and thread-safe: the model is built once under a lock, then only read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from canonical_model import RequestCategory, Urgency
from connectors.ai_triage.lexicon import (
    ALL_CUES,
    CATEGORY_CUES,
    EXTREME_COLD_RE,
    HIGH,
    HIGH_CUES,
    NEGATORS,
    URGENT,
    URGENT_CUES,
    VULNERABLE_RE,
    Cue,
)
from connectors.ai_triage.normalize import normalize

_HERE = Path(__file__).parent
DATA_DIR = _HERE / "data"
TRAIN_PATH = DATA_DIR / "train.jsonl"
EVAL_PATH = DATA_DIR / "eval.jsonl"

CATEGORIES: tuple[str, ...] = tuple(c.value for c in RequestCategory)
URGENCIES: tuple[str, ...] = tuple(u.value for u in Urgency)

#: Weight of the lexicon in the category mix (the text model gets the rest).
LEXICON_WEIGHT = 0.6
#: The text model alone raises urgency to ``urgent`` from this probability (recall first).
MODEL_URGENT_THRESHOLD = 0.7
#: The text model alone raises urgency to ``high`` from this probability.
MODEL_HIGH_THRESHOLD = 0.5
#: Extra weight per further distinct hit of the same cue (capped at two more).
_REPEAT_BONUS = 0.25
_MAX_REASONS = 8


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("lexicon.py", "normalize.py", "model.py"):
        digest.update((_HERE / name).read_bytes())
    digest.update(TRAIN_PATH.read_bytes() if TRAIN_PATH.exists() else b"")
    return digest.hexdigest()[:10]


MODEL_NAME = "pivot-triage-hybrid"
MODEL_SEMVER = "1.0.0"
#: Version of the whole decision procedure: name, semantic version and a fingerprint of the
#: lexicon, normaliser, combiner and training data (any change to them changes it).
MODEL_VERSION = f"{MODEL_NAME}-{MODEL_SEMVER}+{_fingerprint()}"


class TriageResult(BaseModel):
    """One triage decision, with what is needed to explain and trace it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | None = None
    """Identifier of the triaged request, echoed from the input."""
    category: RequestCategory
    """What the request is about."""
    urgency: Urgency
    """How fast the landlord must act."""
    confidence: float = Field(ge=0, le=1)
    """Confidence of the decision, 0 to 1 (the lower of category and urgency confidences)."""
    reasons: list[str] = Field(default_factory=list)
    """The cues that decided, e.g. ``urgent: gas smell « sent le gaz »``."""
    needs_human_review: bool = False
    """Whether a person must confirm before acting (low confidence or urgency from the model only)."""
    model_version: str = MODEL_VERSION
    """Version of the model or rule set that decided."""
    input_sha256: str
    """SHA-256 of the exact input text (UTF-8), to trace the decision without storing the text."""

    def public(self) -> dict[str, Any]:
        """The five fields printed by ``pivot ai triage``."""
        return {
            "id": self.id,
            "category": self.category.value,
            "urgency": self.urgency.value,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Hit:
    """A cue found in a message."""

    cue: Cue
    spans: tuple[str, ...]
    """Distinct matched texts (normalised), not negated."""
    negated: tuple[str, ...]
    """Distinct matched texts cancelled by a negation."""


def input_sha256(text: str) -> str:
    """SHA-256 (hex) of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_negated(norm: str, start: int) -> bool:
    before = norm[:start].split()[-3:]
    for i, token in enumerate(before):
        if token in NEGATORS:
            following = before[i + 1] if i + 1 < len(before) else ""
            if token == "sans" and following in {"arret", "cesse", "interruption", "fin", "doute", "arreter"}:
                continue
            return True
    # "il n'y a plus de fuite": ``plus de`` right before the cue
    return len(before) >= 2 and before[-2] == "plus" and before[-1] in {"de", "d", "du"}


def find_cues(norm: str, cues: Iterable[Cue] = ALL_CUES) -> list[Hit]:
    """Every cue of ``cues`` found in the normalised text ``norm``."""
    hits: list[Hit] = []
    for cue in cues:
        if cue.unless is not None and cue.unless.search(norm):
            continue
        spans: dict[str, None] = {}
        negated: dict[str, None] = {}
        for match in cue.pattern.finditer(norm):
            text = match.group(0).strip()
            if cue.negatable and _is_negated(norm, match.start()):
                negated[text] = None
            else:
                spans[text] = None
        if spans or negated:
            hits.append(Hit(cue, tuple(spans), tuple(negated)))
    return hits


def lexicon_scores(hits: Sequence[Hit]) -> dict[str, float]:
    """Category scores from non-negated hits (each cue once, a bonus for several distinct hits)."""
    scores = dict.fromkeys(CATEGORIES, 0.0)
    for hit in hits:
        if not hit.spans:
            continue
        factor = 1 + _REPEAT_BONUS * min(len(hit.spans) - 1, 2)
        for category, weight in hit.cue.categories.items():
            scores[category] += weight * factor
    return scores


def _quote(span: str) -> str:
    return f"« {span if len(span) <= 60 else span[:57] + '...'} »"


class TextModel:
    """Character and word TF-IDF with two logistic regressions (category, urgency)."""

    def __init__(self, items: Sequence[dict[str, str]], *, c: float = 3.0) -> None:
        """Train on ``items`` (``text``, ``category``, ``urgency``); ``c`` is the inverse regularisation."""
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._hstack = hstack
        texts = [normalize(item["text"]) for item in items]
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            min_df=2,
            sublinear_tf=True,
            max_features=20_000,
            dtype=_float32(),
        )
        self.words = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            min_df=1,
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            dtype=_float32(),
        )
        features = hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)]).tocsr()
        self.category = LogisticRegression(C=c, max_iter=2000)
        self.category.fit(features, [item["category"] for item in items])
        self.urgency = LogisticRegression(
            C=c, max_iter=2000, class_weight={"urgent": 2.0, "high": 1.2, "normal": 1.0}
        )
        self.urgency.fit(features, [item["urgency"] for item in items])

    def predict(self, norm: str) -> tuple[dict[str, float], dict[str, float]]:
        """Category and urgency probabilities of one normalised text."""
        features = self._hstack([self.chars.transform([norm]), self.words.transform([norm])]).tocsr()
        category = dict(zip(self.category.classes_, self.category.predict_proba(features)[0], strict=True))
        urgency = dict(zip(self.urgency.classes_, self.urgency.predict_proba(features)[0], strict=True))
        return (
            {c: float(category.get(c, 0.0)) for c in CATEGORIES},
            {u: float(urgency.get(u, 0.0)) for u in URGENCIES},
        )


def _float32() -> Any:
    import numpy as np

    return np.float32


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


_lock = threading.Lock()
_model: TextModel | None = None


def get_text_model() -> TextModel:
    """The text model, trained on the shipped training set at first call (thread-safe)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = TextModel(load_jsonl(TRAIN_PATH))
    return _model


def warm_up() -> None:
    """Train the text model now rather than on the first request."""
    get_text_model()


class Classifier:
    """The hybrid classifier; :func:`classify` uses one built on the shipped training set.

    Args:
        text_model: A trained :class:`TextModel`, or ``None`` for the lexicon alone.
        lexicon_weight: Share of the lexicon in the category mix (0 to 1).

    """

    def __init__(self, text_model: TextModel | None, lexicon_weight: float = LEXICON_WEIGHT) -> None:
        self.text_model = text_model
        self.lexicon_weight = lexicon_weight

    def classify(
        self, text: str, *, id: str | None = None, review_threshold: float | None = None
    ) -> TriageResult:
        """Triage one message (see :func:`classify`)."""
        from connectors.ai_triage.settings import get_triage_settings  # keeps the package import light

        threshold = get_triage_settings().review_threshold if review_threshold is None else review_threshold
        norm = normalize(text)
        hits = find_cues(norm)
        reasons: list[str] = []

        # --- category -----------------------------------------------------------------------
        lex = lexicon_scores(hits)
        lex_total = sum(lex.values())
        if self.text_model is not None:
            p_cat, p_urg = self.text_model.predict(norm)
        else:
            p_cat = dict.fromkeys(CATEGORIES, 1 / len(CATEGORIES))
            p_urg = {u: (1.0 if u == "normal" else 0.0) for u in URGENCIES}
        if lex_total > 0:
            w = self.lexicon_weight if self.text_model is not None else 1.0
            mix = {c: w * lex[c] / lex_total + (1 - w) * p_cat[c] for c in CATEGORIES}
        else:
            mix = dict(p_cat)
            if self.text_model is None:
                mix = {c: (1.0 if c == "other" else 0.0) for c in CATEGORIES}
        category = max(CATEGORIES, key=lambda c: (mix[c], c == "other"))
        category_confidence = mix[category]
        if lex_total == 0:
            category_confidence *= 0.8  # no cue at all: the text model alone is less trustworthy

        # --- urgency ------------------------------------------------------------------------
        urgent_hits = [h for h in hits if h.cue.urgency == URGENT and h.spans]
        high_hits = [h for h in hits if h.cue.urgency == HIGH and h.spans]
        urgency_from_model = False
        if urgent_hits:
            urgency, urgency_confidence = URGENT, 0.95
            reasons += [f"urgent: {h.cue.name} {_quote(h.spans[0])}" for h in urgent_hits]
        elif (
            any(h.cue.name == "no heating" for h in high_hits)
            and (vulnerable := VULNERABLE_RE.search(norm)) is not None
        ):
            urgency, urgency_confidence = URGENT, 0.9
            cold = EXTREME_COLD_RE.search(norm)
            reasons.append(
                f"urgent: no heating for a vulnerable occupant {_quote(vulnerable.group(0))}"
                + (f" {_quote(cold.group(0))}" if cold else "")
            )
        elif p_urg["urgent"] >= MODEL_URGENT_THRESHOLD:
            urgency, urgency_confidence, urgency_from_model = URGENT, p_urg["urgent"], True
            reasons.append(f"urgent: text model p={p_urg['urgent']:.2f}")
        elif high_hits:
            urgency, urgency_confidence = HIGH, 0.9
            reasons += [f"high: {h.cue.name} {_quote(h.spans[0])}" for h in high_hits]
        elif p_urg["high"] >= MODEL_HIGH_THRESHOLD:
            urgency, urgency_confidence, urgency_from_model = HIGH, p_urg["high"], True
            reasons.append(f"high: text model p={p_urg['high']:.2f}")
        else:
            urgency = "normal"
            urgency_confidence = max(p_urg["normal"], 0.6)

        # --- reasons for the category ---------------------------------------------------------
        for hit in sorted(hits, key=lambda h: -h.cue.categories.get(category, 0.0)):
            if hit.spans and hit.cue.categories.get(category, 0.0) > 0 and hit.cue.urgency is None:
                reasons.append(f"{category}: {hit.cue.name} {_quote(', '.join(hit.spans[:3]))}")
        negated = [s for h in hits for s in h.negated]
        if negated:
            reasons.append(f"negated: {_quote(', '.join(dict.fromkeys(negated)))}")
        if self.text_model is not None:
            reasons.append(f"{category}: text model p={p_cat[category]:.2f}")

        confidence = round(min(category_confidence, urgency_confidence), 3)
        review = confidence < threshold or urgency_from_model
        return TriageResult(
            id=id,
            category=RequestCategory(category),
            urgency=Urgency(urgency),
            confidence=confidence,
            reasons=reasons[:_MAX_REASONS],
            needs_human_review=review,
            model_version=MODEL_VERSION,
            input_sha256=input_sha256(text),
        )


_classifier_lock = threading.Lock()
_classifier: Classifier | None = None


def get_classifier() -> Classifier:
    """The process-wide classifier (lexicon + text model trained on the shipped set)."""
    global _classifier
    if _classifier is None:
        text_model = get_text_model()
        with _classifier_lock:
            if _classifier is None:
                _classifier = Classifier(text_model)
    return _classifier


def classify(text: str, *, id: str | None = None, review_threshold: float | None = None) -> TriageResult:
    """Triage a tenant's French message into category and urgency, offline.

    Args:
        text: The tenant's own words (any style: formal, SMS, misspelt).
        id: Identifier of the request, echoed in the result.
        review_threshold: Confidence below which ``needs_human_review`` is set; default from
            ``PIVOT_AI_TRIAGE_REVIEW_THRESHOLD``.

    Returns:
        The decision with its reasons, confidence, model version and input hash.

    """
    return get_classifier().classify(text, id=id, review_threshold=review_threshold)


__all__ = [
    "CATEGORIES",
    "CATEGORY_CUES",
    "HIGH_CUES",
    "MODEL_VERSION",
    "URGENCIES",
    "URGENT_CUES",
    "Classifier",
    "Hit",
    "TextModel",
    "TriageResult",
    "classify",
    "find_cues",
    "get_classifier",
    "input_sha256",
    "lexicon_scores",
    "load_jsonl",
    "warm_up",
]
