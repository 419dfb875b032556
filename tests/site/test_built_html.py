"""Checks on the built site (_build/html) by parsing its HTML; `make book` must run first."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
spec = importlib.util.spec_from_file_location("colab_badge", ROOT / "book" / "_ext" / "colab_badge.py")
colab_badge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_badge)


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


CHAPTERS = [f for f in toc_files() if re.match(r"^book/\d\d-", f)]
# A cell output that is nothing but a number: a cell ended in a value nobody meant to show
# (glue(...) returns its value). Plain, NumPy-wrapped (np.float64(0.1)), nan and inf alike.
_NUMBER = r"[-+]?(?:\d[\d_,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
BARE_NUMBER = re.compile(rf"(?:(?:np|numpy)\.\w+\(\s*(?:{_NUMBER})\s*\)|{_NUMBER})", re.IGNORECASE)


def bare_numeric_outputs(page: BeautifulSoup) -> list[str]:
    """The text of every cell output block (result or printed stream) that is only a number.

    Glued numbers in the prose (inline ``span.output``) are not cell outputs and never count.
    """
    found = []
    for output in page.select("div.cell_output div.output"):
        classes = output.get("class", [])
        if "text_plain" in classes or "stream" in classes:
            text = output.get_text().strip()
            if text and BARE_NUMBER.fullmatch(text):
                found.append(text)
    return found


@pytest.fixture(scope="module")
def pages():
    if not (HTML / "index.html").exists():
        pytest.fail("no _build/html/index.html: run `make book` first")
    return {f: BeautifulSoup((HTML / f"{f}.html").read_text(), "html.parser") for f in toc_files()}


def test_every_toc_entry_has_a_page(pages):
    assert (HTML / "index.html").exists()
    assert "book/01-confounding" in pages


@pytest.mark.parametrize("docname", CHAPTERS)
def test_colab_badge_opens_this_chapters_notebook(pages, docname):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    stem = docname.split("/")[-1]
    badges = pages[docname].select("p.colab-badge a")
    assert len(badges) == 1
    href = badges[0]["href"]
    assert href == colab_badge.colab_url(config["url"], config["branch"], stem)
    assert href.endswith(f"/notebooks/{stem}.ipynb")
    assert (ROOT / "notebooks" / f"{stem}.ipynb").exists()
    image = badges[0].find("img")["src"]
    assert not image.startswith(("http:", "https:", "//")), "the badge image must be served locally"
    assert (HTML / docname).parent.joinpath(image).resolve().exists()


@pytest.mark.parametrize("docname", CHAPTERS)
def test_a_chapter_with_a_practice_notebook_links_it_in_colab(pages, docname):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    stem = docname.split("/")[-1]
    links = [a["href"] for a in pages[docname].select("p.practice-badge a")]
    if not (ROOT / "notebooks" / "practice" / f"{stem}.ipynb").exists():
        assert links == []
    else:
        assert links == [colab_badge.colab_url(config["url"], config["branch"], stem, "notebooks/practice")]


def test_instructor_guide_links_every_practice_notebook(pages):
    hrefs = {a["href"] for a in pages["book/instructor"].find_all("a", href=True)}
    for notebook in sorted((ROOT / "notebooks" / "practice").glob("*.ipynb")):
        assert any(h.endswith(f"/notebooks/practice/{notebook.name}") for h in hrefs), notebook.name


@pytest.mark.parametrize("docname", CHAPTERS)
def test_pages_show_no_stderr_and_no_errors(pages, docname):
    page = pages[docname]
    assert not page.select(".output.stderr"), "a cell wrote to stderr"
    assert not page.select(".output.traceback")
    assert "Traceback (most recent call last)" not in page.get_text()
    assert "train_runtime" not in page.get_text(), "a trainer printed its logs into the page"


def test_images_are_local_files(pages):
    for docname, page in pages.items():
        for img in page.find_all("img"):
            src = img["src"]
            if src.startswith("data:"):
                continue
            assert not src.startswith(("http:", "https:", "//")), f"{docname}: remote image {src}"
            assert (HTML / docname).parent.joinpath(src).resolve().exists(), f"{docname}: {src} missing"


def test_lesson_figure_is_named_and_solutions_are_collapsed(pages):
    page = pages["book/01-confounding"]
    figure = page.find(id="fig-confounding-lesson")
    assert figure is not None and figure.find("img") is not None
    solutions = page.select(".solution")
    assert len(solutions) >= 3
    assert all("dropdown" in s.get("class", []) for s in solutions)
    assert len(page.select(".exercise")) >= 3


def test_status_page_has_the_cold_run_times_and_the_execution_table(pages):
    tables = pages["book/status"].find_all("table")
    cold = next(t for t in tables if "cold run time" in t.get_text())
    for tr in cold.select("tbody tr"):
        cells = [td.get_text(strip=True) for td in tr.find_all("td")]
        assert cells[1].endswith("min"), f"{tr.find('th').get_text()}: cold time {cells[1]!r}"
    assert any("01-confounding" in t.get_text() and t is not cold for t in tables), "no execution table"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_pages_hold_no_widget_state_or_widget_scripts(pages, docname):
    # The book shows static figures; widgets live in Colab/Jupyter (dclm.widgets.pair). Widget
    # state would pull the widget manager and require.js from public CDNs, breaking offline use.
    html = str(pages[docname])
    assert "application/vnd.jupyter.widget-state+json" not in html
    assert "application/vnd.jupyter.widget-view+json" not in html
    scripts = [s.get("src", "") for s in pages[docname].find_all("script")]
    assert not [s for s in scripts if "html-manager" in s or "require.js" in s]


@pytest.mark.parametrize("docname", [*CHAPTERS, "book/instructor", "book/results"])
def test_pages_show_no_bare_numeric_output(pages, docname):
    assert bare_numeric_outputs(pages[docname]) == [], "a cell ends in a value: end it with ; or assign it"


@pytest.mark.parametrize("docname", [*CHAPTERS, "book/instructor", "book/results"])
def test_pages_show_no_replacement_characters(pages, docname):
    # U+FFFD is what half a UTF-8 character decodes to: text shown without dclm.book.readable.
    text = pages[docname].get_text()
    assert "\ufffd" not in text, text[max(text.index("\ufffd") - 80, 0): text.index("\ufffd") + 20]


def _cell(output: str, kind: str = "text_plain") -> BeautifulSoup:
    return BeautifulSoup(f'<div class="cell docutils container"><div class="cell_output docutils container">'
                         f'<div class="output {kind} highlight-myst-ansi notranslate"><div class="highlight">'
                         f'<pre><span></span>{output}\n</pre></div></div></div></div>', "html.parser")


@pytest.mark.parametrize("output", ["2.49", "0.0", "np.float64(0.1)", "-3", "1e-05", "nan", "12,345",
                                    "numpy.int64(7)", '<span class="m">2.4912</span>'])
def test_bare_number_detector_flags_a_lone_number(output):
    assert bare_numeric_outputs(_cell(output)) != []
    assert bare_numeric_outputs(_cell(output, "stream")) != []


@pytest.mark.parametrize("output", ["naive: 2.49", "[0.1, 0.2]", "'tiny'", "(1, 2)", "estimate 0.0 (SE 0.1)"])
def test_bare_number_detector_passes_labelled_output(output):
    assert bare_numeric_outputs(_cell(output)) == []


def test_bare_number_detector_ignores_glued_numbers_in_prose():
    prose = BeautifulSoup('<p>The bias is <span class="output text_plain">2.49</span> bookings.</p>', "html.parser")
    assert bare_numeric_outputs(prose) == []


def test_the_intro_introduces_every_chapter(pages):
    items = " ".join(li.get_text(" ") for li in pages["book/intro"].select("section#what-you-will-learn li"))
    numbers = sorted(int(re.match(r"book/(\d\d)-", docname).group(1)) for docname in CHAPTERS)
    missing = [n for n in numbers if n and f"chapter {n}" not in items]
    assert not missing, f"the intro's list of what you will learn skips chapter(s) {missing}"


def test_the_instructor_plan_has_a_row_and_a_measured_time_for_every_chapter(pages):
    plan = pages["book/instructor"].find(string=re.compile("compute, tiny profile")).find_parent("table")
    rows = {tr.find("th").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in plan.select("tbody tr")}
    numbers = [str(int(re.match(r"book/(\d\d)-", docname).group(1))) for docname in CHAPTERS]
    for number in numbers:
        row = next((cells for label, cells in rows.items() if label.split()[0] == number), None)
        assert row is not None, f"the instructor plan has no row for chapter {number}: {sorted(rows)}"
        if number != "0":
            assert row[2].endswith("min"), f"chapter {number}'s compute time is {row[2]!r}"


def test_the_results_page_states_each_sources_scale(pages):
    table = pages["book/results"].find("table")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    scale = header.index("scale (ours; paper / re-run)")
    for tr in table.select("tbody tr"):
        cells = [td.get_text(strip=True) for td in tr.find_all("td")]
        assert cells[scale], f"no scale for {cells[1]!r}"
        if cells[header.index("paper (v1)")] != "—" and "sentiment" in cells[1]:
            assert "unknown" in cells[scale] or "not reported" in cells[scale], cells[scale]


@pytest.mark.parametrize("docname", [c for c in CHAPTERS if not c.endswith("00-setup")])
def test_the_chapters_sliders_work_on_the_website(pages, docname):
    sliders = pages[docname].select("div.dclm-slider")
    assert sliders, "the chapter's exploration must be on the website too, not only in Colab"
    for slider in sliders:
        assert slider.select("input[type=range]") and slider.select_one("script.dclm-slider-frames")
