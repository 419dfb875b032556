import numpy as np

from dclm import book, widgets


def test_glue_turns_numpy_scalars_into_numbers_myst_can_format(monkeypatch):
    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    assert book.glue("x", np.float64(0.25)) == 0.25
    assert type(seen["x"]) is float
    assert f"{seen['x']:.2f}" == "0.25"
    assert book.glue("arr", np.arange(3)).tolist() == [0, 1, 2]  # arrays pass through


def test_widget_pair_is_a_note_in_the_book_build(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("DCLM_BOOK_BUILD", "1")
    assert widgets.pair(lambda strength: None, strength=1.0) is None
    assert widgets.PLAY_NOTE in shown[0].data
    monkeypatch.setenv("DCLM_BOOK_BUILD", "0")

    def draw(strength=0.75):
        return f"drawn at {strength}"

    widget = widgets.pair(draw, strength=(0.0, 1.0, 0.25))
    assert widget is not None and shown[-1] is widget
    slider = widget.children[0]
    assert (slider.min, slider.max, slider.step, slider.value) == (0.0, 1.0, 0.25, 0.75)


def test_glue_claims_glues_each_claims_text_under_the_names_the_prose_quotes(monkeypatch):
    from dclm.claims import Claim

    seen = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    claims = {"a_beats_b": Claim(True, "a beats b"), "c_on_target": Claim(False, "c is biased")}
    assert book.glue_claims(claims) is None  # nothing to show when it ends a cell
    assert seen == {"claim_a_beats_b": "a beats b", "claim_c_on_target": "c is biased"}
    seen.clear()
    book.glue_claims(claims, keys=["c_on_target"], prefix="beer_claim_")
    assert seen == {"beer_claim_c_on_target": "c is biased"}


def test_readable_drops_half_characters_and_control_bytes():
    from dclm.book import readable

    assert readable("ish\ufffd\ufffd") == "ish"
    assert readable("\ufffd\x01& Happy Monday!") == "& Happy Monday!"
    assert readable("  two\n words ") == "two words"
    assert readable("café") == "café"  # whole characters stay
