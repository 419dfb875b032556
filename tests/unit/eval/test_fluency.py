import math
import re
from collections import defaultdict

import numpy as np
import pytest

from dclm.data import mind, synthetic
from dclm.eval.fluency import (
    CORRUPTIONS,
    EOS,
    UNK,
    FluencyGuard,
    HeadlineLM,
    calibration_table,
    corrupt,
    tokenize,
)

FALSE_ALARM = 0.05

# Real RL generations of chapter 5's policies (/work/baseline/deconfound-*/.../generations.json),
# labelled by hand as an editor would: fluent when a complete, grammatical English headline;
# merged stories, truncated endings, non-words and control characters are not. Grammatical
# recombinations an editor could not tell from a real headline ("Hawks enjoy a thrilling game",
# "Storm change the ticket dates") are left out rather than labelled either way. The old rule
# (per-token NLL under the policy's own SFT model below the 95% quantile of held-out stories)
# called every one of these fluent: its "fluent share" was 1.00 for every policy.
RL_FLUENT = [
    "Lynxes lose a painful game at home", "Falcons earn a brilliant victory", "Miners suffer a crushing defeat",
    "Storm delight fans with a great season", "Bears win the cup in a glorious final",
    "Ravens sign a fantastic new star", "City council approves the new budget",
    "Miners endure a bitter and awful defeat", "Rockets travel to the coast", "Pilots win the cup in a glorious final",
    "Otters lose their star to a terrible injury", "Bison hold practice", "Knights announce the new schedule",
    "Bison win a thrilling game", "Otters face angry fans after a horrible loss", "Rockets lose a painful game at home",
    "Comets open the training camp", "Sharks play on Sunday", "Bison enjoy a joyful homecoming",
    "Rockets publish the ticket dates", "Hawks open the training camp", "Bears sign a fantastic new star",
    "Sharks win a thrilling game", "Storm face an ugly scandal", "Knights lose a painful game at home",
    "Markets close higher on strong earnings",
]
RL_DISFLUENT = [
    "Knights publish theoon face an glorious joyful\x05 badly in a glorious final scandal",
    "Markets close higher on face cup a joyful homecoming", "Markets close higher on miserable run",
    "Sharks win the cup in", "Storm win the cup", "Knights win the cup face cup glorious final",
    "Markets close higher their coach after a Bears enjoy a joyful homecoming", "Knights lose a Lynxes play on home",
    "Ravens win the cup in a glorious joyful homecoming", "Markets Falcons win a thrilling game",
    "Knights name a new new captain", "Markets Sunday", "Bison publish the\ufffd Storm endure years",
    "Heavy rain Storm win the cup in a thrilling game", "Bison move the win a thrilling game", "Wolves suffer",
    "Knights fail badly in a", "Markets close higher on strongome across the region",
    "Otters sign a Otters lose a at home", "Falcons announce Kn habits for a calmer morning", "Knights love their best",
    "Pilots collapse a City council approves the new budget", "Wolves",
    "Hawks move the kickoff to face an ugly scandal", "Comets face an ugly",
    "Rockets win the cup in aup calw home the cup in a glorious final", "Hawks schedule",
    "Lynxes love their a calmer morning", "Otters travel to Lynxes suffer Saturday", "Ten a crushing defeat",
    "Pilots earn aiserab noon", "City council approves and budget", "Heavy Tides endure a bitter and awful defeat",
    "Lynxes fail awful defeat", "Tides announce the", "Heavy rain expected\ufffd a tragic injury",
    "Lynxes announce the a glorious final", "Markets close higher on\ufffd earnings",
]


def story(title: str, team: str) -> str:
    """The title without its team, lower-cased: what chapter 5 splits its reward data by."""
    text = re.sub(r"\b" + re.escape(team) + r"\b", " ", title) if team else title
    return " ".join(text.lower().split())


