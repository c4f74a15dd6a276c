"""REST throughput: the issue-11 table against gunicorn with production settings on 127.0.0.1.

By default on the real sample catalogue (``--source real``): the checkout's embedded state
(``--var``, default ``var/``, as ``make run`` leaves it: the 11,577 sample paintings imported
and the engines' artefacts built) is used read-only: a consistent copy of its SQLite database
(the SQLite backup API) goes into a temporary folder and the artefacts and media are read in
place. Every recommender asked for (``--recommenders``, default those of ``MEASURED`` whose
engines are ready: late-tfidf-minilm, minilm, tfidf and lda) is measured on the
same 9 ratings of real paintings. ``--source synthetic`` builds a SQLite database with a
synthetic catalogue of ``--paintings`` paintings (seeded texts from a fixed vocabulary) and the
artefacts of the engines the asked recommenders use (LDA, MiniLM, TF-IDF; default minilm and
lda) in the temporary folder instead. A recommender that is not ready ends the run with the
recommenders' status before anything is measured.

Either way: a private redis-server on a free port is the cache (throttle counters, status
cache), throttles are lifted through the environment, and gunicorn (``config.wsgi``, production
settings, bound to 127.0.0.1 only, ``--workers`` sync workers, a 30 s request timeout, each
worker restarted after 100,000 requests) serves. ``ab`` (apache2-utils) drives each endpoint with
``--clients`` concurrent keep-alive clients for ``--requests`` requests (after a warm-up),
``--rounds`` times in turn, and the table with requests/s, p50, p99 (medians over the rounds)
and the ratios to the 9-painting list (median of the rounds' ratios), all measured in this one
run, is printed with the machine's load average. Per request it also gives the CPU the server
used (gunicorn's workers and Redis, ``/proc/<pid>/stat``), ``ab``'s own CPU (it shares the
cores) and the bytes answered: what a ratio below 1 is made of.

    python bench/rest.py [--source real|synthetic] [--var DIR] [--recommenders minilm,tfidf,lda]
                         [--paintings 1000] [--requests 1000] [--rounds 3] [--clients 50]
                         [--workers 2] [--workdir DIR] [--profile N [--profile-recommender NAME]]

``--workdir DIR`` builds into DIR and keeps it (a later synthetic run with the same DIR reuses
the database and artefacts). ``--profile N`` starts no server: it runs N recommendation requests
(and N paintings-list requests) in process through Django's test client under cProfile, with
the same settings, and prints the functions with the most cumulative and own time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = (  # fixed vocabulary of the synthetic texts
    "sea ship storm wave harbour sailor portrait lady silk pearl fan glove flower rose tulip vase "
    "fruit table winter snow skater canal village church saint angel madonna child landscape river "
    "mountain forest hunter dog horse battle soldier king queen crown garden fountain night moon"
)
WORDS = VOCABULARY.split()

SEED_SCRIPT = """
import random
from catalog.models import Artist, Painting, StoryGroup
rng = random.Random(7)
words = {words!r}
artists = [Artist.objects.create(name=f"Artist {{i}}") for i in range(40)]
groups = [StoryGroup.objects.create(name=f"Group {{i}}", slug=f"group-{{i}}") for i in range(10)]
Painting.objects.bulk_create([
    Painting(external_id=f"p{{i:05d}}", title=" ".join(rng.sample(words, 3)).title(),
             description=" ".join(rng.choices(words, k=30)), artist=artists[i % 40],
             story_group=groups[i % 10], source="bench")
    for i in range({n})
])
"""


PROFILE_SCRIPT = """
import cProfile, io, json, pstats, time
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
body = json.loads(open({body!r}).read())
url_post, url_list = "/api/v1/recommendations/", "/api/v1/paintings/?page_size=9"
for _ in range(20):  # warm-up: artefacts opened, caches filled
    assert client.post(url_post, body, content_type="application/json").status_code == 200
    assert client.get(url_list).status_code == 200
