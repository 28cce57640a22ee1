"""`stance serve`: endpoints, limits, micro-batching, isolation of bad input, auth, shutdown."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from stance.cli.main import app as cli_app  # noqa: E402
from stance.pipeline.scorer import ScoredSentence  # noqa: E402
from stance.run.local import score_collection  # noqa: E402
from stance.run.options import ScoreOptions  # noqa: E402
from stance.run.predict_stance import predict_stance_file  # noqa: E402
from stance.service import ItemError, MicroBatcher, QueueFullError, ServiceSettings, create_app  # noqa: E402
from tests.sample_articles import ARTICLES  # noqa: E402

LINES = [
    {"text": "Beijing hailed the deal.", "targets": [{"start": 0, "end": 7}], "id": 1},
    {"text": "Moscow and Kyiv traded blame.", "targets": [{"start": 0, "end": 6}, {"start": 11, "end": 15}], "id": 2},
]


# ----------------------------------------------------------------------------- helpers
class FakeScorer:
    """Records batch sizes; ``SLOW`` in a text sleeps, ``BOOM`` raises, ``gate`` holds every batch."""

    def __init__(self, model, *, delay: float = 1.0, gate: threading.Event | None = None) -> None:
        self.model = model
        self.delay = delay
        self.gate = gate
        self.batches: list[int] = []
        self.started = threading.Event()
        self.busy = False

    def score_articles(self, articles):
        self.batches.append(len(articles))
        self.busy = True
        self.started.set()
        try:
            if self.gate is not None:
                self.gate.wait(10)
            if any("SLOW" in a.text for a in articles):
                time.sleep(self.delay)
            if any("BOOM" in a.text for a in articles):
                raise RuntimeError("boom")
            return [[ScoredSentence(a.id, 0, 0, len(a.text), a.text, "body", False, (), (), a.meta)] for a in articles]
        finally:
            self.busy = False


@contextmanager
def serving(settings: ServiceSettings, scorer=None) -> Iterator[TestClient]:
    with TestClient(create_app(settings, scorer=scorer), raise_server_exceptions=False) as client:
        yield client


def fake_settings(**kw) -> ServiceSettings:
    return ServiceSettings(**{"model": "fake", "use_ner": False, "max_wait_ms": 0, **kw})


def art(i: int, text: str = "Beijing hailed the deal.", **kw) -> dict:
    return {"id": f"x{i}", "text": text, **kw}


def assert_error(response: httpx.Response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and body["message"], body
    return body


def assert_close(a, b, tol: float = 1e-3) -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=tol)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_close(a[k], b[k], tol)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_close(x, y, tol)
    else:
        assert a == b


@pytest.fixture(scope="module")
def client(tiny_model_dir) -> Iterator[TestClient]:
    """The real pipeline on the tiny model (registry actors only)."""
    with serving(ServiceSettings(model=str(tiny_model_dir), use_ner=False, max_wait_ms=20)) as c:
        yield c


# ----------------------------------------------------------------------------- endpoints
def test_score_rows_equal_the_batch_command(tmp_path, client, tiny_model_dir):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    score_collection([str(src)], tmp_path / "out.jsonl", ScoreOptions(model=str(tiny_model_dir), use_ner=False))
    expected = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]

    r = client.post("/v1/score", json={"articles": ARTICLES})
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == []
    assert r.json()["rows"] == expected  # identical, metadata as strings (JSON text for non-strings) included

    with ThreadPoolExecutor(3) as pool:  # one request per article, concurrently: the same rows (batching may differ)
        responses = list(pool.map(lambda a: client.post("/v1/score", json={"articles": [a]}), ARTICLES))
    assert_close([row for resp in responses for row in resp.json()["rows"]], expected)

    run = json.loads(next(tmp_path.glob("*.run.json")).read_text())
    assert client.get("/v1/model").json()["version"] == run["model"]["version"]


def test_score_defaults_id_to_position_and_keeps_metadata(client):
    r = client.post(
        "/v1/score", json={"articles": [{"text": "Beijing hailed the deal."}, {"text": "Moscow said no.", "outlet": "W", "n": 3}]}
    )
    rows = r.json()["rows"]
    assert [row["doc_id"] for row in rows] == ["0", "1"]
    assert rows[1]["outlet"] == "W" and rows[1]["n"] == "3"


def test_stance_endpoint_equals_predict_stance(tmp_path, client, tiny_model):
    src = tmp_path / "lines.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in LINES))
    predict_stance_file(tiny_model, src, tmp_path / "out.jsonl")
    expected = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    r = client.post("/v1/stance", json={"sentences": LINES})
    assert r.status_code == 200, r.text
    assert_close(r.json()["sentences"], expected, tol=1e-4)
    bad = client.post("/v1/stance", json={"sentences": [{"text": "Short.", "targets": [{"start": 0, "end": 60}]}]})
    assert "targets[0]" in assert_error(bad, 422, "validation_error")["message"]


def test_model_health_ready_docs(client):
    info = client.get("/v1/model").json()
    assert info["labels"]["stance"] == ["negative", "neutral", "positive"]
    assert info["labels"]["devices"] == ["loaded_language", "scare_quotes", "unsourced_claim"]
    names = {d["name"]: d for d in info["taxonomy"]}
    assert names["loaded_language"]["reported"] and not names["name_calling"]["reported"]
    assert info["version"] and info["metrics"] == {} and info["limits"]["max_article_chars"] == 100_000
    assert info["registry_version"] is None  # a plain directory, not a registry version
    assert info["backend"] in ("torch-bf16", "torch-fp32")  # auto: no agreement on record for onnx-int8
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" not in docs.text  # served by the app itself: works offline
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert {"/v1/score", "/v1/stance", "/v1/model"} <= set(client.get("/openapi.json").json()["paths"])
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.get("/v1/score"), 405, "method_not_allowed")


def test_not_ready_before_the_model_is_loaded(tiny_model):
    c = TestClient(create_app(fake_settings(), scorer=FakeScorer(tiny_model)))  # no `with`: the lifespan has not run
    r = c.get("/readyz")
    assert r.status_code == 503 and r.json() == {"status": "starting"}
    assert c.get("/healthz").status_code == 200
    assert assert_error(c.post("/v1/score", json={"articles": [art(0)]}), 503, "unavailable")


# ----------------------------------------------------------------------------- limits
def test_body_too_large(tiny_model):
    with serving(fake_settings(max_body_bytes=2000), FakeScorer(tiny_model)) as c:
        big = {"articles": [art(0, "word " * 1000)]}
        assert "limit is 2,000 bytes" in assert_error(c.post("/v1/score", json=big), 413, "payload_too_large")["message"]

        def chunks():  # no Content-Length: counted while reading
            for _ in range(10):
                yield b" " * 500

        assert_error(
            c.post("/v1/score", content=chunks(), headers={"content-type": "application/json"}), 413, "payload_too_large"
        )
        assert c.post("/v1/score", json={"articles": [art(1)]}).status_code == 200


def test_article_too_long_and_too_many_articles(tiny_model):
    with serving(fake_settings(max_article_chars=50, max_queue=4), FakeScorer(tiny_model)) as c:
        r = c.post("/v1/score", json={"articles": [art(0), art(1, "x" * 51)]})
        body = assert_error(r, 413, "article_too_long")
        assert body["detail"][0]["loc"] == ["body", "articles", 1, "text"] and "articles[1].text" in body["message"]
        assert_error(c.post("/v1/score", json={"articles": [art(i) for i in range(5)]}), 413, "too_many_articles")
        assert_error(c.post("/v1/stance", json={"sentences": [{"text": "y" * 51, "targets": []}]}), 413, "sentence_too_long")
        assert_error(c.post("/v1/stance", json={"sentences": [{"text": "y", "targets": []}] * 33}), 413, "too_many_sentences")


def test_title_counts_against_the_article_limit(tiny_model):
    with serving(fake_settings(max_article_chars=50), FakeScorer(tiny_model)) as c:
        r = c.post("/v1/score", json={"articles": [art(0), art(1, "x" * 30, title="t" * 30)]})
        body = assert_error(r, 413, "article_too_long")
        assert body["detail"][0]["loc"] == ["body", "articles", 1] and "articles[1].title and .text have 60" in body["message"]
        assert c.post("/v1/score", json={"articles": [art(2, "x" * 25, title="t" * 25)]}).status_code == 200


@pytest.mark.parametrize(
    ("path", "raw", "field", "problem"),
    [
        (
            "/v1/stance",
            '{"sentences": [{"text": "Beijing hailed it", "targets": [{"start": 0, "end": 7, "w": NaN}]}]}',
            "sentences[0].targets[0].w",
            "NaN is not valid JSON",
        ),
        ("/v1/stance", '{"sentences": [{"text": "Fans \\ud83d cheered", "targets": []}]}', "sentences[0].text", "lone surrogate"),
        ("/v1/score", '{"articles": [{"text": "Beijing hailed it", "weight": Infinity}]}', "articles[0].weight", "Infinity"),
        ("/v1/score", '{"articles": [{"text": "Beijing hailed it"}], "ignored": [1, -Infinity]}', "ignored[1]", "-Infinity"),
        (
            "/v1/score",
            '{"articles": [{"text": "Fans \\ud83d cheered"}]}',
            "articles[0].text",
            "lone surrogate \\ud83d at character 5",
        ),
        ("/v1/score", '{"articles": [{"text": "Fans cheered", "title": "\\udc00 Fans"}]}', "articles[0].title", "lone surrogate"),
        ("/v1/score", '{"articles": [{"text": "Fans cheered", "\\ud83d": 1}]}', "articles[0].\\ud83d", "field name"),
    ],
)
def test_nan_infinity_and_lone_surrogates_are_refused_before_the_model(tiny_model, path, raw, field, problem):
    scorer = FakeScorer(tiny_model)
    with serving(fake_settings(), scorer) as c:
        r = c.post(path, content=raw.encode(), headers={"content-type": "application/json"})
        result = assert_error(r, 422, "validation_error")
        assert result["message"].startswith(f"{field}: ") and problem in result["message"], result
        stats = c.get("/v1/stats").json()
        assert stats["articles"]["items"] == stats["sentences"]["items"] == 0 and scorer.batches == []
        emoji = c.post("/v1/score", content=b'{"articles": [{"text": "Fans \\ud83d\\ude00 cheered"}]}', headers=r.request.headers)
        assert emoji.status_code == 200 and emoji.json()["rows"][0]["text"] == "Fans \U0001f600 cheered"  # both halves: fine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"articles": [{"id": "a"}]}, "articles[0].text"),
        ({"articles": [{"id": "a", "text": 5}]}, "articles[0].text"),
        ({"articles": [{"id": 1.5, "text": "ok"}]}, "articles[0].id"),
        ({"articles": [{"id": "a", "text": "ok", "title": ["x"]}]}, "articles[0].title"),
        ({"articles": []}, "articles"),
        ({"docs": []}, "articles"),
        ({"articles": [art(0), {"id": "b", "text": "   "}]}, "articles[1].text"),
        ({"articles": [art(0), {"id": "b", "text": "bell \x07 here"}]}, "articles[1].text"),
        ({"articles": [art(0), art(0)]}, "articles[1].id"),
    ],
)
def test_schema_violations_name_the_field(tiny_model, body, field):
    with serving(fake_settings(), FakeScorer(tiny_model)) as c:
        result = assert_error(c.post("/v1/score", json=body), 422, "validation_error")
        assert result["message"].startswith(field), result
        assert all("input" not in d for d in result["detail"])


def test_malformed_bodies_get_json_errors(tiny_model):
    with serving(fake_settings(), FakeScorer(tiny_model)) as c:
        headers = {"content-type": "application/json"}
        assert (
            "invalid JSON"
            in assert_error(c.post("/v1/score", content=b'{"articles": [', headers=headers), 422, "validation_error")["message"]
        )
        assert_error(c.post("/v1/score", content=b"\xff\xfe\x00", headers=headers), 400, "bad_request")  # not UTF-8
        msg = assert_error(
            c.post("/v1/score", content=b'{"articles": []}', headers={"content-type": "text/plain"}), 422, "validation_error"
        )["message"]
        assert "Content-Type: application/json" in msg
        assert_error(c.post("/v1/score", json=[1, 2]), 422, "validation_error")


def test_queue_full_gives_503_with_retry_after(tiny_model):
    gate = threading.Event()
    scorer = FakeScorer(tiny_model, gate=gate)
    with serving(fake_settings(max_queue=2, max_batch_size=1), scorer) as c, ThreadPoolExecutor(3) as pool:
        state = c.app.state.stance
        first = pool.submit(c.post, "/v1/score", json={"articles": [art(0)]})
        assert scorer.started.wait(5)  # the worker holds article 0
        waiting = [pool.submit(c.post, "/v1/score", json={"articles": [art(i)]}) for i in (1, 2)]
        deadline = time.monotonic() + 5
        while state.articles.queued < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        r = c.post("/v1/score", json={"articles": [art(3)]})
        assert assert_error(r, 503, "overloaded") and int(r.headers["retry-after"]) >= 1
        gate.set()
        assert [f.result().status_code for f in [first, *waiting]] == [200, 200, 200]
        assert c.post("/v1/score", json={"articles": [art(4)]}).status_code == 200


def test_timeout_gives_504_and_the_service_goes_on(tiny_model):
    scorer = FakeScorer(tiny_model, delay=0.6)
    with serving(fake_settings(request_timeout_s=0.2), scorer) as c:
        assert_error(c.post("/v1/score", json={"articles": [art(0, "SLOW one.")]}), 504, "timeout")
        deadline = time.monotonic() + 5
        while scorer.busy and time.monotonic() < deadline:  # the slow batch still runs; then the worker is free again
            time.sleep(0.02)
        r = c.post("/v1/score", json={"articles": [art(1)]})
        assert r.status_code == 200 and r.json()["rows"][0]["doc_id"] == "x1"


def test_api_key(tiny_model):
    with serving(fake_settings(api_key="s3cret"), FakeScorer(tiny_model)) as c:
        body = {"articles": [art(0)]}
        r = c.post("/v1/score", json=body)
        assert assert_error(r, 401, "unauthorized") and r.headers["www-authenticate"] == "Bearer"
        assert_error(c.post("/v1/score", json=body, headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        assert_error(c.get("/v1/model", headers={"X-API-Key": "s3cre"}), 401, "unauthorized")
        assert_error(c.get("/v1/model", headers={"X-API-Key": "s3cret\u00e9".encode()}), 401, "unauthorized")
        assert c.post("/v1/score", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/v1/model", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


def test_cors_only_when_configured(tiny_model):
    preflight = {"Origin": "https://news.example", "Access-Control-Request-Method": "POST"}
    with serving(fake_settings(), FakeScorer(tiny_model)) as c:
        assert "access-control-allow-origin" not in c.options("/v1/score", headers=preflight).headers
    with serving(fake_settings(cors_origins=("https://news.example",)), FakeScorer(tiny_model)) as c:
        assert c.options("/v1/score", headers=preflight).headers["access-control-allow-origin"] == "https://news.example"
        r = c.post("/v1/score", json={"articles": []}, headers={"Origin": "https://news.example"})
        assert r.status_code == 422 and r.headers["access-control-allow-origin"] == "https://news.example"


# ----------------------------------------------------------------------------- batching and isolation
def hold_then_release(
    client: TestClient, scorer: FakeScorer, gate: threading.Event, pool: ThreadPoolExecutor, bodies: list[dict]
) -> list:
    """Hold the worker with one request, queue ``bodies`` behind it, then let go: they meet in one batch."""
    first = pool.submit(client.post, "/v1/score", json={"articles": [art(99)]})
    assert scorer.started.wait(5)
    futures = [pool.submit(client.post, "/v1/score", json=b) for b in bodies]
    n = sum(len(b["articles"]) for b in bodies)
    deadline = time.monotonic() + 5
    while client.app.state.stance.articles.queued < n and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    assert first.result().status_code == 200
    return [f.result() for f in futures]


def test_concurrent_requests_are_batched_together(tiny_model):
    gate = threading.Event()
    scorer = FakeScorer(tiny_model, gate=gate)
    with serving(fake_settings(max_batch_size=16), scorer) as c, ThreadPoolExecutor(9) as pool:
        responses = hold_then_release(c, scorer, gate, pool, [{"articles": [art(i)]} for i in range(8)])
        stats = c.get("/v1/stats").json()["articles"]
    assert sorted(r.json()["rows"][0]["doc_id"] for r in responses) == sorted(f"x{i}" for i in range(8))
    assert scorer.batches == [1, 8]
    assert (stats["batches"], stats["items"], stats["largest_batch"], stats["queued"]) == (2, 9, 8, 0)


def test_a_failing_article_fails_alone(tiny_model):
    gate = threading.Event()
    scorer = FakeScorer(tiny_model, gate=gate)
    bodies = [{"articles": [art(i)]} for i in range(4)]
    bodies += [{"articles": [art(4, "BOOM goes the scorer.")]}, {"articles": [art(5), art(6, "BOOM again.")]}]
    with serving(fake_settings(max_batch_size=16), scorer) as c, ThreadPoolExecutor(7) as pool:
        responses = hold_then_release(c, scorer, gate, pool, bodies)
        assert [r.status_code for r in responses[:4]] == [200] * 4
        assert_error(responses[4], 500, "scoring_failed")
        mixed = responses[5].json()
        assert responses[5].status_code == 200 and [row["doc_id"] for row in mixed["rows"]] == ["x5"]
        assert mixed["errors"][0]["id"] == "x6" and "boom" in mixed["errors"][0]["reason"]
        assert c.post("/v1/score", json={"articles": [art(7)]}).status_code == 200
    assert scorer.batches == [1, 7] + [1] * 7 + [1]  # the failed batch of 7, then its articles one by one


def test_malformed_requests_do_not_affect_good_ones(client):
    good = [{"articles": [a]} for a in ARTICLES]
    reference = [client.post("/v1/score", json=b).json()["rows"] for b in good]
    bad = [
        b'{"articles": [{"id": 1',
        b'{"articles": [{"text": null}]}',
        json.dumps({"articles": [art(0, "bad \x00 byte")]}).encode(),
        json.dumps({"articles": [art(0, "z" * 100_001)]}).encode(),
        b"[]",
        b'{"articles": "no"}',
    ]
    requests = [("good", i, json.dumps(b).encode()) for i, b in enumerate(good)] * 3 + [("bad", i, b) for i, b in enumerate(bad)]
    requests = requests[::2] + requests[1::2]  # interleave
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda r: (r, client.post("/v1/score", content=r[2], headers={"content-type": "application/json"})), requests
            )
        )
    for (kind, i, _), response in results:
        if kind == "good":
            assert response.status_code == 200
            assert_close(response.json()["rows"], reference[i])
        else:
            assert response.status_code in (413, 422) and response.json()["error"]
    assert client.get("/readyz").status_code == 200


# ----------------------------------------------------------------------------- the batcher on its own
def test_batcher_groups_isolates_and_drains():
    sizes: list[int] = []

    def double(xs: list[int]) -> list[int]:
        if 13 in xs:
            raise ValueError("unlucky")
        return [x * 2 for x in xs]

    async def main() -> None:
        b = MicroBatcher(double, max_batch_size=4, max_wait_ms=50, max_queue=20, on_batch=sizes.append)
        await b.start()
        results = await asyncio.gather(*(b.submit([i]) for i in range(10)), b.submit([12, 13, 14]))
        assert [r[0] for r in results[:10]] == [2 * i for i in range(10)]
        assert results[10][0] == 24 and isinstance(results[10][1], ItemError) and results[10][2] == 28
        with pytest.raises(QueueFullError):
            await b.submit(list(range(21)))
        pending = [asyncio.ensure_future(b.submit([i])) for i in range(6)]  # queued, then stop: all finish
        await asyncio.sleep(0)
        await b.stop(timeout=5)
        assert [(await p)[0] for p in pending] == [0, 2, 4, 6, 8, 10]
        with pytest.raises(QueueFullError):
            await b.submit([1])

    asyncio.run(main())
    assert max(sizes) == 4 and 1 in sizes


def test_batcher_timeout_drops_waiting_items():
    seen: list[int] = []

    def slow(xs: list[int]) -> list[int]:
        seen.extend(xs)
        time.sleep(0.3)
        return xs

    async def main() -> None:
        b = MicroBatcher(slow, max_batch_size=1, max_wait_ms=0, max_queue=10)
        await b.start()
        first = asyncio.ensure_future(b.submit([1]))
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):
            await b.submit([2], timeout=0.1)  # waits behind 1, times out before it starts
        assert await first == [1]
        await b.stop(timeout=5)

    asyncio.run(main())
    assert seen == [1]


# ----------------------------------------------------------------------------- settings, command, shutdown
def test_settings_from_env():
    s = ServiceSettings.from_env(
        {
            "STANCE_MODEL": "m",
            "STANCE_USE_NER": "no",
            "STANCE_MAX_QUEUE": "1_000",
            "STANCE_MAX_WAIT_MS": "2.5",
            "STANCE_ACTORS": "a.yaml, b.yaml",
            "STANCE_API_KEY": "s3cret-k3y",
            "STANCE_CORS_ORIGINS": "",
        },
        max_queue=7,
        model=None,
    )
    assert (s.model, s.use_ner, s.max_queue, s.max_wait_ms, s.actors, s.api_key, s.cors_origins) == (
        "m",
        False,
        7,
        2.5,
        ("a.yaml", "b.yaml"),
        "s3cret-k3y",
        (),
    )
    assert "s3cret-k3y" not in repr(s)
    with pytest.raises(ValueError, match="STANCE_MAX_BATCH_SIZE"):
        ServiceSettings.from_env({"STANCE_MAX_BATCH_SIZE": "lots"})
    with pytest.raises(ValueError, match="max_queue"):
        ServiceSettings(max_queue=0)


def test_serve_command_fails_cleanly_on_a_bad_model(tmp_path):
    r = CliRunner().invoke(cli_app, ["serve", "--model", str(tmp_path / "missing"), "--port", "0", "--no-ner"])
    assert r.exit_code == 2 and "does not exist" in r.output
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    r = CliRunner().invoke(cli_app, ["serve", "--model", str(tmp_path / "broken"), "--port", "0", "--no-ner"])
    assert r.exit_code == 1 and "did not start" in r.output
    r = CliRunner().invoke(cli_app, ["serve", "--actors", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_serve_log_level_is_one_uvicorn_accepts(tmp_path, monkeypatch):
    import logging

    from uvicorn.config import LOG_LEVELS

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    command = ["serve", "--model", str(tmp_path / "broken"), "--port", "0", "--no-ner", "--log-level"]
    for bad in ("warn", "foo"):
        r = CliRunner().invoke(cli_app, [*command, bad])
        assert r.exit_code == 2 and all(name in r.output for name in LOG_LEVELS), r.output
    levels: list[int] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: levels.append(kw["level"]))
    for good in ("trace", "WARNING"):  # the model is broken: the start-up fails after the logging is set up
        r = CliRunner().invoke(cli_app, [*command, good])
        assert r.exit_code == 1 and "did not start" in r.output, r.output
    assert levels == [5, logging.WARNING]
    from stance.cli.serve import LogLevel

    assert [level.value for level in LogLevel] == list(LOG_LEVELS)


def test_graceful_shutdown_finishes_requests_in_flight(tiny_model):
    import uvicorn

    gate = threading.Event()
    scorer = FakeScorer(tiny_model, gate=gate)
    app = create_app(fake_settings(), scorer=scorer)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=10))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, f"http://127.0.0.1:{port}/v1/score", json={"articles": [art(0)]}, timeout=10)
        assert scorer.started.wait(5)
        server.should_exit = True  # what SIGTERM / Ctrl-C do
        time.sleep(0.2)
        assert thread.is_alive()  # waiting for the request
        gate.set()
        response = in_flight.result()
    thread.join(10)
    assert response.status_code == 200 and response.json()["rows"][0]["doc_id"] == "x0"
    assert not thread.is_alive() and app.state.stance.phase == "stopped"


def test_responses_name_the_model_that_ran_not_active(tmp_path):
    from stance.service.app import served_model_name
    from stance.store.model_files import resolve_model

    assert served_model_name(str(resolve_model("default")), "active") == "default"
    assert served_model_name(str(tmp_path), "runs/mine") == "runs/mine"
    assert served_model_name(None, "active") == "active"
