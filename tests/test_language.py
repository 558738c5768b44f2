"""newsarchive.language's faster detector gives langdetect's own answers, bit for bit."""

from __future__ import annotations

import pytest
from langdetect.detector import Detector

from newsarchive import language
from tests.test_extract import MORE, PARAGRAPHS

TEXTS = [
    *PARAGRAPHS.values(),
    *MORE.values(),
    "市议会周二晚上在长时间辩论后批准了新预算。公共交通和修缮旧校舍的费用引起了争议。",
    "Rada miasta zatwierdziła we wtorek wieczorem nowy budżet po długiej debacie.",
    "Short text 123 !!!",
    "12345 67890 ... ---",
]


def _probabilities(cls: type[Detector], text: str) -> list[tuple[str, float]] | str:
    detector = cls(language._factory())
    detector.n_trial = language.TRIALS
    detector.append(text[: language.SAMPLE_CHARS])
    try:
        return [(c.lang, c.prob) for c in detector.get_probabilities()]
    except Exception as exc:  # langdetect's "no features in text"
        return type(exc).__name__


@pytest.mark.parametrize("text", TEXTS)
def test_detector_gives_langdetects_probabilities_exactly(text: str) -> None:
    assert _probabilities(language._Detector, text) == _probabilities(Detector, text)
