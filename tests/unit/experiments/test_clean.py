"""`dclm clean` removes the checkpoints of completed runs and keeps those a re-run resumes from."""

import json

from dclm import cli
from dclm.experiments import RUN_FILE, clean, finished_work_folders, run


def _work(folder, finished):
    folder.mkdir(parents=True)
    (folder / "checkpoint.bin").write_bytes(b"x" * 2048)
    record = {"experiment": "monday", "key": folder.name, "config": {}}
    (folder / RUN_FILE).write_text(json.dumps({**record, **({"finished": True} if finished else {})}))
    return folder


def test_finished_folders_go_and_killed_ones_stay(isolated_cache, tmp_path, capsys):
    done = _work(isolated_cache / "monday" / "a.work", finished=True)
    killed = _work(isolated_cache / "monday" / "b.work", finished=False)
    out_done = _work(tmp_path / "out" / "work" / "c", finished=True)
    entry = isolated_cache / "monday" / "a.json"
    entry.write_text("{}")
    assert finished_work_folders() == [done]
    assert {p for p, _ in clean((tmp_path / "out",), dry_run=True)} == {done, out_done}
    assert done.exists() and out_done.exists()
    assert cli.main(["clean", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "removed 2 work folder(s)" in printed and str(out_done) in printed
    assert not done.exists() and not out_done.exists()
    assert killed.exists() and entry.exists()  # resumable checkpoints and cached results stay


def test_a_completed_run_marks_its_work_folder(isolated_cache, tmp_path, monkeypatch):
    import dclm.experiments as experiments

    monkeypatch.setattr(experiments, "_prune", lambda work: None)  # keep the folder to look at it
    run("confounding", seed=0, overrides={"n": "200", "sweep_n": "100"}, work_dir=tmp_path / "work")
    (folder,) = (tmp_path / "work").iterdir()
    assert json.loads((folder / RUN_FILE).read_text())["finished"] is True
    assert [p for p, _ in clean((tmp_path,))] == [folder]


def test_clean_names_an_out_that_is_not_a_folder(tmp_path, capsys):
    assert cli.main(["clean", "--out", str(tmp_path / "nothing")]) == 2
    assert "--out" in capsys.readouterr().err


def test_a_folder_reused_by_a_new_attempt_is_no_longer_finished(isolated_cache, tmp_path):
    from dclm.experiments import work_folder

    folder = _work(tmp_path / "work" / "k", finished=True)
    assert work_folder("monday", "k", {}, tmp_path / "work") == folder
    assert finished_work_folders((tmp_path,)) == []
