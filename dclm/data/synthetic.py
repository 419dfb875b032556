"""Generators that write files in exactly the upstream formats, with known confounding.

The real loaders are then the code under test, and chapters can scale beyond the shipped
samples. Each writer returns the ground truth it used.

- :func:`write_stackexchange_posts`: an Academia-like ``Posts.xml`` where the weekday raises
  answer scores but not answer quality (notes/data.md §2.1).
- :func:`write_upworthy_csv`: Upworthy packages where editors wrote emotional headlines for
  stories that were popular anyway; the emotional feature has no causal effect (§3.1).
- :func:`write_mind`: MIND ``news.tsv``/``behaviors.tsv`` with sports headlines naming teams;
  each team has a region (the instrument) whose market size drives its popularity, and the
  headline's sentiment is independent of (orthogonal) or entangled with popularity (§4.1).
"""

from __future__ import annotations

import gzip
import json
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from dclm.data.stackexchange import WEEKDAYS

# ---------------------------------------------------------------------------- Stack Exchange

WEEKDAY_WEIGHTS = (0.17, 0.18, 0.18, 0.17, 0.14, 0.08, 0.08)
# Votes added by the weekday an answer is posted (exposure: early in the week more people are
# around). Whole votes, so scores stay integers and the confound is exactly additive.
WEEKDAY_SCORE_EFFECT = {"Monday": 1, "Tuesday": 1, "Wednesday": 0, "Thursday": 0,
                        "Friday": -1, "Saturday": 0, "Sunday": 0}
TOPICS = ("advisor", "thesis", "PhD", "reviewer", "conference", "postdoc", "grant", "paper",
          "committee", "journal", "teaching", "tenure", "lab", "seminar", "deadline")
SPECIFIC = (
    "Write to your {t} with a concrete plan and two dates you can meet.",
    "Check the {t} guidelines first; most departments publish them online.",
    "In my experience the {t} cares most about a clear timeline.",
    "Ask a senior student who went through the same {t} process last year.",
    "Keep a short written record of every {t} meeting and share it afterwards.",
)
VAGUE = (
    "It depends on the {t} and the field.",
    "Every {t} is different, so it is hard to say.",
    "You could talk to someone about the {t}.",
    "Things with the {t} usually work out in the end.",
)
FILLER = ("This is common.", "Many people face this.", "Take it step by step.", "Good luck with it.",
          "Do not panic.", "It takes time.")


