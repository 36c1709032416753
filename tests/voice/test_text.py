"""Text helpers of the speech path: prompt fitting, loop cutting, sentence splitting, database vocabulary."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datavox.config import Settings
from datavox.voice.stt import QUESTION_TAIL, drop_repeats, fit_prompt, names_prompt
from datavox.voice.tts import speech_chunks, split_sentences, spoken_form
from datavox.voice.vocabulary import database_vocabulary


def words(text: str) -> list[str]:
    return text.split()


def test_fit_prompt_ends_a_sentence_within_budget() -> None:
    names = ", ".join(f"Driver {i}" for i in range(100))
    fitted = fit_prompt(names, words, budget=20)
    assert fitted.endswith(".") and len(words(" " + fitted)) <= 20
    assert fitted.startswith("Driver 0, Driver 1")
    assert fit_prompt("Max Verstappen", words) == "Max Verstappen."


def test_names_prompt_keeps_its_question_tail_within_budget() -> None:
    prompt = names_prompt([f"Driver {i}" for i in range(100)])
    fitted = fit_prompt(prompt, words, budget=20)
    assert fitted.endswith(". " + QUESTION_TAIL) and len(words(" " + fitted)) <= 20
    assert fitted.startswith("Driver 0, Driver 1")


def test_drop_repeats() -> None:
    loop = "which team won in 2019 which team won in 2019 which team"
    assert drop_repeats(loop) == "which team won in 2019"
    assert drop_repeats("Who won the race?") == "Who won the race?"
    echo = "Who won the British Grand Prix in 2020? The one the British Grand Prix in 2020. The one the"
    assert drop_repeats(echo) == "Who won the British Grand Prix in 2020?"
    assert drop_repeats("Who won at Monaco in 2019? 2019.") == "Who won at Monaco in 2019?"
    two = "Who won in Singapore in 2019? How many points did he score in 2019?"
    assert drop_repeats(two) == two


def test_split_sentences() -> None:
    text = "Max Verstappen won the 2021 title. He scored 395.5 points! Next?"
    assert split_sentences(text) == ["Max Verstappen won the 2021 title.", "He scored 395.5 points!", "Next?"]


def test_speech_chunks_cut_the_first_sentence_at_a_pause() -> None:
    assert speech_chunks("Max Verstappen (in 2021).") == ["Max Verstappen", "(in 2021)."]
    long = "In 2019 the title went to Mercedes, who scored 739 points in twenty one races. Next."
    assert speech_chunks(long) == [
        "In 2019 the title went to Mercedes,",
        "who scored 739 points in twenty one races.",
        "Next.",
    ]
    # The name that leads an answer is its own chunk: ~90 ms of synthesis instead of ~250 ms.
    hamilton = "Lewis Hamilton won 11 races in 2020."
    assert speech_chunks(hamilton) == ["Lewis Hamilton", "won 11 races in 2020."]
    assert speech_chunks("Mercedes won the title in 2019. Next.") == [
        "Mercedes",
        "won the title in 2019.",
        "Next.",
    ]
    # Not a name: a sentence led by a pronoun or an article, a name with too little after it, a number.
    assert speech_chunks("There were 22 races in 2020.") == ["There were 22 races in 2020."]
    assert speech_chunks("Lewis Hamilton won eleven.") == ["Lewis Hamilton won eleven."]
    monaco = "Monaco 2019 was won by Lewis Hamilton."
    assert speech_chunks(monaco) == [monaco]
    assert speech_chunks("Emmanuel de Graffenried drove for them that year.")[0] == "Emmanuel de Graffenried"
    assert speech_chunks("Alain Prost and Ayrton Senna drove for McLaren.")[0] != "Alain Prost"
    # A long sentence with no name ahead is cut before a preposition.
    assert speech_chunks("The fastest lap of the race at Monza was 1:21.") == [
        "The fastest lap of the race",
        "at Monza was 1:21.",
    ]


def test_spoken_form_reads_a_cut_chunk_as_going_on() -> None:
    assert spoken_form("Lewis Hamilton") == "Lewis Hamilton,"
    assert spoken_form("won 11 races in 2020.") == "won 11 races in 2020."
    assert spoken_form("In 2019 the title went to Mercedes,") == "In 2019 the title went to Mercedes,"


def test_database_vocabulary(tmp_path: Path) -> None:
    db = tmp_path / "mini.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE drivers (name VARCHAR, starts INTEGER)")
    con.execute(
        "INSERT INTO drivers VALUES ('Max Verstappen', 200), ('Lewis Hamilton', 350), ('Nobody', NULL)"
    )
    con.execute("CREATE TABLE teams (name VARCHAR, wins INTEGER)")
    con.execute("INSERT INTO teams VALUES ('Red Bull', 120), ('Mercedes', 125)")
    con.close()
    (tmp_path / "mini.semantic.yaml").write_text(
        "tables:\n"
        "  drivers: {entity: [name], prominence: starts, person: true}\n"
        "  teams: {entity: [name], prominence: wins}\n",
        encoding="utf-8",
    )
    names = database_vocabulary(Settings().with_db(f"duckdb:///{db}"))
    assert names == ["Lewis Hamilton", "Max Verstappen"]  # people only, most prominent first
    assert database_vocabulary(Settings().with_db(f"duckdb:///{tmp_path / 'missing.duckdb'}")) == []


def test_a_model_that_cannot_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from datavox.voice import models as m

    def broken(**kw: object) -> None:
        raise OSError("model.bin: no such file")

    monkeypatch.setattr(m.WhisperStt, "load", staticmethod(broken))
    with pytest.raises(m.ModelLoadError, match=r"speech-to-text \(faster-whisper tiny.en\).*no such file"):
        m.load_models(Settings())
