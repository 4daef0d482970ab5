"""Contract tests over every endpoint and error of a real `vodfleet api` process (uvicorn) in front of a real
fleet (SeaweedFS, a worker): each response's status is declared in the OpenAPI document and its JSON body fits the
declared schema; errors carry the stable codes of docs/errors.md and name the refused field."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from apikit import DRAFT, ApiFleet, upload, wait_job
from mediagen import make_source
from openapi_check import OpenApiCheck

pytestmark = [pytest.mark.fleet, pytest.mark.media]


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("api-master") / "pilot.mp4", width=320, height=180, duration=2)


@pytest.fixture(scope="module")
def uploaded(api_fleet: ApiFleet, master: Path) -> dict[str, Any]:
    with api_fleet.client("a") as c:
        return upload(c, master)


@pytest.fixture(scope="module")
def published_job(api_fleet: ApiFleet, uploaded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory,
                  openapi: OpenApiCheck) -> dict[str, Any]:
    """One job published through the API: the uploaded master and a Korean SRT (CP949) uploaded the same way."""
    folder = tmp_path_factory.mktemp("api-subs")
    srt = folder / "pilot.ko.srt"
    srt.write_bytes("1\n00:00:00,200 --> 00:00:01,500\n안녕하세요\n\n".encode("cp949"))
    with api_fleet.client("a") as c:
        sub = upload(c, srt)
        made = c.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-a/pilot",
                                     "subtitles": [{"language": "ko", "source": sub["source"]}], **DRAFT})
        openapi.check(made)
        assert made.status_code == 201, made.text
        return wait_job(c, made.json()["job_id"], {"published", "failed"})


def test_post_jobs_creates_then_finds_the_same_job(api_fleet: ApiFleet, uploaded: dict[str, Any],
                                                   openapi: OpenApiCheck) -> None:
    body = {"source": uploaded["source"], "output_prefix": "team-a/same", **DRAFT}
    with api_fleet.client("a") as c:
        first = c.post("/jobs", json=body)
        second = c.post("/jobs", json=body)
    assert first.status_code == 201 and openapi.check(first)["created"] is True
    assert second.status_code == 200 and openapi.check(second)["created"] is False
    assert first.json()["job_id"] == second.json()["job_id"]
    assert first.headers["location"] == f"/jobs/{first.json()['job_id']}"


def test_the_published_job_reads_back_everywhere(api_fleet: ApiFleet, published_job: dict[str, Any],
                                                 openapi: OpenApiCheck) -> None:
    assert published_job["state"] == "published", published_job
    assert published_job["published"]["title"] == "team-a/pilot"
    assert published_job["published"]["location"].endswith("/team-a/pilot/v0001")
    assert [h["state"] for h in published_job["history"]][-1] == "published"
    with api_fleet.client("a") as c:
        job = openapi.check(c.get(f"/jobs/{published_job['job_id']}"))
        title = openapi.check(c.get("/titles/team-a/pilot"))
        assert job["percent"] == 100.0
        assert title["live"] == "v0001" and title["versions"][0]["qc_passed"] is True
        version = title["versions"][0]
        assert version["renditions"] and version["job_id"] == published_job["job_id"]
        hls = httpx.get(version["hls"])  # presigned: no token, straight from S3
        assert hls.status_code == 200 and hls.text.startswith("#EXTM3U")
        play = version["play"]
        base = play.split("base=", 1)[1]
        master = c.get(f"{base}master.m3u8")
        assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        playlist = c.get(f"{base}{variant}")
        segment = next(line for line in playlist.text.splitlines() if line.endswith(".m4s"))
        folder = variant.rsplit("/", 1)[0]
        redirected = c.get(f"{base}{folder}/{segment}")
        assert redirected.status_code == 302  # media bytes never pass through the API
        assert httpx.get(redirected.headers["location"]).content[4:8] in (b"moof", b"styp")
        report = c.get(f"{base}report.json").json()
        assert report["renditions"]["subtitles"][0]["charset"] == "cp949"
        assert c.get("/play/forged.0000/master.m3u8").status_code == 404


def test_list_jobs_filters_and_pages(api_fleet: ApiFleet, published_job: dict[str, Any],
                                     uploaded: dict[str, Any], openapi: OpenApiCheck) -> None:
    with api_fleet.client("a") as c:
        for name in ("page1", "page2", "page3"):
            openapi.check(c.post("/jobs", json={"source": uploaded["source"], "output_prefix": f"team-a/{name}",
                                                "priority": 1, **DRAFT}))
        first = openapi.check(c.get("/jobs", params={"limit": 2}))
        assert len(first["jobs"]) == 2 and first["next_cursor"]
        second = openapi.check(c.get("/jobs", params={"limit": 2, "cursor": first["next_cursor"]}))
        ids = [j["job_id"] for j in first["jobs"] + second["jobs"]]
        assert len(ids) == len(set(ids))
        published = openapi.check(c.get("/jobs", params={"state": "published", "prefix": "team-a/pilot"}))
        assert [j["job_id"] for j in published["jobs"]] == [published_job["job_id"]]
        assert openapi.check(c.get("/jobs", params={"since": 4e9}))["jobs"] == []
        bad = c.get("/jobs", params={"state": "exploded"})
        assert openapi.check(bad)["error"]["field"] == "query.state"
        assert openapi.check(c.get("/jobs", params={"cursor": "!!"}))["error"]["code"] == "request_invalid"


def test_cancel_and_retry(api_fleet: ApiFleet, uploaded: dict[str, Any], openapi: OpenApiCheck) -> None:
    with api_fleet.client("a") as c:
        made = openapi.check(c.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-a/cancel",
                                                   "chunks": 1, **DRAFT}))
        cancelled = openapi.check(c.post(f"/jobs/{made['job_id']}/cancel"))
        assert cancelled["cancel_requested"] is True
        done = wait_job(c, made["job_id"], {"cancelled", "published"})
        if done["state"] == "cancelled":
            again = c.post(f"/jobs/{made['job_id']}/retry")
            assert again.status_code == 201
            retried = openapi.check(again)
            assert retried["job_id"] != made["job_id"] and retried["created"] is True
        running = openapi.check(c.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-a/cancel2",
                                                      **DRAFT}))
        refused = c.post(f"/jobs/{running['job_id']}/retry")
        if running["state"] not in ("failed", "cancelled"):
            assert openapi.check(refused)["error"]["field"] == "path.job_id"


def test_validation_errors_name_the_field(api_fleet: ApiFleet, uploaded: dict[str, Any],
                                          openapi: OpenApiCheck) -> None:
    cases = [
        ({"source": uploaded["source"], "priority": 12}, "body.priority", "request_invalid"),
        ({"source": uploaded["source"], "subtitles": [{"language": "../x", "source": uploaded["source"]}]},
         "body.subtitles.0.language", "request_invalid"),
        ({"source": uploaded["source"], "ladder": "giant"}, "body.ladder", "request_invalid"),
        ({"source": uploaded["source"], "target_vmaf": 92}, "body.target_vmaf", "request_invalid"),  # not per-title
        ({"source": uploaded["source"], "ladder": "per-title", "target_vmaf": 120}, "body.target_vmaf",
         "request_invalid"),
        ({"source": uploaded["source"], "surprise": 1}, "body.surprise", "request_invalid"),
        ({"source": "team-a/nothing-here.mp4"}, "body.source", "object_not_found"),
        ({"source": "upload:up_00000000"}, "body.source", "not_found"),
        ({"source": uploaded["source"], "surround": "loud"}, "body.surround", "request_invalid"),
        ({"source": uploaded["source"], "codecs": ["h264", "mpeg2"]}, "body.codecs", "request_invalid"),
        ({"source": uploaded["source"], "captions": "burnt-in"}, "body.captions", "request_invalid"),
        ({"source": uploaded["source"], "caption_languages": ["CC9=es"]}, "body.caption_languages",
         "request_invalid"),
        ({"source": uploaded["source"], "thumbnails": {"interval": -1}}, "body.thumbnails", "request_invalid"),
        ({"source": uploaded["source"], "audio_map": ["x=="]}, "body.audio_map", "request_invalid"),
        ({"source": uploaded["source"], "dash_vtt_sidecar": "maybe"}, "body.dash_vtt_sidecar", "request_invalid"),
        ({"source": uploaded["source"], "loudness": "loudest"}, "body.loudness", "request_invalid"),
        ({"source": uploaded["source"], "webhook": "http://127.0.0.1:9/hook"}, "body.webhook", "request_invalid"),
    ]
    with api_fleet.client("a") as c:
        for body, field, code in cases:
            answer = c.post("/jobs", json=body)
            error = openapi.check(answer)["error"]
            assert (error["code"], error.get("field")) == (code, field), (body, error)
            assert error["message"] and error["hint"]
        bad_json = c.post("/jobs", content=b'{"source": ,}', headers={"Content-Type": "application/json"})
        error = openapi.check(bad_json)["error"]
        assert (error["code"], error["field"]) == ("request_invalid", "body"), error
        assert "malformed JSON at offset 11" in error["message"], error
        korean = c.post("/jobs", json={"source": uploaded["source"], "subtitles": [
            {"language": "korean!", "source": uploaded["source"]}]})
        error = openapi.check(korean)["error"]
        assert error["field"] == "body.subtitles.0.language" and "<language>" not in error["message"], error
        assert "'korean!' is not a BCP-47 tag" in error["message"], error


def _code_field(openapi: OpenApiCheck, answer: httpx.Response) -> tuple[str, str | None]:
    error = openapi.check(answer)["error"]
    assert error["message"] and error["hint"], error
    return error["code"], error.get("field")


def test_job_options_of_the_cli_reach_the_stored_spec(api_fleet: ApiFleet, uploaded: dict[str, Any],
                                                      openapi: OpenApiCheck) -> None:
    """Every job option `vodfleet submit` has, sent through POST /jobs, is in the stored JobSpec as given."""
    options = {"surround": True, "codecs": ["h264", "hevc"], "captions": "both", "caption_languages": ["CC3=es"],
               "thumbnails": {"interval": 5.0, "width": 160, "columns": 4, "rows": 4, "enabled": True},
               "audio_map": ["1=en:main"], "dash_vtt_sidecar": True, "loudness": "atsc-a85",
               "ladder": "per-title", "target_vmaf": 90.0}
    with api_fleet.client("a") as c:
        made = c.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-a/options", **DRAFT,
                                     **options})
        assert made.status_code == 201, made.text
        job = openapi.check(made)["job_id"]
        openapi.check(c.post(f"/jobs/{job}/cancel"))  # only its spec is wanted here
    shown = api_fleet.cli("status", job, "--json")
    assert shown.returncode == 0, shown.stderr
    spec = json.loads(shown.stdout)["spec"]
    expected = {**options, "audio_map": ["1=en:main"], "caption_languages": ["CC3=es"]}
    assert {name: spec[name] for name in expected} == expected


def test_tokens_scope_teams_and_read_only(api_fleet: ApiFleet, published_job: dict[str, Any],
                                          uploaded: dict[str, Any], openapi: OpenApiCheck) -> None:
    job = published_job["job_id"]
    with api_fleet.client() as anonymous:
        assert openapi.check(anonymous.get("/jobs"))["error"]["code"] == "token_missing"
        forged = anonymous.get("/jobs", headers={"Authorization": "Bearer vft_not-a-token"})
        assert openapi.check(forged)["error"]["code"] == "token_invalid"
        assert anonymous.get("/jobs", params={"token": api_fleet.tokens["a"]}).status_code == 401  # never in URLs
    with api_fleet.client("b") as b:
        assert openapi.check(b.get(f"/jobs/{job}")).get("error", {}).get("code") == "job_not_found"
        assert job not in {j["job_id"] for j in openapi.check(b.get("/jobs"))["jobs"]}
        assert openapi.check(b.get("/titles/team-a/pilot"))["error"]["code"] == "token_scope_denied"
        assert openapi.check(b.post(f"/jobs/{job}/cancel"))["error"]["code"] == "job_not_found"
        into_a = b.post("/jobs", json={"source": "masters/x.mp4", "output_prefix": "team-a/stolen", **DRAFT})
        assert _code_field(openapi, into_a) == ("token_scope_denied", "body.output_prefix")
        # team A's upload published into team A's prefix: the prefix is refused first (403, not 404)
        stolen = b.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-a/stolen", **DRAFT})
        assert _code_field(openapi, stolen) == ("token_scope_denied", "body.output_prefix")
        theirs = b.post("/jobs", json={"source": uploaded["source"], **DRAFT})  # team A's upload
        assert _code_field(openapi, theirs) == ("not_found", "body.source")
        other_key = b.post("/jobs", json={"source": uploaded["source"].replace("upload:", ""), **DRAFT})
        assert _code_field(openapi, other_key) == ("token_scope_denied", "body.source")
        their_sub = b.post("/jobs", json={"source": "team-b/x.mp4", "subtitles": [
            {"language": "ko", "source": "team-a/pilot.ko.srt"}], **DRAFT})
        assert _code_field(openapi, their_sub)[0] in ("token_scope_denied", "object_not_found")
        published = f"s3://vodfleet-test/{api_fleet.prefix}/team-a/pilot/v0001/video/234p/init.mp4"
        assert openapi.check(b.post("/jobs", json={"source": published, **DRAFT}))["error"]["code"] == \
            "token_scope_denied"  # team A's output through an s3:// URI into the fleet's own bucket
        elsewhere = b.post("/jobs", json={"source": "s3://another-bucket/ep.mov", **DRAFT})
        assert openapi.check(elsewhere)["error"]["code"] == "token_scope_denied"  # not in VODFLEET_API_SOURCE_BUCKETS
    with api_fleet.client("a_read") as reader:
        me = openapi.check(reader.get("/token"))
        assert (me["prefixes"], me["scope"]) == (["team-a"], "read") and me["token_id"].startswith("tok_")
        assert openapi.check(reader.get(f"/jobs/{job}"))["job_id"] == job
        refused = reader.post("/jobs", json={"source": uploaded["source"], **DRAFT})
        assert openapi.check(refused)["error"]["code"] == "token_scope_denied"
        assert openapi.check(reader.post("/uploads", json={"filename": "a.mp4", "size": 1}))["error"]["code"] == \
            "token_scope_denied"
    with api_fleet.client("a") as a:  # publishing outside its own prefixes
        out = a.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-b/x", **DRAFT})
        assert _code_field(openapi, out) == ("token_scope_denied", "body.output_prefix")
        near = a.post("/jobs", json={"source": uploaded["source"], "output_prefix": "team-ab/x", **DRAFT})
        assert openapi.check(near)["error"]["code"] == "token_scope_denied"


def test_revoked_token_is_refused(api_fleet: ApiFleet) -> None:
    secret = api_fleet.token("team-c/", "read")
    with api_fleet.client() as c:
        headers = {"Authorization": f"Bearer {secret}"}
        assert c.get("/jobs", headers=headers).status_code == 200
        listed = api_fleet.cli("token", "list")
        assert secret not in listed.stdout and "team-c" in listed.stdout
        token_id = next(line.split()[0] for line in listed.stdout.splitlines() if "team-c" in line)
        assert api_fleet.cli("token", "revoke", token_id).returncode == 0
        assert c.get("/jobs", headers=headers).json()["error"]["code"] == "token_invalid"
    assert secret not in api_fleet.logs()


def test_idempotency_key_twenty_concurrent_requests_make_one_job(api_fleet: ApiFleet, uploaded: dict[str, Any],
                                                                 openapi: OpenApiCheck) -> None:
    body = {"source": uploaded["source"], "output_prefix": "team-a/idem", "force": True, **DRAFT}
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def post() -> None:
        with api_fleet.client("a") as c:
            answer = c.post("/jobs", json=body, headers={"Idempotency-Key": "cms-42"})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201], [a.text for a in answers]
    assert len({openapi.check(a)["job_id"] for a in answers}) == 1  # force=True: without the key, 20 revisions
    with api_fleet.client("a") as c:
        again = c.post("/jobs", json=body, headers={"Idempotency-Key": "cms-42"})
        assert again.headers["idempotent-replayed"] == "true"
        other = c.post("/jobs", json={**body, "priority": 9}, headers={"Idempotency-Key": "cms-42"})
        assert other.status_code == 409 and openapi.check(other)["error"]["code"] == "idempotency_conflict"
        jobs = c.get("/jobs", params={"prefix": "team-a/idem"}).json()["jobs"]
        assert len(jobs) == 1


def test_rate_limit_answers_429_with_retry_after(api_fleet: ApiFleet, uploaded: dict[str, Any],
                                                 openapi: OpenApiCheck) -> None:
    secret = api_fleet.token("team-r/", "submit")
    with api_fleet.client() as c:
        headers = {"Authorization": f"Bearer {secret}"}
        started = time.monotonic()
        codes = [c.post("/jobs", headers=headers, json={"source": "masters/none.mp4", **DRAFT}) for _ in range(45)]
        elapsed = time.monotonic() - started
    limited = [r for r in codes if r.status_code == 429]
    allowed = 30 + 30 / 60 * elapsed  # VODFLEET_API_SUBMIT_BURST + _RATE per minute × the time it took
    assert len(codes) - len(limited) <= allowed + 1, ([r.status_code for r in codes], elapsed)
    assert limited, [r.status_code for r in codes]
    assert openapi.check(limited[0])["error"]["code"] == "rate_limited"
    assert int(limited[0].headers["retry-after"]) >= 1


def test_upload_resumes_from_the_parts_already_there(api_fleet: ApiFleet, tmp_path: Path,
                                                     openapi: OpenApiCheck) -> None:
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MiB: three 5 MiB parts
    path = tmp_path / "big.mov"
    path.write_bytes(data)
    with api_fleet.client("a") as c:
        first = upload(c, path, stop_after=1)  # interrupted after part 1
        early = c.post(f"/uploads/{first['upload_id']}/complete", json={})
        assert openapi.check(early)["error"]["field"] == "parts"
        resumed = openapi.check(c.get(f"/uploads/{first['upload_id']}"))
        assert [p["part_number"] for p in resumed["uploaded"]] == [1]
        assert [p["part_number"] for p in resumed["parts"]] == [2, 3]
        with httpx.Client(timeout=60) as s3:
            etags = [{"part_number": 1, "etag": resumed["uploaded"][0]["etag"], "size": 5 * 1024 * 1024}]
            for part in resumed["parts"]:
                put = s3.put(part["url"], content=data[part["offset"]:part["offset"] + part["size"]])
                etags.append({"part_number": part["part_number"], "etag": put.headers["etag"], "size": part["size"]})
        wrong = c.post(f"/uploads/{first['upload_id']}/complete",
                       json={"parts": [{**etags[0], "etag": '"00"'}, *etags[1:]]})
        assert openapi.check(wrong)["error"]["field"] == "body.parts"
        done = openapi.check(c.post(f"/uploads/{first['upload_id']}/complete", json={"parts": etags}))
        assert done["state"] == "complete" and done["parts"] == []
    key = f"{api_fleet.prefix}/uploads/{first['upload_id']}/big.mov"
    stored = api_fleet.s3.client().get_object(Bucket="vodfleet-test", Key=key)["Body"].read()  # type: ignore[attr-defined]
    assert stored == data
    with api_fleet.client("b") as b:
        assert openapi.check(b.get(f"/uploads/{first['upload_id']}"))["error"]["code"] == "not_found"


def test_subtitle_check_reads_charset_and_refuses_with_codes(api_fleet: ApiFleet, openapi: OpenApiCheck) -> None:
    srt = "1\n00:00:00,200 --> 00:00:01,500\n안녕하세요\n\n".encode("cp949")
    with api_fleet.client("a") as c:
        ok = openapi.check(c.post("/subtitles/check", params={"language": "ko", "filename": "a.srt"}, content=srt))
        assert (ok["charset"], ok["format"], ok["cues"]) == ("cp949", "srt", 1)
        wrong_language = c.post("/subtitles/check", params={"language": "ar", "filename": "a.srt"}, content=srt)
        assert openapi.check(wrong_language)["error"]["code"] == "subtitle_charset_unknown"
        bad_tag = c.post("/subtitles/check", params={"language": "../etc", "filename": "a.srt"}, content=srt)
        assert openapi.check(bad_tag)["error"]["code"] == "language_invalid"


def test_events_stream_and_resume_with_last_event_id(api_fleet: ApiFleet, published_job: dict[str, Any]) -> None:
    def first_event(headers: dict[str, str]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        with api_fleet.client("a") as c, c.stream("GET", "/events", headers=headers, timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            block: dict[str, str] = {}
            for line in stream.iter_lines():
                if line.startswith(("id:", "event:", "data:")):
                    name, _, value = line.partition(":")
                    block[name] = value.strip()
                elif not line and "data" in block:
                    events.append({**block, "job": json.loads(block["data"])})
                    block = {}
                    if len(events) >= 1:
                        return events
        return events

    everything = first_event({})
    assert everything and everything[0]["event"] == "job"
    last = f"{published_job['updated_at']:.6f}"
    resumed = first_event({"Last-Event-ID": last})
    assert all(float(e["id"]) >= float(last) for e in resumed)
    with api_fleet.client("b") as b, b.stream("GET", "/events", timeout=3) as stream:
        lines = []
        try:
            for line in stream.iter_lines():
                lines.append(line)
        except httpx.ReadTimeout:
            pass
    assert not any(published_job["job_id"] in line for line in lines)  # team B sees none of team A's jobs


def test_service_endpoints_and_unknown_paths(api_fleet: ApiFleet, openapi: OpenApiCheck) -> None:
    with api_fleet.client() as c:
        assert openapi.check(c.get("/healthz")) == {"status": "ok"}
        metrics = c.get("/metrics").text
        assert 'vodfleet_api_requests_total{method="POST",route="/jobs"' in metrics
        assert "vodfleet_api_request_seconds_bucket" in metrics
        assert c.get("/nowhere").json()["error"]["code"] == "not_found"
        assert c.delete("/jobs").json()["error"]["code"] == "method_not_allowed"
        assert c.get("/openapi.json").json()["info"]["title"] == "vodfleet API"


EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_part_checksum_refusals_name_the_field(api_fleet: ApiFleet, openapi: OpenApiCheck) -> None:
    """POST /uploads/{id}/parts (signing; S3 refusing a corrupted part: test_api_part_checksums.py)."""
    with api_fleet.client("a") as client:
        started = openapi.check(client.post("/uploads", json={"filename": "x.mov", "size": 6 * 1024 * 1024}))
        path = f"/uploads/{started['upload_id']}/parts"
        wrong = openapi.check(client.post(path, json={"parts": [{"part_number": 3, "sha256": EMPTY_SHA256}]}))
        assert wrong["error"]["field"] == "body.parts.0.part_number"
        bad = openapi.check(client.post(path, json={"parts": [{"part_number": 1, "sha256": "abc"}]}))
        assert bad["error"]["code"] == "request_invalid" and bad["error"]["field"] == "body.parts.0.sha256"
    with api_fleet.client("b") as other:
        hidden = openapi.check(other.post(path, json={"parts": [{"part_number": 1, "sha256": EMPTY_SHA256}]}))
        assert hidden["error"]["code"] == "not_found"


def test_every_declared_operation_was_exercised(openapi: OpenApiCheck) -> None:
    """Runs last in this module: every path+method of the document answered at least once above."""
    operations = {(m.upper(), p) for p, item in openapi.document["paths"].items() for m in item}
    exercised = {(m, p) for m, p, _ in openapi.seen}
    assert operations - exercised <= {("GET", "/events"), ("GET", "/metrics")}, operations - exercised
