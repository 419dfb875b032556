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


def _figure_at(strength=0.75, shift=0.0):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [shift, strength])
    plt.close(fig)
    return fig


def test_the_website_gets_a_slider_over_figures_drawn_at_build_time(monkeypatch):
    import json
    import re

    shown, drawn = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("DCLM_BOOK_BUILD", "1")

    def draw(strength=0.75, shift=0.0):
        drawn.append((strength, shift))
        return _figure_at(strength, shift)

    assert widgets.pair(draw, strength=(0.0, 1.0, 0.25), shift=(-1.0, 1.0, 0.5)) is None
    page = shown[0].data
    assert widgets.PLAY_NOTE in shown[1].data
    assert "ipywidgets" not in page and page.count('type="range"') == 2
    frames = json.loads(re.search(r'class="dclm-slider-frames">(.*?)</script>', page).group(1))
    assert len(frames) == len(drawn) == 25  # every combination of the two sliders' five steps
    assert len(set(frames.values())) == 25  # each position its own figure
    start = re.findall(r'value="(\d+)"', page)
    assert start == ["3", "2"]  # opens at the defaults: strength 0.75, shift 0
    assert f'src="{frames["3|2"]}"' in page


def test_a_slider_is_labelled_in_the_chapters_notation_and_a_sweep_says_so(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("DCLM_BOOK_BUILD", "1")
    widgets.pair(lambda strength=0.5: _figure_at(strength), labels={"strength": "κ"}, strength=[0.0, 0.5, 1.0])
    assert '<label class="dclm-slider-control">κ <input' in shown[0].data
    assert shown[1].data == f"*{widgets.PLAY_NOTE_SWEEP}*"
    monkeypatch.setenv("DCLM_BOOK_BUILD", "0")
    widget = widgets.pair(lambda strength=0.5: "x", labels={"strength": "κ"}, strength=(0.0, 1.0, 0.5))
    assert widget.children[0].description == "κ"


def test_slider_positions_keep_the_default_and_refuse_a_bad_range():
    import pytest

    assert widgets.slider_values((0.0, 3.0, 0.25), 1.0, 13) == [0.25 * k for k in range(13)]
    coarse = widgets.slider_values((0.0, 2.0, 0.05), 1.0, 7)
    assert len(coarse) == 7 and coarse[0] == 0.0 and coarse[-1] == 2.0 and 1.0 in coarse
    assert 0.3 in widgets.slider_values((0.0, 2.0, 0.05), 0.3, 7)
    with pytest.raises(widgets.SliderError, match="expected a .low, high, step. range"):
        widgets.slider_values(1.0, 1.0, 7)


def test_widget_pair_is_an_ipywidgets_slider_in_a_live_session(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
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