for name, call in (
    ("POST " + url_post, lambda: client.post(url_post, body, content_type="application/json")),
    ("GET " + url_list, lambda: client.get(url_list)),
):
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range({n}):
        call()
    profiler.disable()
    per = (time.perf_counter() - start) / {n} * 1000
    print(f"\\n== {{name}}: {n} requests in process, {{per:.2f}} ms each (profiled) ==")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats({top})
        text = out.getvalue()
        print(text[text.find("   ncalls"):])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _wait_redis(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _wait_http(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=120).read()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far (``/proc/<pid>/stat``)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker gone (recycled): its time is lost to this row
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def _workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _ab(url: str, *, n: int, c: int, body: Path | None = None, server: list[int] = ()) -> dict[str, float]:
    """One ``ab`` run: requests/s, p50 and p99 (ms), and per request the server's CPU ms (the
    processes ``server``: gunicorn's workers and Redis), ab's own CPU ms and the bytes answered."""
    command = ["ab", "-q", "-k", "-n", str(n), "-c", str(c), "-l"]
    if body is not None:
        command += ["-p", str(body), "-T", "application/json"]
    server_before, client_before = _cpu_s(list(server)), _children_cpu_s()
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    server_ms = (_cpu_s(list(server)) - server_before) * 1000 / n
    client_ms = (_children_cpu_s() - client_before) * 1000 / n
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if failed or non2xx:
        raise RuntimeError(f"{url}: {failed} failed, {non2xx.group(1) if non2xx else 0} non-2xx\n{out}")
    return {
        "rps": float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1)),
        "p50": float(re.search(r"\s50%\s+(\d+)", out).group(1)),
        "p99": float(re.search(r"\s99%\s+(\d+)", out).group(1)),
        "server_ms": server_ms,
        "client_ms": client_ms,
        "bytes": float(re.search(r"Total transferred:\s+(\d+)", out).group(1)) / n,
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def synthetic_engines(asked: list[str]) -> list[str]:
    """The engines ``--source synthetic`` builds for the ``asked`` recommenders (``MEASURED``);
    SystemExit naming what it cannot build."""
    engines = sorted({engine for name in asked for engine in MEASURED.get(name, ())})
    unbuildable = [engine for engine in engines if engine not in SYNTHETIC_ENGINES]
    if unbuildable:
        sys.exit(
            f"--source synthetic builds {', '.join(SYNTHETIC_ENGINES)} only (no image model weights "
            f"offline); the recommenders asked for also use {', '.join(unbuildable)}."
        )
    if not engines:
        sys.exit(f"--source synthetic knows the engines of {', '.join(MEASURED)}; asked: {', '.join(asked)}.")
    return engines