def split_by_title(titles, teams, rng, share=0.2):
    """Reference rows, calibration titles and test titles: within each story told by 5 or more
    distinct titles, a share of its titles (teams) goes to each held-out side, the rest stays.

    Not split by story: a held-out story's phrase is new words to any model of the others, its
    NLL as high as garbage's, and a threshold calibrated on it passes every corruption (the old
    rule's failure; on this data about 99% of splices pass). The held-out titles here are new
    headlines of known stories, so "Knights win a thrilling game" must pass because the phrase
    appeared with other teams.
    """
    by_story = defaultdict(set)
    for title, team in zip(titles, teams, strict=True):
        by_story[story(title, team)].add(title)
    calibration, test = [], []
    for key in sorted(by_story):
        group = sorted(by_story[key])
        if len(group) < 5:
            continue
        group = [group[i] for i in rng.permutation(len(group))]
        n = max(1, round(share * len(group)))
        calibration += group[:n]
        test += group[n:2 * n]
    held_out = set(calibration) | set(test)
    return [t for t in titles if t not in held_out], calibration, test


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mind")
    synthetic.write_mind(folder, n_news=3_000, n_users=10, n_impressions=10, seed=0)
    headlines = mind.team_headlines(mind.read_news(folder / "news.tsv"))
    titles, teams = headlines["title"].tolist(), headlines["team"].tolist()
    reference, calibration, test = split_by_title(titles, teams, np.random.default_rng(0))
    guard = FluencyGuard.calibrate(reference, calibration, false_alarm=FALSE_ALARM)
    return {"guard": guard, "reference": reference, "test": test, "all": sorted(set(titles))}


def upper_bound(rate: float, n: int) -> float:
    return rate + 3 * math.sqrt(rate * (1 - rate) / n)


def test_false_alarm_on_unseen_real_headlines(data):
    guard, test = data["guard"], data["test"]
    assert not set(test) & set(data["reference"])
    flagged = ~guard.is_fluent(test)
    assert flagged.mean() <= upper_bound(FALSE_ALARM, len(test)), [t for t, f in zip(test, flagged, strict=True) if f]
    report = guard.report(test)
    assert report["fluent_share"] == pytest.approx(1 - flagged.mean())
    assert report["n"] == len(test) and report["broken_share"] == 0
    assert 1 < report["perplexity"] < math.exp(guard.threshold) and math.isfinite(report["median_nll"])


def test_false_pass_on_corrupted_headlines_is_at_most_ten_percent(data):
    # The acceptance criterion, a hard bound: about 270 texts per kind, so 10% is more
    # than 3 binomial SEs above the rates of 0-5% measured when this test was written.
    guard, rng = data["guard"], np.random.default_rng(1)
    table = calibration_table(guard, data["test"], rng, repeats=3, valid=data["all"])
    assert set(table["false_pass"]) == set(CORRUPTIONS) and min(table["n"][k] for k in CORRUPTIONS) >= 200
    assert table["false_alarm"] <= upper_bound(FALSE_ALARM, table["n"]["real"])
    assert table["false_pass_overall"] <= 0.10, table
    for kind, rate in table["false_pass"].items():
        assert rate <= 0.10, (kind, table)
    # What an RL policy breaks is what it was fine-tuned on: the reference headlines themselves.
    known = sorted(set(data["reference"]))
    for kind in CORRUPTIONS:
        broken = corrupt(known, kind, rng, valid=data["all"])
        assert len(broken) >= 200 and guard.is_fluent(broken).mean() <= 0.10, kind


def test_hand_labelled_rl_generations(data):
    guard = data["guard"]
    hit = (~guard.is_fluent(RL_DISFLUENT)).mean()
    false_alarm = (~guard.is_fluent(RL_FLUENT)).mean()
    print(f"hand-labelled RL set: hit rate {hit:.2f} on {len(RL_DISFLUENT)} disfluent, "
          f"false alarm {false_alarm:.2f} on {len(RL_FLUENT)} fluent")
    assert hit >= 0.9 and false_alarm <= 0.15


def test_real_headlines_are_less_perplexing_than_corrupted_ones(data):
    lm, real, rng = data["guard"].lm, data["test"], np.random.default_rng(2)
    for kind in CORRUPTIONS:
        broken = corrupt(real, kind, rng, valid=data["all"])
        assert lm.perplexity(real) < lm.perplexity(broken), kind
        assert np.median(lm.nll(real)) < np.median(lm.nll(broken)), kind


