"""Search: GET /api/v1/search/?q= (MiniLM with its real weights, CLIP) and POST
/api/v1/search/image/ (ResNet and CLIP on tiny random checkpoints); the ``collection`` filter on
search, recommendations and similar paintings.

The MiniLM artefact is built by the real engine from each painting's ``painting_text``, exactly
as precompute builds it, so a painting's own text as the query has cosine 1 with its row.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.snapshot import painting_input
from catalog.text import painting_text
from recsys.artefacts.reader import LoadedArtefact
from recsys.engines.images import open_rgb
from recsys.engines.registry import get_engine
from recsys.serving.search import rank_by_query
from tests.api.conftest import VECTORS, give_image, jpeg_bytes
from tests.artefact_helpers import write_artefact
from tests.factories import ArtistFactory, PaintingFactory, StoryGroupFactory
from tests.recsys_engines.conftest import tiny_models  # noqa: F401  (session fixture, shared)

URL = "/api/v1/search/"
IMAGE_URL = "/api/v1/search/image/"
AIC, TATE = "Art Institute of Chicago", "Tate"
TEXTS = {
    "p-storm": ("Shipwreck", "A ship breaks apart on the rocks while huge waves crash in a storm.", AIC),
    "p-portrait": ("Lady in Blue", "Portrait of a young woman in a blue silk dress holding a fan.", AIC),
    "p-fruit": ("Still Life", "Apples, pears and a stoneware jug on a wooden kitchen table.", TATE),
    "p-snow": ("Winter Village", "Snow covers the roofs of a mountain village at dusk.", TATE),
}


# -- the database-free core -----------------------------------------------------------------------
def _artefact(vectors: dict[int, tuple[float, float]]) -> LoadedArtefact:
    pks = sorted(vectors)
    rows = np.array([vectors[pk] for pk in pks], dtype=np.float32)
    return LoadedArtefact(
        engine="minilm",
        version="v",
        path=None,  # type: ignore[arg-type]
        manifest={},
        painting_ids=np.array(pks, dtype=np.int64),
        external_ids=tuple(f"p-{pk}" for pk in pks),
        embeddings=rows / np.linalg.norm(rows, axis=1, keepdims=True),
        row_of={pk: row for row, pk in enumerate(pks)},
    )


def test_rank_by_query_is_cosine_best_first_ties_by_pk():
    # q = (0.6, 0.8): cos with 1 (1, 0) = 0.6, 2 (0, 1) = 0.8, 3 (0.8, 0.6) = 0.96, 4 (0, 1) = 0.8
    art = _artefact({1: (1, 0), 2: (0, 1), 3: (0.8, 0.6), 4: (0, 1)})
    hits = rank_by_query(artefact=art, query=np.array([0.6, 0.8]), n=3)
    assert [(h.painting_id, h.rank) for h in hits] == [(3, 1), (2, 2), (4, 3)]
    assert [h.score for h in hits] == pytest.approx([0.96, 0.8, 0.8])


def test_rank_by_query_keeps_only_allowed_and_drops_gone():
    art = _artefact({1: (1, 0), 2: (0, 1), 3: (0.8, 0.6), 4: (0, 1)})
    hits = rank_by_query(
        artefact=art, query=np.array([0.6, 0.8]), n=5, allowed=[1, 2, 3], gone=frozenset({3})
    )
    assert [h.painting_id for h in hits] == [2, 1]


# -- text search on the real MiniLM -----------------------------------------------------------------
@pytest.fixture
def museum(db) -> dict:
    group = StoryGroupFactory(slug="sample", name="Sample")
    made = {}
    for external_id, (title, description, source) in TEXTS.items():
        made[external_id] = PaintingFactory(
            external_id=external_id,
            title=title,
            description=description,
            artist=ArtistFactory(name=f"Artist of {title}"),
            story_group=group,
            source=source,
        )
    return made


@pytest.fixture
def minilm_real(museum, tmp_path):
    engine = get_engine("minilm")
    paintings = list(museum.values())
    vectors = engine.encode([painting_input(p) for p in paintings], tmp_path).vectors
    return write_artefact(
        engine="minilm", paintings=paintings, vectors=vectors, manifest={"params": engine.params()}
    )


def ids(response) -> list[str]:
    return [r["painting"]["id"] for r in response.json()["results"]]


def test_a_paintings_own_text_finds_it_first_with_cosine_one(api_client, museum, minilm_real):
    for external_id, painting in museum.items():
        response = api_client.get(URL, {"q": painting_text(painting)})
        assert response.status_code == 200
        top = response.json()["results"][0]
        assert top["painting"]["id"] == external_id
        assert top["score"] == pytest.approx(1.0, abs=1e-5)


def test_plain_words_find_the_painting_they_describe(api_client, minilm_real):
    response = api_client.get(URL, {"q": "ships caught in a storm at sea"})
    body = response.json()
    assert (body["engine"], body["query"], body["version"]) == ("minilm", "text", minilm_real.version)
    assert ids(response)[0] == "p-storm"
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["results"][0]["painting"]["title"] == "Shipwreck"


def test_n_limits_the_results(api_client, minilm_real):
    response = api_client.get(URL, {"q": "a portrait", "n": 2})
    assert [r["rank"] for r in response.json()["results"]] == [1, 2]
    assert ids(response)[0] == "p-portrait"


def test_collection_by_slug_or_name_keeps_only_its_paintings(api_client, minilm_real):
    by_slug = api_client.get(URL, {"q": "ships caught in a storm", "collection": "tate"})
    assert by_slug.json()["collection"] == "tate"
    assert sorted(ids(by_slug)) == ["p-fruit", "p-snow"]
    by_name = api_client.get(URL, {"q": "a portrait", "collection": "art institute of chicago"})
    assert ids(by_name) == ["p-portrait", "p-storm"]
    assert ids(api_client.get(URL, {"q": "a portrait", "collection": "art-institute-of-chicago"})) == [
        "p-portrait",
        "p-storm",
    ]


def test_unknown_collection_is_400_naming_the_known_ones(api_client, minilm_real):
    response = api_client.get(URL, {"q": "storm", "collection": "louvre"})
    error = response.json()["error"]
    assert (response.status_code, error["field"]) == (400, "collection")
    assert (
        error["message"] == "Unknown collection 'louvre'; known collections: art-institute-of-chicago, tate."
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 501}, "q"), ({"q": "storm", "n": 0}, "n"),
     ({"q": "storm", "engine": "resnet"}, "engine"), ({"q": "storm", "engine": "nope"}, "engine")],
)  # fmt: skip
def test_bad_query_is_400_naming_the_field(api_client, minilm_real, params, field):
    response = api_client.get(URL, params)
    assert (response.status_code, response.json()["error"]["field"]) == (400, field)


def test_engine_that_cannot_search_by_text_is_named(api_client, minilm_real):
    error = api_client.get(URL, {"q": "storm", "engine": "resnet"}).json()["error"]
    assert error["message"] == (
        "Engine 'resnet' does not search by text; RECSYS_SEARCH_TEXT_ENGINES offers: xlmr, minilm, clip."
    )


def test_no_text_engine_ready_is_503_naming_the_setting(api_client, museum):
    response = api_client.get(URL, {"q": "storm"})
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (503, "engine_unavailable")
    assert error["message"].startswith(
        "Search by text needs one of RECSYS_SEARCH_TEXT_ENGINES (xlmr, minilm, clip) ready; "
        "xlmr: unavailable, "
    )
    assert "Set RECSYS_CLIP_MODEL" in error["message"]


def test_artefact_of_another_model_is_refused_not_ranked(api_client, museum, tmp_path):
    paintings = list(museum.values())
    write_artefact(
        engine="minilm",
        paintings=paintings,
        vectors=np.eye(len(paintings), 384),
        manifest={"params": {"model": "someone/other-model"}},
    )
    error = api_client.get(URL, {"q": "storm"}).json()["error"]
    assert error["code"] == "engine_unavailable"
    assert "built with another model (someone/other-model)" in error["message"]
    assert "RECSYS_MINILM_MODEL" in error["message"]


def test_search_takes_a_fixed_number_of_queries(api_client, minilm_real, django_assert_max_num_queries):
    api_client.get(URL, {"q": "warm up the model"})
    # ready engines, the active artefact, the catalogued check, the hydration
    with django_assert_max_num_queries(4):
        response = api_client.get(URL, {"q": "storm", "n": 4})
    assert len(response.json()["results"]) == 4


# -- image search on tiny ResNet and CLIP ---------------------------------------------------------
@pytest.fixture
def tiny_engines(settings, tiny_models):  # noqa: F811
    engines = {name: dict(config) for name, config in settings.RECSYS_ENGINES.items()}
    engines["resnet"]["MODEL"] = tiny_models["resnet"]
    engines["clip"]["MODEL"] = tiny_models["clip"]
    settings.RECSYS_ENGINES = engines
    return engines


COLOURS = {
    "p-storm": (30, 60, 160),
    "p-portrait": (200, 180, 40),
    "p-fruit": (40, 160, 60),
    "p-snow": (230, 230, 240),
}


def _striped(colour: tuple[int, int, int], size=(64, 48)) -> bytes:
    """A JPEG with a colour and a few stripes, so the tiny models see different pictures."""
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 8):
        for y in range(size[1]):
            image.putpixel((x, y), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def pictures(museum) -> dict[str, bytes]:
    data = {external_id: _striped(colour) for external_id, colour in COLOURS.items()}
    for external_id, painting in museum.items():
        give_image(painting, data[external_id])
    return data


def _image_artefact(engine_name: str, museum, tmp_path):
    engine = get_engine(engine_name)
    paintings = list(museum.values())
    vectors = engine.encode([painting_input(p) for p in paintings], tmp_path).vectors
    return write_artefact(
        engine=engine_name, paintings=paintings, vectors=vectors, manifest={"params": engine.params()}
    )


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_paintings_own_picture_finds_it_first_with_resnet(
    api_client, tiny_engines, pictures, museum, tmp_path
):
    resnet = _image_artefact("resnet", museum, tmp_path)
    response = api_client.post(
        IMAGE_URL, {"image": upload(pictures["p-fruit"]), "n": "3"}, format="multipart"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["engine"], body["query"], body["version"]) == ("resnet", "image", resnet.version)
    assert ids(response)[0] == "p-fruit"
    assert body["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert len(body["results"]) == 3


def test_clip_answers_image_search_first_when_ready(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    clip = _image_artefact("clip", museum, tmp_path)
    response = api_client.post(IMAGE_URL, {"image": upload(pictures["p-snow"])}, format="multipart")
    body = response.json()
    assert (body["engine"], body["version"]) == ("clip", clip.version)
    # score = cos(unit image embedding of the upload, joint row of the painting)
    query = get_engine("clip").encode_query_image(open_rgb(museum["p-snow"].image.path))
    rows = get_engine("clip").encode([painting_input(p) for p in museum.values()], tmp_path).vectors
    expected = dict(zip(museum, (rows @ query).tolist(), strict=True))
    assert {r["painting"]["id"]: r["score"] for r in body["results"]} == pytest.approx(expected, abs=1e-5)


def test_clip_searches_by_text_when_minilm_is_not_ready(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("clip", museum, tmp_path)
    body = api_client.get(URL, {"q": "a storm at sea", "n": 4}).json()
    assert (body["engine"], body["query"]) == ("clip", "text")
    query = get_engine("clip").encode_query_text("a storm at sea")
    rows = get_engine("clip").encode([painting_input(p) for p in museum.values()], tmp_path).vectors
    expected = dict(zip(museum, (rows @ query).tolist(), strict=True))
    assert {r["painting"]["id"]: r["score"] for r in body["results"]} == pytest.approx(expected, abs=1e-5)


def test_image_collection_filter(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    response = api_client.post(
        IMAGE_URL,
        {"image": upload(pictures["p-fruit"]), "collection": "art-institute-of-chicago"},
        format="multipart",
    )
    assert sorted(ids(response)) == ["p-portrait", "p-storm"]


def _bmp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text, not a picture", "The uploaded file is not an image."),
        (b"", "The submitted file is empty."),
        (_bmp(), "Upload a JPEG, PNG, WebP or GIF image, not BMP."),
    ],
)
def test_bad_file_is_400_naming_image(api_client, tiny_engines, pictures, museum, tmp_path, data, message):
    _image_artefact("resnet", museum, tmp_path)
    response = api_client.post(IMAGE_URL, {"image": upload(data)}, format="multipart")
    error = response.json()["error"]
    assert (response.status_code, error["field"], error["message"]) == (400, "image", message)


def test_truncated_jpeg_is_400_naming_image(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    whole = jpeg_bytes((300, 200))
    cut = whole[: len(whole) // 2]  # the header reads, the pixels stop half way
    response = api_client.post(IMAGE_URL, {"image": upload(cut)}, format="multipart")
    error = response.json()["error"]
    assert (response.status_code, error["field"]) == (400, "image")
    assert error["message"].startswith("The uploaded image is not a readable image")


def test_missing_file_is_400_naming_image(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    response = api_client.post(IMAGE_URL, {"n": "3"}, format="multipart")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "image")


def test_too_large_file_is_413_naming_image(api_client, settings, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    settings.RECSYS_SEARCH_IMAGE_MAX_BYTES = 1000
    response = api_client.post(IMAGE_URL, {"image": upload(pictures["p-fruit"])}, format="multipart")
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (413, "payload_too_large", "image")
    assert "RECSYS_SEARCH_IMAGE_MAX_BYTES (1000 bytes)" in error["message"]


def test_json_body_is_415(api_client, tiny_engines, pictures, museum, tmp_path):
    _image_artefact("resnet", museum, tmp_path)
    response = api_client.post(IMAGE_URL, {"image": "aGVsbG8="}, format="json")
    assert response.status_code == 415


def test_no_image_engine_ready_is_503_naming_the_setting(api_client, museum, minilm_real):
    response = api_client.post(IMAGE_URL, {"image": upload(jpeg_bytes())}, format="multipart")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (503, "engine_unavailable")
    assert error["message"].startswith(
        "Search by image needs one of RECSYS_SEARCH_IMAGE_ENGINES (clip, dinov2, resnet) ready; "
        "clip: unavailable, "
    )
    assert "Set RECSYS_RESNET_MODEL" in error["message"]


# -- the collection filter on recommendations and similar paintings --------------------------------
@pytest.fixture
def two_collections(paintings, minilm) -> None:
    """a, c and e (Monet) come from the Tate, b and d (Vermeer) from the AIC."""
    for key, painting in paintings.items():
        painting.source = TATE if key in "ace" else AIC
        painting.save(update_fields=["source"])


def test_recommendations_only_from_the_collection(api_client, two_collections):
    body = {
        "ratings": {"p-a": 5, "p-b": 1},
        "recommender": "minilm",
        "collection": "art-institute-of-chicago",
    }
    response = api_client.post("/api/v1/recommendations/", body, format="json")
    # S(d) = (A_da - A_db) / 2 = (0.6 - 0.8) / 2 = -0.1: the only unrated AIC painting
    assert [(r["painting"]["id"], round(r["score"], 5)) for r in response.json()["results"]] == [
        ("p-d", -0.1)
    ]
    tate = api_client.post("/api/v1/recommendations/", {**body, "collection": "Tate"}, format="json")
    assert [r["painting"]["id"] for r in tate.json()["results"]] == ["p-e", "p-c"]


def test_recommendations_unknown_collection_is_400(api_client, two_collections):
    body = {"ratings": {"p-a": 5}, "recommender": "minilm", "collection": "louvre"}
    response = api_client.post("/api/v1/recommendations/", body, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "collection")


def test_recommendations_collection_must_be_text(api_client, two_collections):
    body = {"ratings": {"p-a": 5}, "recommender": "minilm", "collection": 7}
    response = api_client.post("/api/v1/recommendations/", body, format="json")
    assert (response.status_code, response.json()["error"]["field"]) == (400, "collection")


def test_similar_only_from_the_collection(api_client, two_collections):
    # cos(a, .): e 0.96, c 0.8, d 0.6, b 0.0; only b and d are in the AIC
    response = api_client.get(
        "/api/v1/paintings/p-a/similar/", {"engine": "minilm", "collection": "art-institute-of-chicago"}
    )
    assert [(r["painting"]["id"], r["similarity"]) for r in response.json()["results"]] == [
        ("p-d", pytest.approx(0.6)),
        ("p-b", pytest.approx(0.0, abs=1e-6)),
    ]


def test_similar_collection_filter_reads_past_the_neighbour_lists(api_client, paintings, db):
    for key, painting in paintings.items():
        painting.source = AIC if key == "b" else TATE
        painting.save(update_fields=["source"])
    write_artefact(
        engine="minilm",
        paintings=list(paintings.values()),
        vectors=[VECTORS[k] for k in paintings],
        dense=False,
        neighbours_k=2,  # a's list is e, c: neither is in the AIC
    )
    response = api_client.get(
        "/api/v1/paintings/p-a/similar/", {"engine": "minilm", "collection": "art-institute-of-chicago"}
    )
    assert [r["painting"]["id"] for r in response.json()["results"]] == ["p-b"]


def test_painting_list_filters_by_collection(api_client, two_collections):
    response = api_client.get("/api/v1/paintings/", {"collection": "art-institute-of-chicago"})
    assert [p["id"] for p in response.json()["results"]] == ["p-b", "p-d"]
