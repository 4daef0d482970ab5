"""The drop-folder plan: two listings in, what becomes a job out (tables)."""

from __future__ import annotations

import pytest

from workers.intake.watch_plan import Entry, SidecarFile, marker_key, plan


def listing(*entries: tuple[str, int, str]) -> dict[str, Entry]:
    return {key: Entry(key, size, etag) for key, size, etag in entries}


EP1 = ("ep1.mp4", 1000, "e1")
SUBS = (("ep1.en.srt", 10, "s1"), ("ep1.pt-br.vtt", 11, "s2"), ("ep1.ko.ass", 12, "s3"))


def test_master_alone_is_ready_on_the_second_listing() -> None:
    first = plan(None, listing(EP1))
    assert first.ready == () and first.waiting == ("ep1.mp4",)
    second = plan(listing(EP1), listing(EP1))
    assert [(r.name, r.master.key, r.sidecars) for r in second.ready] == [("ep1", "ep1.mp4", ())]
    assert second.ready[0].marker == marker_key("ep1", Entry(*EP1))


def test_master_and_three_sidecars_make_one_job() -> None:
    both = listing(EP1, *SUBS)
    (ready,) = plan(both, both).ready
    assert ready.sidecars == (SidecarFile("en", "ep1.en.srt"), SidecarFile("ko", "ep1.ko.ass"),
                              SidecarFile("pt-BR", "ep1.pt-br.vtt"))


def test_sidecar_without_master_waits_as_an_orphan() -> None:
    only = listing(("ep2.fr.srt", 5, "x"))
    decided = plan(only, only)
    assert decided.ready == () and decided.orphans == ("ep2.fr.srt",)


@pytest.mark.parametrize(("key", "why"), [
    ("my episode.mp4", "unsafe name"),
    ("-rf.mp4", "unsafe name"),
    ("ep1.srt", "needs a language"),
    ("ep1.klingon!.srt", "unsafe name"),
    ("ep1.x1.srt", "sidecar language"),
    ("notes.txt", "neither a master"),
    ("README", "no extension"),
    ("ép1.mp4", "unsafe name"),
])
def test_weird_names_are_rejected_with_a_reason(key: str, why: str) -> None:
    current = listing(EP1, (key, 3, "w"))
    decided = plan(current, current)
    assert [r.master.key for r in decided.ready] == ["ep1.mp4"]
    assert [k for k, _ in decided.rejected] == [key]
    assert why in decided.rejected[0][1]


def test_master_still_growing_waits() -> None:
    decided = plan(listing(("ep1.mp4", 500, "a")), listing(("ep1.mp4", 900, "b")))
    assert decided.ready == () and decided.waiting == ("ep1.mp4",)


def test_empty_master_waits() -> None:
    empty = listing(("ep1.mp4", 0, "z"))
    assert plan(empty, empty).waiting == ("ep1.mp4",)


def test_sidecar_still_changing_holds_the_master_back() -> None:
    decided = plan(listing(EP1, ("ep1.en.srt", 5, "a")), listing(EP1, ("ep1.en.srt", 9, "b")))
    assert decided.ready == () and decided.waiting == ("ep1.mp4",)


def test_marker_means_done_and_reupload_with_other_content_is_a_new_job() -> None:
    marker = marker_key("ep1", Entry(*EP1))
    done = listing(EP1, (marker, 100, "m"))
    assert plan(done, done).ready == () and plan(done, done).done == ("ep1.mp4",)
    reuploaded = listing(("ep1.mp4", 2000, "e2"), (marker, 100, "m"))
    (ready,) = plan(reuploaded, reuploaded).ready
    assert ready.marker != marker and ready.master.etag == "e2"


def test_duplicate_language_keeps_the_first_sidecar() -> None:
    current = listing(EP1, ("ep1.en.srt", 1, "a"), ("ep1.en.vtt", 1, "b"))
    decided = plan(current, current)
    assert decided.ready[0].sidecars == (SidecarFile("en", "ep1.en.srt"),)
    assert [k for k, _ in decided.rejected] == ["ep1.en.vtt"]


def test_nested_folders_group_by_folder() -> None:
    current = listing(("show/ep1.mov", 5, "a"), ("show/ep1.en.srt", 1, "b"), ("ep1.en.srt", 1, "c"))
    decided = plan(current, current)
    assert [(r.name, r.sidecars) for r in decided.ready] == [("show/ep1", (SidecarFile("en", "show/ep1.en.srt"),))]
    assert decided.orphans == ("ep1.en.srt",)


def test_forced_and_sdh_sidecars_are_their_own_tracks() -> None:
    files = listing(EP1, ("ep1.en.srt", 10, "a"), ("ep1.en.forced.srt", 11, "b"), ("ep1.en.sdh.vtt", 12, "c"),
                    ("ep1.en.FORCED.ass", 13, "d"))
    decided = plan(files, files)
    (ready,) = decided.ready
    assert ready.sidecars == (SidecarFile("en", "ep1.en.srt"), SidecarFile("en", "ep1.en.FORCED.ass", forced=True),
                              SidecarFile("en", "ep1.en.sdh.vtt", sdh=True))
    assert [s.track for s in ready.sidecars] == ["en", "en-forced", "en-sdh"]
    assert decided.rejected == (("ep1.en.forced.srt", "ep1.en.FORCED.ass is the en-forced sidecar of 'ep1'; "
                                                      "this one is not used"),)


def test_scc_caption_sidecar_joins_its_master() -> None:
    both = listing(EP1, ("ep1.en.scc", 40, "c1"))
    (ready,) = plan(both, both).ready
    assert ready.sidecars == (SidecarFile("en", "ep1.en.scc"),)
