"""Where the mixed load's time goes (issue 17): its requests replayed in this process, once through
and once under cProfile, on the database of DATABASE_URL.

    python -m kehu.bench.scenarios --meta META.json --out SPEC.json
    python -m kehu.bench.mixprofile SPEC.json [--sort tottime|cumulative] [--top 60] [--callers REGEX]

The requests are those of `kehu.bench.run.mixed_requests` (every generated API list scenario of
customers, contacts, opportunities, follow-ups and tasks, customer details, and writes for a fifth
of them), in a shuffled order. Prints the mean time of a request without the profiler (the
database's time included), then the profile. The writes change the database a little each run."""

import argparse
import itertools
import json
import os
import random
import re
import time


def requests_of(spec: dict, seed: int = 7) -> list[tuple]:
    """(method, path, token, body) of every read the mixed load draws, and writes for a fifth."""
    from . import run

    entry = run._lua_entry
    run._lua_entry = lambda method, path, token, body=None: (method, path, token, body)
    try:
        reads, writes = run.mixed_requests(spec)
    finally:
        run._lua_entry = entry
    rng = random.Random(seed)
    requests = list(reads) + [rng.choice(writes) for _ in range(len(reads) // 4)]
    rng.shuffle(requests)
    return requests


def kind_of(request: tuple) -> str:
    """"GET /api/v1/customers/?q&sort" for a list (its parameters' names), "GET
    /api/v1/customers/{id}" for a detail."""
    from urllib.parse import parse_qsl

    method, path = request[0], request[1]
    base, _, query = path.partition("?")
    parts = ["{id}" if part.isdigit() else part for part in base.split("/")]
    names = sorted({name for name, _value in parse_qsl(query, keep_blank_values=True)})
    return f"{method} {'/'.join(parts)}" + ("?" + "&".join(names) if query else "")


def print_slowest(timed: list[tuple[float, tuple]], n: int) -> None:
    """Each kind's share of the whole time, then the n slowest requests."""
    total = sum(ms for ms, _ in timed)
    kinds: dict[str, list[float]] = {}
    for ms, request in timed:
        kinds.setdefault(kind_of(request), []).append(ms)
    print(f"{'kind':<48} {'n':>5} {'mean ms':>8} {'max ms':>8} {'share':>6}")
    for kind, times in sorted(kinds.items(), key=lambda kv: -sum(kv[1])):
        print(f"{kind:<48} {len(times):>5} {sum(times) / len(times):>8.2f} {max(times):>8.1f} "
              f"{sum(times) / total:>6.1%}")
    for ms, request in sorted(timed, key=lambda item: -item[0])[:n]:
        print(f"{ms:8.1f} ms  {request[0]} {request[1]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kehu.bench.mixprofile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--callers", help="print the callers of the functions matching this instead")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--slowest", type=int, default=0,
                        help="also print the time of each kind of request and the N slowest requests")
    parser.add_argument("--only", help="replay only the requests whose kind matches this regex")
    opts = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    os.environ.setdefault("KEHU_DEBUG", "0")
    import cProfile
    import pstats

    import django

    django.setup()
    from django.test import Client

    with open(opts.spec, encoding="utf-8") as fh:
        requests = requests_of(json.load(fh))
    if opts.only:
        requests = [r for r in requests if re.search(opts.only, kind_of(r))]
    client, counter, rng = Client(HTTP_HOST="127.0.0.1"), itertools.count(1), random.Random()

    def send(method, path, token, body):
        if body:  # as the load's Lua script fills them: a unique text, a name like no other
            body = body.replace("{uniq}", f"replay{next(counter)}").replace(
                "{name}", f"{rng.getrandbits(31):08x}{rng.getrandbits(31):08x}")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if method == "GET":
            return client.get(path, **auth)
        if method == "PATCH":
            return client.patch(path, body, content_type="application/json", **auth)
        return client.post(path, body, content_type="application/json", **auth)

    for request in requests[:200]:  # warm: caches, compiled queries
        send(*request)
    timed = []
    started = time.perf_counter()
    for request in requests:
        t = time.perf_counter()
        send(*request)
        timed.append(((time.perf_counter() - t) * 1000, request))
    each = (time.perf_counter() - started) / len(requests) * 1000
    print(f"{len(requests)} requests, {each:.2f} ms each (no profiler)")
    if opts.slowest:
        print_slowest(timed, opts.slowest)
    if opts.no_profile:
        return 0
    profile = cProfile.Profile()
    profile.enable()
    for request in requests:
        send(*request)
    profile.disable()
    stats = pstats.Stats(profile).sort_stats(opts.sort)
    if opts.callers:
        stats.print_callers(opts.callers)
    else:
        stats.print_stats(opts.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
