"""Shared fixtures of the AI tests: the classifier is trained once per session."""

from __future__ import annotations

import pytest

from connectors.ai_triage.model import Classifier, get_classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return get_classifier()
