"""Small talk or a question about the data: the seed's two classes of turn, decided without a model.

A turn is CONVERSATIONAL when it is a greeting, thanks, a goodbye or a question about the assistant itself
and names nothing in the data; everything else is STATISTICAL. The replies are short and say what the user
can ask, with example questions drawn from the semantic model.
"""

from __future__ import annotations

import random
import re

from datavox.brain.text import fold
from datavox.types import Intent

_GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings|yo)\b")
_THANKS = re.compile(r"\b(thanks|thank you|thank u|thx|cheers|much appreciated|appreciate it)\b")
_BYE = re.compile(r"\b(bye|goodbye|good bye|see you|see ya|that s all|that is all|good night)\b")
_HELP = re.compile(
    r"\b(what can you (do|help)|what do you do|how can you help|what can i ask|what (should|could) i ask|"
    r"help me with|who are you|what are you|what is this|how does this work|help$|^help\b|what do you know|"
    r"what data|which data|what kind of questions|what questions|who (made|built|created|designed) you|"
    r"what s your name|what is your name|your name|are you (a |an )?(robot|bot|ai|human|person|real)|"
    r"tell me a joke|a joke|tell me about yourself|introduce yourself)"
)
_ACK = re.compile(
    r"^((ok|okay|great|cool|nice|awesome|perfect|wow|interesting|got it|i see|right|sure|yes|no|fine|"
    r"good|excellent|amazing|brilliant|lovely|sounds good|very|so|that s|that is|really|helpful|nice one|"
    r"well done|good job|great job|lol|haha|you re|you are|wonderful|fantastic|impressive|neat)\s*)+"
    r"( (thanks|thank you))?$"
)
_HOW_ARE_YOU = re.compile(r"\b(how are you|how s it going|how are things|what s up)\b")

# Words that, present in a turn, mean it asks about data even when it also greets ("hi, who won ...").
_DATA_WORDS = re.compile(
    r"\b(who|which|how many|how much|when did|where did|list|top|most|least|average|total|count|compare)\b"
)


def classify(question: str, *, names_data: bool) -> Intent:
    """CONVERSATIONAL for small talk that names no data; STATISTICAL otherwise."""
    text = fold(question)
    if not text:
        return Intent.CONVERSATIONAL
    small = bool(
        _GREETING.search(text)
        or _THANKS.search(text)
        or _BYE.search(text)
        or _HELP.search(text)
        or _ACK.match(text)
        or _HOW_ARE_YOU.search(text)
    )
    if small and not names_data and not (_DATA_WORDS.search(text) and not _HELP.search(text)):
        return Intent.CONVERSATIONAL
    return Intent.STATISTICAL


def reply(question: str, examples: list[str], description: str = "") -> str:
    """A friendly short reply that says what can be asked."""
    text = fold(question)
    picks = _pick(examples, 2, seed=text)
    ask = f' For example: "{picks[0]}"' + (f' or "{picks[1]}"' if len(picks) > 1 else "") if picks else ""
    if _THANKS.search(text):
        return f"You're welcome! Ask me anything else about the data.{ask}"
    if _BYE.search(text):
        return "Goodbye! Come back any time with more questions."
    if _HELP.search(text):
        # The first clause of the model's description: what the data is, in a few words.
        first = description.split(".")[0].split(":")[0].strip() if description else ""
        about = f" It covers {first}." if first else ""
        return f"I answer questions about your data by looking it up.{about}{ask}"
    if _HOW_ARE_YOU.search(text):
        return f"I'm doing well, thanks! What would you like to know?{ask}"
    if _ACK.match(text):
        return f"Glad to help. Anything else?{ask}"
    return f"Hello! Ask me a question about the data.{ask}"


def _pick(examples: list[str], n: int, *, seed: str) -> list[str]:
    if len(examples) <= n:
        return list(examples)
    rng = random.Random(seed)  # deterministic per phrasing, so tests and caches see the same reply
    return rng.sample(examples, n)
