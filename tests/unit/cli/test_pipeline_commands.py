"""`autotagger tag | search | stats | executions | dlq` on a temporary data dir."""

from __future__ import annotations

import json

import pytest

from autotagger.cli.pipeline_cmds import collect_files
from autotagger.errors import UserError


def test_GIVEN_a_folder_WHEN_collecting_THEN_its_images_are_keyed_under_the_folder_name(photos):
    keys = [key for _, key in collect_files([photos])]

    assert keys == ["photos/cat.png", "photos/pets/dog.JPG"]


def test_GIVEN_a_prefix_WHEN_collecting_a_file_THEN_the_key_is_prefix_plus_file_name(photos):
    assert [key for _, key in collect_files([photos / "cat.png"], "raw-image/")] == ["raw-image/cat.png"]


def test_GIVEN_two_files_with_one_name_WHEN_collecting_THEN_a_user_error_names_the_key(photos, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "cat.png").write_bytes(b"x")

    with pytest.raises(UserError, match="cat.png"):
        collect_files([photos / "cat.png", other / "cat.png"])


def test_GIVEN_a_missing_path_WHEN_tagging_THEN_one_error_line_and_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("tag", tmp_path / "nope.jpg", "--data-dir", tmp_path / "data")

    assert code == 2 and err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_GIVEN_a_folder_WHEN_tagging_THEN_a_table_lists_each_file_with_its_labels(
        run_cli, instant_pipelines, photos, tmp_path):
    code, out, _ = run_cli("tag", photos, "--data-dir", tmp_path / "data")

    assert code == 0
    rows = out.splitlines()[1:]
    assert any("cat.png" in r and "Cat 97.5" in r for r in rows) and any("dog.JPG" in r and "Dog 97.5" in r
                                                                          for r in rows)


def test_GIVEN_json_WHEN_tagging_THEN_stdout_is_only_the_json_results(run_cli, instant_pipelines, photos, tmp_path):
    code, out, _ = run_cli("tag", photos / "cat.png", "--json", "--data-dir", tmp_path / "data")

    [result] = json.loads(out)
    assert (result["key"], result["status"], "Cat" in result["tags"]) == ("cat.png", "tagged", True)