def _answer_body(rng: np.random.Generator, quality: float, strong: bool, link: bool) -> str:
    topic = TOPICS[rng.integers(len(TOPICS))]
    n_sentences = int(rng.integers(4, 12))
    p_specific = 1 / (1 + np.exp(-1.5 * quality))
    sentences = []
    for _ in range(n_sentences):
        pool = SPECIFIC if rng.random() < p_specific else (VAGUE if rng.random() < 0.6 else FILLER)
        sentences.append(pool[rng.integers(len(pool))].format(t=topic))
    if strong:
        sentences[0] = f"<strong>{sentences[0]}</strong>"
    if link:
        sentences.append('See <a href="https://example.org/guide">this guide</a> for details.')
    cut = max(1, len(sentences) // 2)
    return f"<p>{' '.join(sentences[:cut])}</p>\n\n<p>{' '.join(sentences[cut:])}</p>\n"


@contextmanager
def _text_writer(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with opener(tmp, "wt", encoding="utf-8", newline="") as handle:
            yield handle
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _row(attrs: dict) -> str:
    body = " ".join(f"{k}={quoteattr(str(v), {chr(10): '&#xA;', chr(13): '&#xD;'})}"
                    for k, v in attrs.items() if v is not None)
    return f"  <row {body} />\n"


def write_stackexchange_posts(path: str | Path, n_questions: int = 2_000, seed: int = 0,
                              weekday_effect: dict[str, int] | None = None,
                              quality_effect: float = 0.5) -> dict:
    """Write an Academia-like ``Posts.xml`` (or ``.xml.gz``) and return its ground truth.

    Questions are spread over three years with a weekend dip; each gets Poisson(2.3)+1 answers
    (at most 8), posted within the following week on a weekday drawn with the same weights.
    An answer's score is ``Poisson(exp(0.4 + quality_effect·q + 0.2·(strong + link)
    + 0.1·log(1 + views))) − Poisson(0.3) + weekday_effect[day]``, with q its latent
    helpfulness and ``weekday_effect`` in whole votes (default: Monday and Tuesday +1, Friday
    −1). That is separable, ``y = g(T) + h(C) + noise``, as DeconfoundLM assumes. The weekday
    changes the score but not the text, so once markers are added it is a pure confounder of
    text → score.
    Returns ``{"weekday_effect", "answers": DataFrame(answer_id, quality, weekday, score)}``.
    """
    effect = dict(WEEKDAY_SCORE_EFFECT if weekday_effect is None else weekday_effect)
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-01-05")  # a Monday
    truth = []
    next_id = 1
    with _text_writer(Path(path)) as out:
        out.write('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        for _ in range(n_questions):
            week = int(rng.integers(0, 156))
            day = int(rng.choice(7, p=WEEKDAY_WEIGHTS))
            asked = start + pd.Timedelta(days=7 * week + day, seconds=int(rng.integers(0, 86_400)))
            views = int(rng.poisson(np.exp(5.0 + 0.5 * effect[WEEKDAYS[day]])))
            n_answers = min(8, int(rng.poisson(2.3)) + 1)
            question_id = next_id
            next_id += 1
            topic = TOPICS[rng.integers(len(TOPICS))]
            out.write(_row({
                "Id": question_id, "PostTypeId": 1, "CreationDate": asked.isoformat(timespec="milliseconds"),
                "Score": int(rng.poisson(3)), "ViewCount": views,
                "Body": f"<p>How should I deal with my {topic}? I am not sure what to do next.</p>\n",
                "OwnerUserId": int(rng.integers(1, 5_000)), "Title": f"How should I handle my {topic}?",
                "Tags": f"<{topic.lower()}>", "AnswerCount": n_answers, "CommentCount": 0,
            }))
            for _ in range(n_answers):
                # The answer's weekday follows the weekly activity pattern; it lands within the
                # week after the question.
                target = int(rng.choice(7, p=WEEKDAY_WEIGHTS))
                offset = (target - asked.day_of_week) % 7
                day_start = asked.normalize() + pd.Timedelta(days=offset)
                earliest = (asked - asked.normalize()).seconds if offset == 0 else 0
                posted = day_start + pd.Timedelta(seconds=int(rng.integers(earliest, 86_400)))
                weekday = WEEKDAYS[posted.day_of_week]
                quality = float(rng.standard_normal())
                strong, link = bool(rng.random() < 0.2), bool(rng.random() < 0.15)
                rate = np.exp(0.4 + quality_effect * quality + 0.2 * (strong + link) + 0.1 * np.log1p(views))
                # Separable, as DeconfoundLM assumes: the weekday adds a fixed number of votes
                # (exposure) on top of the votes the text earns; the noise does not depend on it.
                score = int(rng.poisson(rate)) - int(rng.poisson(0.3)) + int(effect[weekday])
                out.write(_row({
                    "Id": next_id, "PostTypeId": 2, "ParentId": question_id,
                    "CreationDate": posted.isoformat(timespec="milliseconds"), "Score": score,
                    "Body": _answer_body(rng, quality, strong, link),
                    "OwnerUserId": int(rng.integers(1, 5_000)), "CommentCount": 0,
                }))
                truth.append((next_id, quality, weekday, score))
                next_id += 1
        out.write("</posts>\n")
    return {"weekday_effect": effect,
            "answers": pd.DataFrame(truth, columns=["answer_id", "quality", "weekday", "score"])}


# -------------------------------------------------------------------------------- Upworthy

SUBJECTS = ("This teacher", "A mom", "These kids", "One doctor", "This small town", "A veteran",
            "These scientists", "A stranger", "This dad", "Two friends")
ACTIONS = ("did something for her students", "found a way to fix the problem", "asked a simple question",
           "changed how we think about food", "stood up to a bully", "built a library")
EMOTIONAL = ("and it will break your heart", "and I can't stop crying", "and it's absolutely heartwarming")
NEUTRAL = ("and here is what happened", "and the results were clear", "and people noticed")
OFFICIAL_COLUMNS = ("", "created_at", "updated_at", "clickability_test_id", "excerpt", "headline", "lede",
                    "slug", "eyecatcher_id", "impressions", "clicks", "significance", "first_place",
                    "winner", "share_text", "square", "test_week")
SHIPPED_COLUMNS = ("index", "clickability_test_id", "test_week", "eyecatcher_id", "headline", "excerpt",
                   "lede", "impressions", "clicks", "significance", "first_place", "winner",
                   "winner_count_anomaly", "ctr")
PACKAGES_PER_TEST = {2: 0.05, 3: 0.08, 4: 0.45, 5: 0.20, 6: 0.15, 7: 0.02, 8: 0.02, 9: 0.01, 10: 0.01, 12: 0.01}


def _object_id(when: pd.Timestamp, rng: np.random.Generator) -> str:
    return f"{int(when.timestamp()):08x}" + "".join(f"{b:02x}" for b in rng.integers(0, 256, 8))


def write_upworthy_csv(path: str | Path, n_tests: int = 500, seed: int = 0, official: bool = True,
                       number_effect: float = 0.10, emotional_effect: float = 0.0,
                       emotional_confounding: float = 1.5) -> dict:
    """Write Upworthy-like packages in the official 17-column layout (or the shipped one).

    Each test is one story with appeal ``alpha ~ N(logit 0.0125, 0.5²)`` and a downward time
    trend; its packages are headlines with two binary features, "number in headline" (true
    logit effect ``number_effect``) and "emotional" (``emotional_effect``, zero by default).
    Editors write emotional headlines for appealing stories:
    ``P(emotional) = sigmoid(emotional_confounding · (alpha − mean))``. Impressions are split
    evenly within a test (randomisation) and ``clicks ~ Binomial(impressions, p)``. Returns the
    truth: effects and a per-package DataFrame with the features and ``alpha``.
    """
    rng = np.random.default_rng(seed)
    sizes, probs = zip(*PACKAGES_PER_TEST.items(), strict=True)
    base = np.log(0.0125 / 0.9875)
    start = pd.Timestamp("2013-03-18")
    rows, truth = [], []
    for _ in range(n_tests):
        created = start + pd.Timedelta(days=float(rng.uniform(0, 770)))
        trend = -0.4 * (created - start).days / 770
        alpha = base + 0.5 * rng.standard_normal()
        test_id = _object_id(created, rng)
        image = _object_id(created, rng)
        subject, action = SUBJECTS[rng.integers(len(SUBJECTS))], ACTIONS[rng.integers(len(ACTIONS))]
        lede = f"<p>{subject} {action}. Here is the story.</p>"
        n_packages = int(rng.choice(sizes, p=probs))
        total = int(np.clip(round(rng.normal(3_300, 900)), 500, 25_000)) * n_packages
        shares = rng.multinomial(total, np.full(n_packages, 1 / n_packages))
        p_emotional = 1 / (1 + np.exp(-emotional_confounding * (alpha - base)))
        iso = created.isocalendar()
        test_week = iso.year * 100 + iso.week - 1
        for k in range(n_packages):
            number = bool(rng.random() < 0.5)
            emotional = bool(rng.random() < p_emotional)
            tail = EMOTIONAL if emotional else NEUTRAL
            count = f"{int(rng.integers(3, 12))} " if number else ""
            headline = f"{subject} {action}, {count}{'reasons' if number else 'now'} {tail[rng.integers(len(tail))]}"
            logit = alpha + trend + number_effect * number + emotional_effect * emotional
            impressions = int(max(shares[k], 13))
            clicks = int(rng.binomial(impressions, 1 / (1 + np.exp(-logit))))
            rows.append({"created_at": created, "test_id": test_id, "image": image, "headline": headline,
                         "lede": lede, "impressions": impressions, "clicks": clicks, "test_week": test_week})
            truth.append((test_id, headline, number, emotional, alpha))
    frame = pd.DataFrame(rows)
    with _text_writer(Path(path)) as out:
        if official:
            table = pd.DataFrame({
                "": np.arange(len(frame)), "created_at": frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "updated_at": frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "clickability_test_id": frame["test_id"], "excerpt": "Things that matter. Pass 'em on.",
                "headline": frame["headline"], "lede": frame["lede"],
                "slug": frame["headline"].str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True),
                "eyecatcher_id": frame["image"], "impressions": frame["impressions"], "clicks": frame["clicks"],
                "significance": 0.0, "first_place": False, "winner": False, "share_text": "", "square": "",
                "test_week": frame["test_week"],
            }, columns=list(OFFICIAL_COLUMNS))
        else:
            table = pd.DataFrame({
                "index": np.arange(len(frame)), "clickability_test_id": frame["test_id"],
                "test_week": frame["test_week"], "eyecatcher_id": frame["image"], "headline": frame["headline"],
                "excerpt": "Things that matter. Pass 'em on.", "lede": frame["lede"],
                "impressions": frame["impressions"], "clicks": frame["clicks"], "significance": 0.0,
                "first_place": False, "winner": False, "winner_count_anomaly": True,
                "ctr": frame["clicks"] / frame["impressions"],
            }, columns=list(SHIPPED_COLUMNS))
        table.to_csv(out, index=False)
    return {"number_effect": number_effect, "emotional_effect": emotional_effect,
            "packages": pd.DataFrame(truth, columns=["test_id", "headline", "number", "emotional", "alpha"])}


# ------------------------------------------------------------------------------------ MIND

REGIONS = {  # region: standardised market size, the instrument Z
    "Northport": 1.6, "Lakeside": 1.0, "Riverton": 0.6, "Highfield": 0.2, "Westvale": -0.2,
    "Stonebridge": -0.6, "Eastmoor": -1.0, "Pinecrest": -1.6,
}
TEAMS = ("Lynxes", "Ravens", "Comets", "Bears", "Falcons", "Tides", "Wolves", "Pilots", "Rockets",
         "Hawks", "Miners", "Sharks", "Knights", "Bison", "Otters", "Storm")
POSITIVE = ("win a thrilling game", "celebrate a stunning comeback", "earn a brilliant victory",
            "delight fans with a great season", "sign a fantastic new star", "cheer a wonderful win at home",
            "enjoy a joyful homecoming", "praise their excellent young keeper", "love their best start in years",
            "win the cup in a glorious final")
NEUTRAL_SPORTS = ("announce the new schedule", "play on Sunday", "travel to the coast", "hold practice",
                  "name a new captain", "move the kickoff to noon", "list the squad for Saturday",
                  "open the training camp", "change the team bus route", "publish the ticket dates")
NEGATIVE = ("suffer a crushing defeat", "lose their star to a terrible injury", "face an ugly scandal",
            "collapse in a disastrous loss", "fire their coach after a miserable run",
            "lose a painful game at home", "fail badly in a sad season", "face angry fans after a horrible loss",
            "suffer a tragic injury crisis", "endure a bitter and awful defeat")
OTHER_NEWS = (("news", "newsus", "City council approves the new budget"),
              ("finance", "finance-markets", "Markets close higher on strong earnings"),
              ("weather", "weathertopstories", "Heavy rain expected across the region"),
              ("lifestyle", "lifestylebuzz", "Ten simple habits for a calmer morning"))


def write_mind(folder: str | Path, n_news: int = 3_000, n_users: int = 2_000, n_impressions: int = 20_000,
               seed: int = 0, setting: str = "entangled", instrument_strength: float = 1.0,
               entanglement: float = 0.8, sentiment_click_effect: float = 0.6,
               popularity_click_effect: float = 0.6, sports_share: float = 0.7) -> dict:
    """Write MIND-schema ``news.tsv`` and ``behaviors.tsv`` into ``folder``; return the truth.

    Sports headlines name a team; each team has a home region whose market size Z (the
    instrument) drives the team's popularity. A headline's popularity p (how much the site
    promotes it) is the team's popularity plus, in the ``"entangled"`` setting, a boost for
    negative headlines (editors promote negative breaking news): ``entanglement`` is that
    boost per step of sentiment (−1, 0, +1); ``"orthogonal"`` makes sentiment independent of p.
    Clicks: ``logit P(click) = −3.2 + sentiment_click_effect·sentiment + popularity_click_effect·p``.
    Popular headlines are also shown more often. Returns ``{"teams": DataFrame(team, region,
    instrument, team_popularity), "news": DataFrame(news_id, team, sentiment, popularity)}``;
    these truths are not part of the MIND schema.
    """
    if setting not in ("orthogonal", "entangled"):
        raise ValueError(f"setting must be 'orthogonal' or 'entangled', got {setting!r}")
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    regions = list(REGIONS)
    team_region = [regions[i % len(regions)] for i in range(len(TEAMS))]
    z = np.array([REGIONS[r] for r in team_region])
    team_pop = instrument_strength * z + 0.5 * rng.standard_normal(len(TEAMS))
    teams = pd.DataFrame({"team": TEAMS, "region": team_region, "instrument": z, "team_popularity": team_pop})

    news = []
    for i in range(n_news):
        news_id = f"N{10_000 + i}"
        if rng.random() < sports_share:
            t = int(rng.integers(len(TEAMS)))
            sentiment = int(rng.choice([-1, 0, 1]))
            boost = -entanglement * sentiment if setting == "entangled" else 0.0
            popularity = team_pop[t] + boost + 0.3 * rng.standard_normal()
            phrase = {1: POSITIVE, 0: NEUTRAL_SPORTS, -1: NEGATIVE}[sentiment]
            title = f"{TEAMS[t]} {phrase[rng.integers(len(phrase))]}"
            entity = [{"Label": f"{team_region[t]} {TEAMS[t]}", "Type": "O", "WikidataId": f"Q{900_000 + t}",
                       "Confidence": 1.0, "OccurrenceOffsets": [0], "SurfaceForms": [TEAMS[t]]}]
            news.append((news_id, "sports", "football_nfl", title, f"The {TEAMS[t]} of {team_region[t]}.",
                         entity, TEAMS[t], sentiment, popularity))
        else:
            category, sub, title = OTHER_NEWS[rng.integers(len(OTHER_NEWS))]
            news.append((news_id, category, sub, title, "", [], "", 0, float(rng.standard_normal() * 0.5)))
    frame = pd.DataFrame(news, columns=["news_id", "category", "subcategory", "title", "abstract", "entities",
                                        "team", "sentiment", "popularity"])
    with _text_writer(folder / "news.tsv") as out:
        for row in frame.itertuples():
            url = f"https://assets.msn.com/labs/mind/{row.news_id}.html"
            out.write("\t".join([row.news_id, row.category, row.subcategory, row.title, row.abstract, url,
                                 json.dumps(row.entities), "[]"]) + "\n")

    exposure = np.exp(0.5 * frame["popularity"].to_numpy())
    exposure /= exposure.sum()
    logit = -3.2 + sentiment_click_effect * frame["sentiment"].to_numpy() + \
        popularity_click_effect * frame["popularity"].to_numpy()
    p_click = 1 / (1 + np.exp(-logit))
    start = pd.Timestamp("2019-11-09")
    with _text_writer(folder / "behaviors.tsv") as out:
        for impression in range(1, n_impressions + 1):
            user = f"U{int(rng.integers(n_users))}"
            when = start + pd.Timedelta(seconds=int(rng.integers(0, 14 * 86_400)))
            n_shown = min(len(frame), 5 + int(rng.poisson(20)))
            shown = rng.choice(len(frame), size=n_shown, replace=False, p=exposure)
            clicked = rng.random(len(shown)) < p_click[shown]
            history = " ".join(frame["news_id"].iloc[rng.integers(len(frame), size=int(rng.integers(0, 20)))])
            items = " ".join(f"{frame['news_id'].iloc[s]}-{int(c)}" for s, c in zip(shown, clicked, strict=True))
            out.write(f"{impression}\t{user}\t{when.strftime('%m/%d/%Y %I:%M:%S %p').lstrip('0')}\t"
                      f"{history}\t{items}\n")
    return {"teams": teams, "news": frame[["news_id", "category", "team", "sentiment", "popularity"]]}