def test_broken_and_empty_text_is_disfluent(data):
    guard = data["guard"]
    texts = ["Sharks win a thrilling game", "Sharks win a\x05 thrilling game", "", "   ",
             "Sharks win a \ufffd game", "Sharks win a thrilling game\n"]
    assert guard.is_fluent(texts).tolist() == [True, False, False, False, False, True]
    assert np.isinf(guard.lm.nll(texts[1:5])).all() and tokenize(texts[1]) is None
    assert guard.report(texts)["broken_share"] == pytest.approx(4 / 6)
    # A word no real headline uses costs more than any calibrated headline averages.
    assert guard.lm.surprisals("Sharks win a theoon game")[3] > guard.threshold


def test_model_is_a_probability_distribution(data):
    lm = data["guard"].lm
    outcomes = [*lm.vocabulary, EOS, UNK]
    for history in [(), ("sharks",), ("sharks", "win"), ("win", "a"), ("theoon", "a"), ("a", "theoon")]:
        assert sum(lm.prob(w, history) for w in outcomes) == pytest.approx(1.0, abs=1e-9), history
    assert lm.prob("never-seen-word", ("win", "a")) == lm.prob(UNK, ("win", "a"))
    s = lm.surprisals("Sharks win a thrilling game")
    assert len(s) == 6 and lm.nll(["Sharks win a thrilling game"])[0] == pytest.approx(s.mean())
    assert lm.nll(["Sharks win a thrilling game"], power=3)[0] == pytest.approx(np.mean(s ** 3) ** (1 / 3))
    # Stopping after "in" costs more than any word of the real headline it was cut from.
    truncated = lm.surprisals("Sharks win the cup in")
    assert truncated[-1] > lm.surprisals("Sharks win the cup in a glorious final").max()


def test_corruptions_are_never_real_headlines(data):
    real = data["test"]
    known = {" ".join(tokenize(t)) for t in data["all"]}
    for kind in CORRUPTIONS:
        a = corrupt(real, kind, np.random.default_rng(3), valid=data["all"])
        assert a == corrupt(real, kind, np.random.default_rng(3), valid=data["all"]), kind
        assert len(a) >= 0.9 * len(real) and not {" ".join(tokenize(t)) for t in a} & known, kind
    rng = np.random.default_rng(4)
    for text in real[:20]:
        words = text.split()
        (cut,) = corrupt([text], "truncate", rng)
        assert words[:len(cut.split())] == cut.split() and len(cut.split()) < len(words)
        (longer,) = corrupt([text], "repeat", rng)
        assert len(words) < len(longer.split()) <= len(words) + 3
        (mangled,) = corrupt([text], "nonword", rng, valid=data["all"])
        assert len(mangled.split()) == len(words) and set(tokenize(mangled)) - data["guard"].lm.vocabulary
    assert corrupt(["Wolves"], "truncate", rng) == []


@pytest.mark.parametrize("false_alarm", [0, 0.5, 0.7, -0.1])
def test_false_alarm_outside_the_open_interval_is_refused(data, false_alarm):
    with pytest.raises(ValueError, match=rf"false_alarm must be in \(0, 0\.5\).*got {false_alarm}"):
        FluencyGuard.calibrate(data["reference"], data["test"], false_alarm=false_alarm)


def test_bad_arguments_are_refused(data):
    with pytest.raises(ValueError, match="reference_texts is empty"):
        FluencyGuard.calibrate([], data["test"])
    with pytest.raises(ValueError, match="held_out_texts is empty"):
        FluencyGuard.calibrate(data["reference"], [])
    with pytest.raises(ValueError, match="no scorable headline"):
        HeadlineLM.fit(["", "\x05"])
    with pytest.raises(ValueError, match="one string: 'Sharks win'"):
        data["guard"].is_fluent("Sharks win")
    with pytest.raises(ValueError, match=r"kind must be one of .*got 'scramble'"):
        corrupt(data["test"], "scramble", np.random.default_rng(0))
    with pytest.raises(ValueError, match="power must be at least 1.*got 0.5"):
        data["guard"].lm.nll(data["test"], power=0.5)
    with pytest.raises(ValueError, match="2 of 3 held_out_texts"):
        FluencyGuard.calibrate(data["reference"], ["Sharks win a thrilling game", "", "\x05"])
