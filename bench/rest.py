"""REST throughput: the issue-11 table against gunicorn with production settings on 127.0.0.1.

Builds everything in a temporary folder, so a run depends on nothing outside it: a SQLite
database with a synthetic catalogue of ``--paintings`` paintings (seeded texts from a fixed
vocabulary), the LDA and MiniLM artefacts built by ``manage.py precompute`` (the packaged MiniLM
model), a private redis-server on a free port as the cache (throttle counters, status cache),
throttles lifted through the environment, and gunicorn with ``--workers`` sync workers. Then
``ab`` (apache2-utils) drives each endpoint with ``--clients`` concurrent keep-alive clients for
``--requests`` requests (after a warm-up), and the table with requests/s, p50, p99 and the ratios
to the paintings list, all measured in this one run, is printed.

    python bench/rest.py [--paintings 1000] [--requests 2000] [--clients 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [  # fixed vocabulary of the synthetic texts
    *[
        "sea",
        "ship",
        "storm",
        "wave",
        "harbour",
        "sailor",
        "portrait",
        "lady",
        "silk",
        "pearl",
        "fan",
        "glove",
        "flower",
        "rose",
    ],
    *[
        "tulip",
        "vase",
        "fruit",
        "table",
        "winter",
        "snow",
        "skater",
        "canal",
        "village",
        "church",
        "saint",
        "angel",
        "madonna",
    ],
    *[
        "child",
        "landscape",
        "river",
        "mountain",
        "forest",
        "hunter",
        "dog",
        "horse",
        "battle",
        "soldier",
        "king",
        "queen",
        "crown",
    ],
    *["garden", "fountain", "night", "moon"],
]

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


def _ab(url: str, *, n: int, c: int, body: Path | None = None) -> dict[str, float]:
    command = ["ab", "-q", "-k", "-n", str(n), "-c", str(c), "-l"]
    if body is not None:
        command += ["-p", str(body), "-T", "application/json"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if failed or non2xx:
        raise RuntimeError(f"{url}: {failed} failed, {non2xx.group(1) if non2xx else 0} non-2xx\n{out}")
    return {
        "rps": float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1)),
        "p50": float(re.search(r"\s50%\s+(\d+)", out).group(1)),
        "p99": float(re.search(r"\s99%\s+(\d+)", out).group(1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paintings", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ratings", type=int, default=9)
    args = parser.parse_args()
    for tool in ("ab", "redis-server"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install apache2-utils redis-server).")

    tmp = Path(tempfile.mkdtemp(prefix="bench-rest-"))
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
        "RECSYS_ENABLED_ENGINES": "lda,minilm",
        "RECSYS_LDA_TOPICS": "20",
        "RECSYS_LDA_PASSES": "3",
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
        print(f"building in {tmp}: {args.paintings} paintings, LDA and MiniLM artefacts ...", flush=True)
        _manage(env, "migrate", "--noinput")
        _manage(env, "shell", stdin=SEED_SCRIPT.format(words=WORDS, n=args.paintings))
        _manage(env, "precompute", "--engine", "lda")
        _manage(env, "precompute", "--engine", "minilm")
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
                ],
                cwd=ROOT,
                env=env,
            )
        )
        base = f"http://127.0.0.1:{web_port}"
        _wait_http(f"{base}/admin/login/")
        for _ in range(args.workers * 2):  # each worker checks the engines' models once (cached)
            urllib.request.urlopen(f"{base}/api/v1/recommenders/", timeout=300).read()
        rng = random.Random(1)
        bodies = {}
        for engine in ("minilm", "lda"):
            rated = rng.sample(range(args.paintings), args.ratings)
            body = {"ratings": {f"p{i:05d}": rng.randint(1, 5) for i in rated}, "recommender": engine, "n": 9}
            bodies[engine] = tmp / f"{engine}.json"
            bodies[engine].write_text(json.dumps(body))
        rows = [
            ("GET /admin/login/", f"{base}/admin/login/", None),
            ("GET /api/v1/paintings/?page_size=9", f"{base}/api/v1/paintings/?page_size=9", None),
            ("POST /api/v1/recommendations/ (minilm)", f"{base}/api/v1/recommendations/", bodies["minilm"]),
            ("POST /api/v1/recommendations/ (lda)", f"{base}/api/v1/recommendations/", bodies["lda"]),
            ("GET /api/v1/recommenders/", f"{base}/api/v1/recommenders/", None),
        ]
        results = {}
        for name, url, body in rows:
            _ab(url, n=max(100, args.requests // 10), c=args.clients, body=body)  # warm-up
            results[name] = _ab(url, n=args.requests, c=args.clients, body=body)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    reference = results["GET /api/v1/paintings/?page_size=9"]["rps"]
    print(
        f"\n{args.workers} gunicorn sync workers, {args.clients} clients, {args.requests} requests each, "
        f"{args.paintings} paintings, {args.ratings} ratings, n = 9\n"
    )
    print("| endpoint | requests/s | p50 ms | p99 ms | p99/p50 | rps / paintings list |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p99']:.0f} | "
            f"{r['p99'] / max(r['p50'], 1):.2f} | {r['rps'] / reference:.2f} |"
        )


if __name__ == "__main__":
    main()
