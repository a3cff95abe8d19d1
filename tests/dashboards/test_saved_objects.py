"""The saved objects are consistent with each other and with the index template they chart."""

from __future__ import annotations

import fnmatch
import json

from saved_objects_support import TEMPLATE, search_source, template_fields, vis_state

from autotagger.contracts import MODERATION_THRESHOLD

# The aggregation types OpenSearch Dashboards can run on a field, by the field's mapping type.
AGGREGATABLE = {"terms": {"keyword", "boolean", "long", "integer", "float", "date"}, "date_histogram": {"date"}}


def test_GIVEN_the_visualizations_WHEN_their_aggregations_are_read_THEN_each_field_exists_in_the_template_with_an_aggregatable_type(visualizations):
    fields = template_fields()
    used = []
    for visualization in visualizations:
        for agg in vis_state(visualization)["aggs"]:
            field = agg["params"].get("field")
            if field is None:
                continue
            used.append(field)
            assert field in fields, f"{visualization['id']}: {field} is not in {TEMPLATE.name}"
            assert fields[field] in AGGREGATABLE[agg["type"]], f"{visualization['id']}: {agg['type']} on a {fields[field]} field"
    assert "tags" in used


def test_GIVEN_the_index_pattern_WHEN_compared_with_the_template_THEN_it_matches_its_index_and_its_time_field_is_a_date(saved_objects):
    template = json.loads(TEMPLATE.read_text())
    (pattern,) = [o for o in saved_objects if o["type"] == "index-pattern"]
    assert pattern["attributes"]["title"] == "image_insights"
    assert any(fnmatch.fnmatch("image_insights", p) for p in template["index_patterns"])
    assert template_fields()[pattern["attributes"]["timeFieldName"]] == "date"


def test_GIVEN_the_tag_visualizations_WHEN_listed_THEN_image_count_tag_cloud_tag_count_and_pie_chart_chart_the_tags_field(visualizations):
    by_title = {v["attributes"]["title"]: vis_state(v) for v in visualizations}
    assert by_title["Image count"]["type"] == "metric"
    assert [a["type"] for a in by_title["Image count"]["aggs"]] == ["count"]
    for title, vis_type in (("Tag cloud", "tagcloud"), ("Tag count", "horizontal_bar"), ("Tag pie chart", "pie")):
        state = by_title[title]
        assert state["type"] == vis_type
        assert [(a["type"], a["params"].get("field")) for a in state["aggs"]] == [("count", None), ("terms", "tags")]


def test_GIVEN_the_saved_objects_WHEN_references_are_followed_THEN_each_resolves_to_an_object_in_the_files(saved_objects):
    ids = {(o["type"], o["id"]) for o in saved_objects}
    assert len(ids) == len(saved_objects), "duplicate ids"
    for saved_object in saved_objects:
        for reference in saved_object["references"]:
            assert (reference["type"], reference["id"]) in ids, f"{saved_object['id']} -> {reference}"
    for visualization in (o for o in saved_objects if o["type"] == "visualization"):
        ref_name = search_source(visualization)["indexRefName"]
        assert [r["type"] for r in visualization["references"] if r["name"] == ref_name] == ["index-pattern"]


def test_GIVEN_the_dashboard_WHEN_its_panels_are_read_THEN_it_holds_every_visualization_and_saved_search_once(
        saved_objects):
    (dashboard,) = [o for o in saved_objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    references = {r["name"]: r["id"] for r in dashboard["references"]}
    shown = [references[panel["panelRefName"]] for panel in panels]
    assert sorted(shown) == sorted(o["id"] for o in saved_objects if o["type"] in ("visualization", "search"))
    for panel in panels:
        grid = panel["gridData"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 48 and grid["h"] > 0


def test_GIVEN_the_moderation_chart_WHEN_its_filters_are_read_THEN_flagged_is_the_contracts_threshold_and_the_slices_cover_every_image(
        visualizations):
    (chart,) = [v for v in visualizations if v["attributes"]["title"] == "Moderation: flagged and safe"]
    (filters,) = [a["params"]["filters"] for a in vis_state(chart)["aggs"] if a["type"] == "filters"]
    threshold = f"{MODERATION_THRESHOLD:g}"
    assert [(f["label"], f["input"]["query"]) for f in filters] == [
        ("Flagged", f"moderation.max_confidence >= {threshold}"), ("Safe", f"moderation.max_confidence < {threshold}"),
        ("Not analysed", "NOT moderation.max_confidence:*")]
    assert template_fields()["moderation.max_confidence"] == "float"
    assert f"threshold ({threshold}," in chart["attributes"]["description"]


def test_GIVEN_the_text_search_WHEN_read_THEN_it_queries_the_analysed_text_field_and_shows_fields_of_the_template(
        saved_objects):
    (search,) = [o for o in saved_objects if o["type"] == "search"]
    assert search["attributes"]["title"] == "Text in images"
    assert search_source(search)["query"] == {"query": "NOT deleted:true AND text:*", "language": "kuery"}
    fields = template_fields()
    assert fields["text"] == "text"  # analysed: text:harbour matches HARBOUR, word by word
    assert all(column in fields for column in search["attributes"]["columns"])
    assert all(fields[name] == "date" for name, _ in search["attributes"]["sort"])