def test_GIVEN_a_file_that_is_no_image_WHEN_tagging_THEN_its_row_shows_the_reason_and_exit_1(
        run_cli, instant_pipelines, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")

    code, out, err = run_cli("tag", broken, "--data-dir", tmp_path / "data")

    assert code == 1 and "FAILED UnsupportedImageFormat" in out and "dlq list" in err


def test_GIVEN_tagged_files_WHEN_searching_a_tag_THEN_only_matching_keys_are_listed(
        run_cli, instant_pipelines, photos, tmp_path):
    run_cli("tag", photos, "--data-dir", tmp_path / "data")

    code, out, _ = run_cli("search", "--tag", "Dog", "--data-dir", tmp_path / "data")

    assert code == 0 and "photos/pets/dog.JPG" in out and "photos/cat.png" not in out


def test_GIVEN_more_matches_than_the_limit_WHEN_searching_page_by_page_with_the_cursor_THEN_each_key_once(
        run_cli, instant_pipelines, photos, tmp_path):
    run_cli("tag", photos, "--data-dir", tmp_path / "data")
    _, everything, _ = run_cli("search", "--data-dir", tmp_path / "data", "--json")
    keys, cursor = [], []
    while True:
        code, out, err = run_cli("search", "--limit", "1", *cursor, "--data-dir", tmp_path / "data")
        keys += [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
        if "--cursor" not in err:
            break
        cursor = ["--cursor", err.split("--cursor ", 1)[1].split()[0]]

    assert code == 0 and sorted(keys) == sorted(d["key"] for d in json.loads(everything)["images"])
    assert len(keys) == len(set(keys)) >= 2


def test_GIVEN_a_cursor_it_never_printed_WHEN_searching_THEN_a_user_error(run_cli, instant_pipelines, photos,
                                                                           tmp_path):
    run_cli("tag", photos, "--data-dir", tmp_path / "data")

    code, _, err = run_cli("search", "--cursor", "garbage", "--data-dir", tmp_path / "data")

    assert code == 2 and "--cursor" in err


def test_GIVEN_no_data_dir_WHEN_searching_THEN_one_error_line_and_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("search", "--tag", "Dog", "--data-dir", tmp_path / "nothing-here")

    assert code == 2 and "no data directory" in err


def test_GIVEN_a_confidence_over_100_WHEN_searching_THEN_a_user_error(run_cli, instant_pipelines, photos, tmp_path):
    run_cli("tag", photos, "--data-dir", tmp_path / "data")

    code, _, err = run_cli("search", "--min-confidence", "120", "--data-dir", tmp_path / "data")

    assert code == 2 and "between 0 and 100" in err


def test_GIVEN_tagged_files_WHEN_asking_stats_THEN_counts_and_top_tags_are_printed(
        run_cli, instant_pipelines, photos, tmp_path):
    run_cli("tag", photos, "--data-dir", tmp_path / "data")

    code, out, _ = run_cli("stats", "--data-dir", tmp_path / "data")

    assert code == 0 and "images indexed: 2" in out and "Mammal" in out


@pytest.fixture
def failed_run(run_cli, instant_pipelines, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"junk")
    run_cli("tag", broken, "--data-dir", tmp_path / "data")
    return tmp_path / "data"


def test_GIVEN_a_failed_file_WHEN_listing_failed_executions_THEN_it_is_listed_with_its_error(run_cli, failed_run):
    code, out, _ = run_cli("executions", "list", "--status", "failed", "--data-dir", failed_run)

    assert code == 0 and "FAILED" in out and "UnsupportedImageFormat" in out


def test_GIVEN_a_failed_execution_WHEN_shown_THEN_the_failing_state_and_history_are_printed(run_cli, failed_run):
    _, listing, _ = run_cli("executions", "list", "--json", "--data-dir", failed_run)
    name = json.loads(listing)[0]["name"]

    code, out, _ = run_cli("executions", "show", name, "--data-dir", failed_run)

    assert code == 0 and "failed in state: Normalize" in out and "TaskFailed" in out


def test_GIVEN_an_unknown_execution_WHEN_shown_THEN_one_error_line_and_exit_2(run_cli, failed_run):
    code, _, err = run_cli("executions", "show", "nope", "--data-dir", failed_run)

    assert code == 2 and "no execution 'nope'" in err


def test_GIVEN_a_failed_file_WHEN_listing_dead_letters_THEN_the_key_and_reason_are_printed(run_cli, failed_run):
    code, out, _ = run_cli("dlq", "list", "--data-dir", failed_run)

    assert code == 0 and "broken.png" in out and "UnsupportedImageFormat" in out


def test_GIVEN_a_fixed_object_WHEN_redriving_its_dead_letter_THEN_it_is_tagged(
        run_cli, failed_run, instant_pipelines, tiny_png):
    from autotagger.config import Settings
    from autotagger.local.stores import LocalStores

    stores = LocalStores(Settings(data_dir=failed_run))
    stores.bucket.put("broken.png", tiny_png, "image/png")  # the object is fixed in place
    [letter] = stores.dead_letters()["workflow"]
    stores.close()

    code, out, _ = run_cli("dlq", "redrive", letter["message_id"], "--data-dir", failed_run)
    _, found, _ = run_cli("search", "--tag", "Cat", "--data-dir", failed_run)

    assert code == 0 and f"redriven {letter['message_id']}" in out and "broken.png" in found


def test_GIVEN_an_unknown_message_WHEN_redriving_THEN_it_is_reported_and_exit_1(run_cli, failed_run):
    code, _, err = run_cli("dlq", "redrive", "no-such-id", "--data-dir", failed_run)

    assert code == 1 and "no dead letter no-such-id" in err


def test_GIVEN_a_prefix_making_the_key_too_long_WHEN_tagging_THEN_one_error_line_and_exit_2(
        run_cli, instant_pipelines, photos, tmp_path):
    code, _, err = run_cli("tag", photos / "cat.png", "--prefix", "p" * 1100, "--data-dir", tmp_path / "data")

    assert code == 2 and "1024" in err and "Traceback" not in err


def test_GIVEN_a_data_dir_that_is_a_file_WHEN_tagging_THEN_one_error_line_and_exit_2(run_cli, photos, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")

    code, _, err = run_cli("tag", photos / "cat.png", "--data-dir", not_a_dir)

    assert code == 2 and "cannot use the data directory" in err and "Traceback" not in err
