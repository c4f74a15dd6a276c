"""Search: a free-text query or a picture in, the catalogued paintings closest to it out.

An engine that can encode queries (``Engine.query_modalities``) turns the query into one unit
vector q through the same preprocessing as its artefact rows (``Engine.encode_query_text`` /
``encode_query_image``); every painting i of the engine's active artefact is scored

    score_i = cos(q, e_i) = q . e_i        (q and every row e_i have length 1)

and the ``n`` best are returned, score descending, then painting pk ascending (as everywhere).
One matrix-vector product over the memory-mapped rows; the model is loaded once per process, on
the first query (the engine registry keeps the instance), never at import.

Which engines search:

* **Text** (``RECSYS_SEARCH_TEXT_ENGINES``, default ``minilm, clip``): MiniLM compares the query's
  sentence embedding with the paintings' text embeddings; CLIP compares the query's text
  embedding with its joint rows ``normalize(unit image + unit text)``, so a text finds paintings
  whose *image* matches it as well as those whose text does (text-to-image search).
* **Image** (``RECSYS_SEARCH_IMAGE_ENGINES``, default ``clip, resnet``): the upload is checked and
  normalised exactly like a catalogue image (``catalog.importing.images.check_upload``: decoded
  once, upright, RGB, longest side ``CATALOG_IMAGE_MAX_SIDE``), then encoded like one.

Without ``engine`` the first engine of the list that is ready (an active artefact and a loadable
model) answers; when none is, ``EngineUnavailable`` (503) says why for each and names the
setting. An artefact built with another model than the one configured now (its rows are in
another space) is refused the same way rather than ranked by meaningless cosines.
``collection`` (slug or name, ``catalog.selectors``) restricts the candidates to one source.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from django.conf import settings
from PIL import Image

from catalog.importing.images import ImageProblem, NotAnImage, check_upload, read_header
from catalog.selectors import painting_pks_matching
from config.exceptions import EngineUnavailable, PayloadTooLarge, ValidationFailed
from recsys.algorithms import scoring
from recsys.artefacts.reader import LoadedArtefact
from recsys.engines.registry import engine_unavailable_reason, get_engine, require_available
from recsys.models import Artefact
from recsys.serving.selectors import active_artefact, catalogued_only, engine_statuses

TEXT, IMAGE = "text", "image"
ENGINES_SETTING = {TEXT: "RECSYS_SEARCH_TEXT_ENGINES", IMAGE: "RECSYS_SEARCH_IMAGE_ENGINES"}
#: picture formats an image query may have (Pillow's names) and how the error names them
IMAGE_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
#: longest query text, in characters (the serializers and web forms say the same)
MAX_QUERY_LENGTH = 500


@dataclass(frozen=True, slots=True)
class SearchHit:
    painting_id: int  # pk
    external_id: str
    score: float  # cos(q, e_i)
    rank: int  # 1-based


@dataclass(frozen=True, slots=True)
class SearchResult:
    engine: str
    version: str  # the artefact searched
    modality: str  # "text" | "image"
    items: tuple[SearchHit, ...]


# -- the core -------------------------------------------------------------------------------------
def rank_by_query(
    *,
    artefact: LoadedArtefact,
    query: np.ndarray,
    n: int,
    allowed: Sequence[int] | None = None,
    gone: frozenset[int] = frozenset(),
) -> tuple[SearchHit, ...]:
    """The ``n`` rows of ``artefact`` closest to the unit vector ``query`` (database-free).

    ``allowed`` (pks) restricts the candidates, ``gone`` removes pks (deleted paintings)."""
    pids = artefact.painting_ids
    scores = np.asarray(artefact.embeddings @ np.asarray(query, dtype=np.float32), dtype=np.float64)
    keep = np.ones(artefact.size, dtype=bool)
    if allowed is not None:
        keep &= np.isin(pids, np.asarray(allowed, dtype=np.int64))
    keep[[artefact.row_of[pk] for pk in gone if pk in artefact.row_of]] = False
    rows = np.flatnonzero(keep)
    best = rows[scoring.top_n(scores[rows], pids[rows], n)]
    return tuple(
        SearchHit(
            painting_id=int(pids[row]),
            external_id=artefact.external_ids[int(row)],
            score=float(scores[row]),
            rank=rank,
        )
        for rank, row in enumerate(best.tolist(), start=1)
    )


# -- engines --------------------------------------------------------------------------------------
def search_engines(*, modality: str) -> list[str]:
    """The engines of ``RECSYS_SEARCH_<modality>_ENGINES`` that are configured and can encode such
    a query, in settings order."""
    names = getattr(settings, ENGINES_SETTING[modality])
    found = []
    for name in names:
        if name not in settings.RECSYS_ENGINES:
            continue
        try:
            if modality in get_engine(name).query_modalities:
                found.append(name)
        except ImportError:  # its backend cannot be imported here: not a search engine here
            continue
    return found


def ready_search_engine(*, modality: str) -> str | None:
    """The first search engine for ``modality`` with an active artefact and a loadable model
    (one query; model availability is cached per process), or None."""
    engines = search_engines(modality=modality)
    active = set(Artefact.objects.filter(engine__in=engines, is_active=True).values_list("engine", flat=True))
    return next((e for e in engines if e in active and engine_unavailable_reason(e) is None), None)


def _none_ready(modality: str, engines: list[str]) -> EngineUnavailable:
    setting = ENGINES_SETTING[modality]
    if not engines:
        return EngineUnavailable(
            f"Search by {modality} is off: {setting} names no configured engine that encodes "
            f"{modality} queries.",
            field="engine",
            detail={"setting": setting},
        )
    reasons = []
    for status in engine_statuses(engines):
        model_reason = engine_unavailable_reason(status.name)
        why = model_reason if status.status == "ready" and model_reason else status.reason
        reasons.append(f"{status.name}: {status.status}, {why.rstrip('.')}")
    return EngineUnavailable(
        f"Search by {modality} needs one of {setting} ({', '.join(engines)}) ready; "
        + "; ".join(reasons)
        + ".",
        field="engine",
        detail={"setting": setting, "engines": engines},
    )


def choose_engine(*, modality: str, engine: str | None) -> str:
    """``engine`` when it searches by ``modality`` (else ``ValidationFailed`` on ``engine``), or
    the first ready one (else ``EngineUnavailable``, 503, naming the setting)."""
    engines = search_engines(modality=modality)
    if engine is not None:
        if engine not in engines:
            listed = ", ".join(engines) or "none"
            raise ValidationFailed(
                f"Engine {engine!r} does not search by {modality}; {ENGINES_SETTING[modality]} "
                f"offers: {listed}.",
                field="engine",
            )
        return engine
    chosen = ready_search_engine(modality=modality)
    if chosen is None:
        raise _none_ready(modality, engines)
    return chosen


def _require_ready(engine: str) -> None:
    """``EngineUnavailable`` (503) unless ``engine`` has an active artefact and a loadable model
    (answered from the status cache and the per-process model check: no decoding, no loading)."""
    active_artefact(engine=engine)
    reason = engine_unavailable_reason(engine)
    if reason is not None:
        raise EngineUnavailable(reason, field="engine", detail={"engine": engine})


def _check_same_space(art: LoadedArtefact, engine: str, query: np.ndarray) -> None:
    """Refuse an artefact built with another model than the one that encoded the query."""
    model = get_engine(engine).model_id
    built = (art.manifest.get("params") or {}).get("model")
    dim = int(art.embeddings.shape[1]) if art.embeddings.ndim == 2 else 0
    if (built is not None and built != model) or dim != query.shape[0]:
        setting = get_engine(engine).model_setting
        raise EngineUnavailable(
            f"The active {engine} artefact {art.version} was built with another model "
            f"({built or f'{dim}-d rows'}) than {setting} names now ({model}); recompute it "
            f"(`manage.py precompute --engine {engine}`) or set {setting} back.",
            field="engine",
            detail={"engine": engine, "version": art.version, "setting": setting},
        )


def _search(*, modality: str, engine: str | None, n: int, collection: str | None, encode) -> SearchResult:
    name = choose_engine(modality=modality, engine=engine)
    allowed = painting_pks_matching(story_group=None, artist=None, collection=collection)
    art = active_artefact(engine=name)
    query = encode(require_available(name))
    _check_same_space(art, name, query)
    items = catalogued_only(
        lambda gone: rank_by_query(artefact=art, query=query, n=n, allowed=allowed, gone=gone),
        lambda hits: [hit.painting_id for hit in hits],
    )
    return SearchResult(engine=name, version=art.version, modality=modality, items=items)


# -- public services ------------------------------------------------------------------------------
def search_text(*, q: str, n: int, engine: str | None = None, collection: str | None = None) -> SearchResult:
    """The ``n`` paintings closest to the text ``q`` (``n`` validated by the caller).

    Blank or over-long ``q``: ``ValidationFailed`` on ``q``; an engine that does not search by
    text or an unknown collection: ``ValidationFailed`` naming the field; no engine ready:
    ``EngineUnavailable`` (503)."""
    text = q.strip()
    if not text:
        raise ValidationFailed("Type a few words to search for.", field="q")
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationFailed(f"At most {MAX_QUERY_LENGTH} characters, got {len(text)}.", field="q")
    return _search(
        modality=TEXT,
        engine=engine,
        n=n,
        collection=collection,
        encode=lambda model: model.encode_query_text(text),
    )


def query_image(upload: BinaryIO) -> Image.Image:
    """The uploaded picture as the engines see a catalogue image, or ``ValidationFailed`` on field
    ``image`` (not an image, a format other than ``IMAGE_FORMATS``, more pixels than
    ``RECSYS_SEARCH_IMAGE_MAX_PIXELS`` or a mode not decoded, both read from the header before
    any decoding; undecodable) or ``PayloadTooLarge`` (413) over ``RECSYS_SEARCH_IMAGE_MAX_BYTES``."""
    limit = settings.RECSYS_SEARCH_IMAGE_MAX_BYTES
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The image is larger than RECSYS_SEARCH_IMAGE_MAX_BYTES ({limit} bytes).", field="image"
        )
    if not data:
        raise ValidationFailed("The uploaded file is empty.", field="image")
    max_pixels = settings.RECSYS_SEARCH_IMAGE_MAX_PIXELS
    try:  # the header only: format, mode and pixel count are checked before anything is decoded
        found = read_header(data, max_pixels=max_pixels).format
    except NotAnImage as exc:
        raise ValidationFailed("The uploaded file is not an image.", field="image") from exc
    except ImageProblem as exc:
        raise ValidationFailed(f"The uploaded file is {exc.reason}.", field="image") from exc
    if found not in IMAGE_FORMATS:
        *first, last = IMAGE_FORMATS.values()
        accepted = f"{', '.join(first)} or {last}"
        raise ValidationFailed(f"Upload a {accepted} image, not {found}.", field="image")
    try:
        checked = check_upload(
            io.BytesIO(data), max_bytes=limit, max_side=settings.CATALOG_IMAGE_MAX_SIDE, max_pixels=max_pixels
        )
    except ImageProblem as exc:
        raise ValidationFailed(f"The uploaded image is {exc.reason}.", field="image") from exc
    with Image.open(io.BytesIO(checked.image.content)) as image:
        return image.convert("RGB")


def search_image(
    *, upload: BinaryIO, n: int, engine: str | None = None, collection: str | None = None
) -> SearchResult:
    """The ``n`` paintings closest to the uploaded picture (``query_image`` checks it).

    The engine is chosen and found ready (an active artefact, a loadable model) before the upload
    is read, named or not, so a server that cannot search by image answers 503 without decoding
    anything."""
    name = choose_engine(modality=IMAGE, engine=engine)
    _require_ready(name)
    image = query_image(upload)
    return _search(
        modality=IMAGE,
        engine=name,
        n=n,
        collection=collection,
        encode=lambda model: model.encode_query_image(image),
    )