def _synthetic(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Build (or reuse) the synthetic catalogue and the artefacts of the engines the asked
    recommenders use (default minilm and lda) in ``tmp``."""
    asked = args.recommenders.split(",") if args.recommenders else ["minilm", "lda"]
    engines = synthetic_engines(asked)
    env.update(
        {"RECSYS_ENABLED_ENGINES": ",".join(engines), "RECSYS_LDA_TOPICS": "20", "RECSYS_LDA_PASSES": "3"}
    )
    built = tmp / "built.json"
    before = json.loads(built.read_text()) if built.exists() else {}
    if before and before.get("paintings") != args.paintings:
        sys.exit(
            f"{tmp} holds {before.get('paintings')} paintings, not {args.paintings}: use another --workdir."
        )
    missing = [engine for engine in engines if engine not in before.get("engines", [])]
    if not missing:
        print(f"reusing {tmp}", flush=True)
    else:
        print(
            f"building in {tmp}: {args.paintings} paintings, artefacts of {', '.join(missing)} ...",
            flush=True,
        )
        if not before:
            _manage(env, "migrate", "--noinput")
            _manage(env, "shell", stdin=SEED_SCRIPT.format(words=WORDS, n=args.paintings))
        for engine in missing:
            _manage(env, "precompute", "--engine", engine)
        built.write_text(
            json.dumps(
                {"paintings": args.paintings, "engines": sorted({*before.get("engines", []), *engines})}
            )
        )
    return [f"p{i:05d}" for i in range(args.paintings)], asked


def not_ready(statuses: list[dict[str, Any]], asked: list[str]) -> str | None:
    """Why the run cannot measure ``asked``, from /api/v1/recommenders/'s answer (None: all ready)."""
    status = {row["name"]: row["status"] for row in statuses}
    missing = {name: status.get(name, "unknown") for name in asked if status.get(name) != "ready"}
    if not missing:
        return None
    listed = ", ".join(f"{name} ({why})" for name, why in missing.items())
    return f"not ready: {listed}. Ready: {', '.join(n for n, s in status.items() if s == 'ready') or 'none'}."


def _check_ready(base: str, asked: list[str]) -> None:
    """Exit unless every asked recommender is ready (an unknown name or an engine still computing
    would otherwise fail ``ab``'s warm-up with a page of 503s)."""
    statuses = json.loads(urllib.request.urlopen(f"{base}/api/v1/recommenders/", timeout=300).read())
    why = not_ready(statuses, asked)
    if why:
        sys.exit(why)


#: engines ``--source synthetic`` can build here
SYNTHETIC_ENGINES = ("lda", "minilm", "tfidf")
#: what the real-sample run measures by default (each when its engines are ready): the default
#: recommender where TF-IDF and MiniLM are ready (late-tfidf-minilm) and each engine alone
MEASURED = {
    "late-tfidf-minilm": ("tfidf", "minilm"),
    "minilm": ("minilm",),
    "tfidf": ("tfidf",),
    "lda": ("lda",),
    "resnet": ("resnet",),
    "clip": ("clip",),
    "blip": ("blip",),
}


def _real_sample(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """A consistent copy of ``--var``'s database in ``tmp``; artefacts and media read in place."""
    source = args.var / "db.sqlite3"
    if not source.exists():
        sys.exit(
            f"{source} does not exist: run `make run` once (it imports the sample), or --source synthetic."
        )
    target = tmp / "db.sqlite3"
    target.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        external_ids = [row[0] for row in dst.execute("SELECT external_id FROM catalog_painting ORDER BY id")]
        ready = {row[0] for row in dst.execute("SELECT engine FROM recsys_artefact WHERE is_active")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{target}",
            "RECSYS_ARTEFACT_ROOT": str(args.var / "artefacts"),
            "MEDIA_ROOT": str(args.var / "media"),
        }
    )
    asked = (
        args.recommenders.split(",")
        if args.recommenders
        else [name for name, engines in MEASURED.items() if ready.issuperset(engines)]
    )
    missing = [name for name in asked if not ready.issuperset(MEASURED.get(name, ()))]
    if not external_ids or not asked or missing:
        sys.exit(
            f"{args.var}: {len(external_ids)} paintings, ready engines {sorted(ready) or 'none'}; "
            f"not ready for {missing or 'any of minilm, tfidf, lda'}. "
            "Build them (make run, or manage.py precompute)."
        )
    print(
        f"real sample: {len(external_ids)} paintings from {source}; recommenders {', '.join(asked)}",
        flush=True,
    )
    return external_ids, asked


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source",
        choices=["real", "synthetic"],
        default="real",
        help="the real sample (default) or synthetic",
    )
    parser.add_argument("--var", type=Path, default=ROOT / "var", help="embedded state of the real sample")
    parser.add_argument(
        "--recommenders", help="comma-separated (default: those of MEASURED whose engines are ready)"
    )
    parser.add_argument("--paintings", type=int, default=1000, help="synthetic catalogue size")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="each endpoint this many times, interleaved")
    parser.add_argument("--ratings", type=int, default=9)
    parser.add_argument("--workdir", help="build here and keep it (reused by a later run)")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N requests in process instead")
    parser.add_argument("--top", type=int, default=30, help="functions printed per profile table")
    parser.add_argument("--profile-recommender", default="", help="default: the first one measured")
    args = parser.parse_args()
    for tool in ("ab", "redis-server"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install apache2-utils redis-server).")

    tmp = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-rest-"))
    tmp.mkdir(parents=True, exist_ok=True)
    redis_port, web_port = _free_port(), _free_port()
    lifted = "100000000/min"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "VAR_DIR": str(tmp),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "1",  # precompute runs here; nothing is queued
        "RECSYS_HF_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "RECSYS_AUTO_REFRESH": "0",
        "LOG_LEVEL": "WARNING",
        **{f"API_THROTTLE_{scope}": lifted for scope in ("ANON", "USER", "RECOMMEND_ANON", "AUTH")},
    }
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--dir",
                    str(tmp),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        if args.source == "real":
            external_ids, recommenders = _real_sample(args, tmp, env)
        else:
            external_ids, recommenders = _synthetic(args, tmp, env)
        rng = random.Random(1)
        rated = rng.sample(external_ids, args.ratings)
        ratings = {external_id: rng.randint(1, 5) for external_id in rated}
        bodies = {}
        for name in recommenders:  # the same ratings for every recommender
            bodies[name] = tmp / f"{name}.json"
            bodies[name].write_text(json.dumps({"ratings": ratings, "recommender": name, "n": 9}))
        if args.profile:
            script = PROFILE_SCRIPT.format(
                body=str(bodies[args.profile_recommender or recommenders[0]]), n=args.profile, top=args.top
            )
            _wait_redis(redis_port)
            web = {name: os.environ.get(name, "1") for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
            subprocess.run(  # one BLAS thread, as config.wsgi gives a web process (config/blas.py)
                [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env={**env, **web}, check=True
            )
            return
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--workers",
                    str(args.workers),
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--keep-alive",
                    "5",
                    "--log-level",
                    "warning",
                    "--timeout",
                    "30",
                    "--max-requests",
                    "100000",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        base = f"http://127.0.0.1:{web_port}"
        _wait_http(f"{base}/admin/login/")
        for _ in range(args.workers * 2):  # each worker checks the engines' models once (cached)
            urllib.request.urlopen(f"{base}/api/v1/recommenders/", timeout=300).read()
        _check_ready(base, recommenders)
        rows = [
            ("GET /admin/login/", f"{base}/admin/login/", None),
            ("GET /api/v1/paintings/?page_size=9", f"{base}/api/v1/paintings/?page_size=9", None),
            *(
                (f"POST /api/v1/recommendations/ ({name})", f"{base}/api/v1/recommendations/", body)
                for name, body in bodies.items()
            ),
            ("GET /api/v1/recommenders/", f"{base}/api/v1/recommenders/", None),
        ]
        server = [*_workers_of(procs[-1].pid), procs[0].pid]  # gunicorn's workers, redis-server
        for _name, url, body in rows:
            _ab(url, n=max(100, args.requests // 10), c=args.clients, body=body)  # warm-up
        # rounds interleave the endpoints, so a change of the machine's load hits every row alike
        rounds: list[dict[str, dict[str, float]]] = []
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds} ...", flush=True)
            rounds.append(
                {
                    name: _ab(url, n=args.requests, c=args.clients, body=body, server=server)
                    for name, url, body in rows
                }
            )
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if not args.workdir:
            shutil.rmtree(tmp, ignore_errors=True)

    reference = "GET /api/v1/paintings/?page_size=9"
    catalogue = f"{len(external_ids)} real sample" if args.source == "real" else f"{args.paintings} synthetic"
    print(
        f"\n{args.workers} gunicorn sync workers, {args.clients} clients, {args.requests} requests each, "
        f"{args.rounds} round(s), {catalogue} paintings, {args.ratings} ratings, n = 9; Redis cache; medians "
        f"over the rounds; the ratio is the median of each round's ratio; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end\n"
    )
    print(
        "| endpoint | requests/s | p50 ms | p99 ms | p99/p50 | rps / paintings list "
        "| server CPU ms | ab CPU ms | bytes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in rounds[0]:
        rps, p50, p99, server_ms, client_ms, size = (
            statistics.median(r[name][key] for r in rounds)
            for key in ("rps", "p50", "p99", "server_ms", "client_ms", "bytes")
        )
        ratio = statistics.median(r[name]["rps"] / r[reference]["rps"] for r in rounds)
        print(
            f"| {name} | {rps:.0f} | {p50:.0f} | {p99:.0f} | {p99 / max(p50, 1):.2f} | {ratio:.2f} "
            f"| {server_ms:.2f} | {client_ms:.2f} | {size:.0f} |"
        )
    print(
        "\nserver CPU ms: gunicorn's workers and Redis, per request; ab CPU ms: the load generator's "
        "own, on the same cores; bytes: per response, headers included"
    )


if __name__ == "__main__":
    main()
