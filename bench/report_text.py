"""The prose of bench/RESULTS.md around the figures: how they were measured, and for each missed
target what the profile shows stops it and what would fix it."""

from __future__ import annotations

import json
from typing import Any

INTRO = """\
# Benchmark results

Written by `make bench` (`bench/run.py`); do not edit by hand: the next run rewrites it, except for
the section on the transparency log at scale, which `bench/tlog_scale.py`'s owner records and this
harness keeps verbatim.
Benchmarks are not tests: nothing here asserts on timings.
"""

METHOD = """\
## How it was measured

- Side by side, in one run, on one machine shared with other work: before each section the
  harness waits up to 30 s for the 1-minute load average to fall under 1.5 and records it (see
  Detail); a section that ran on a loaded machine reads low on parallel and latency figures. Figures compared with each other run in alternating
  rounds (A, B, A, B, ...), so that whatever else the machine does weighs on both sides alike. Each
  figure is the median of its rounds; the spread is the interquartile range (IQR). A ratio is the
  median of the per-round ratios.
- **Review bundle**: 1 KiB of text under `text-v1`, a DSSE envelope signed by a P-256 leaf issued by
  the publisher's issuing CA under its root (chain of depth 2), logged in a transparency log of
  1,024 entries (an inclusion proof of 10 hashes up to an Ed25519-signed checkpoint), a CRL in the
  trust root, an identity policy. "Same author and checkpoint" verifies the same bundle again (the
  chain, CRL and checkpoint caches are warm, as for a platform ingesting many reviews by one
  author from one log checkpoint); "new author and checkpoint" verifies bundles never seen before,
  each by a freshly certified key and logged under a new checkpoint (those caches miss).
- **Service**: `prov init` home, `prov serve` (one worker for verify/healthz) on
  loopback (SQLite, the default), the
  same load generator for both routes ({generator}; 1 thread, 32 connections, {seconds} s per run),
  the per-key rate limit raised for the run. Workers: a one-worker and a two-worker server up at
  once, /v1/verify on each in alternating rounds. Sign at submission: one and two workers, each on
  a fresh PostgreSQL database (created and dropped), both up at once and loaded in alternating
  rounds by the same generator at 32 connections (wrk keeping every 200 answer through its Lua
  `response` hook), then every returned bundle verified with the library against its server's
  trust root.
- **Large content**: a file of random bytes made with `head -c` in /tmp, `prov sign` and
  `prov verify` as processes against `sha256sum` of the same (page-cached) file; peak memory is
  GNU time's maximum resident set size of each process.
- **Media**: `provenance.media.sign_media` / `verify_media` in process against the raw
  c2pa-python calls (`Builder.sign` with the same manifest definition, callback signer and trust
  settings; `Reader` with the same settings) on the same JPEG; the CLI's process time separately.
"""

NOTES = {
    "verify": """\
**Library verify (target >= 0.6 of the raw P-256 verify rate): not met (0.14 at the start of
issue 14; the table's figure now). Two rows of the same run bound what is reachable.** The raw
P-256 verify is the only cryptographic work left on the warm path (the chain, CRL facts and
checkpoint signature are cached by exact bytes).

- *Bound with no check at all* (0.64 in this run, 0.59 to 0.64 in the three runs of
  2026-12-03): interleaved with the raw verify, the harness times only the C-level calls a verify
  cannot skip, with nothing between them: the JSON reads of the bundle and statement (the
  standard library's scanner, as the library must read untrusted JSON: orjson's key cache
  compares hashes, not bytes, see specs/threat-model.md), the base64 decodes, the split, strip and
  hash of the 1 KiB text, the PAE, envelope and leaf hashes, the 10 proof hashes, two cache
  lookups. At 0.64, the target leaves every check of the bundle, statement, certificate facts,
  CRL, log binding, policy and findings about 10 us (84 us per P-256 verify in this run: the
  whole verify may take 139 us, the P-256 verify and the calls above take 128 us); in Python that
  is some 60 function calls, where the checks are about 390.
- *Bound for any faster reader* (0.57 in this run, 0.45 to 0.59 in the three runs): the verifier
  with its parse step free, the bundle and statement handed over already parsed (with every memo
  the parsed bundle keeps), every other step run as the library runs it. So a reader of bundles
  and statements that cost nothing, native or not, still leaves the ratio under the target: the
  checks after parsing (signature key and keyid, log binding and proof, chain and CRL facts,
  content digest, policy, findings) take about 47 us in Python on their own.

Meeting 0.6 therefore takes the checks themselves out of Python: a second implementation of the
verification algorithm in native code, not a faster parser (the previous runs' notes named a
native reader; the second row shows it would not be enough). For a tool whose verdict is only
worth the cheapest attack it survives, two implementations of every check of untrusted input is
a worse trade than this ratio; the service's targets (verify/healthz, workers) are met with the
library as it is. Changes of 2026-12-03, none dropping a check: bundles and statements of the
common shape read in one pass (exact key sets and JSON types; anything else goes to the general
reader, which gives every error; differential tests against the previous parsers), the envelope
hash from the base64 text it was read from, per-certificate facts of the log leaf kept by DER,
frozen records built with one dictionary write, the step plan precomputed (callgrind: 1.99M ->
1.66M instructions per warm verify; the raw P-256 verify is 0.87M). Compiling the hot modules
with mypyc was tried: 0.32 -> 0.40 on the same machine, after seven source changes, two of which
it needed because compiled code turned malformed bundles into `TypeError` (a 500 in the
service) without any linter noticing; not shipped.
""",
    "sigstore": """\
**Against sigstore-python (targets: warm 20x, from the original brief; a new author and checkpoint
each time 3x, issue 14): not met. The row under the 3x row bounds it.** That row is sigstore's
time over only the crypto a verification of a new bundle with a certificate chain and a log proof
cannot skip (`bench.cold_crypto`, timed in the same rounds: the new leaf's path validation by
`x509.verification`, with its two ECDSA verifies and the parsing of the new certificate; the
Ed25519 checkpoint verify; the DSSE P-256 verify): 3.9x in this run (3.9x to 4.1x in the three
runs of 2026-12-03). 3x of sigstore therefore leaves 1/3 - 1/3.9 = 7.6% of sigstore's time for
everything of a new bundle but that crypto (reading it, the new certificate's profile, the
revocation and note checks, every check of the warm path); ours takes 1/2.04 - 1/3.9 = 23%
of it, and the warm path's reading and checks alone (see "Library verify": the floor's C calls
and the checks after parsing) take more than the 7.6%. What would meet it is what would meet the
warm target: the checks in native code. Changes of 2026-12-03 on this path (facts of a path's
CAs kept per their DER, the revocation plan per path of CAs, the note encoded once, bundle
certificates keyed by the DER they were parsed from): callgrind 5.59M -> 5.30M instructions per
cold verify, where the crypto is 3.64M and sigstore's verify 12.9M. Since then, a new
certificate is also checked to be the one outer encoding of its signed part (`bundle.malformed`
otherwise; 3 us of pyca's 1.6 us parse plus ours) and the chain's candidates are filtered to those
valid at the exact time before path building (both found by attacks).

Machine note for this run: sha256sum of 1 GiB took 4.8 s here against 3.0 s in a run on the
same machine 30 minutes earlier (the host ran slower: every absolute figure of this run reads
low, ratios less so). A run 10 minutes later on the same code, equally slow and noisier (IQRs up
to 120 ms on the sign p99), measured the sign p99 at 160 ms (1 worker) and 270 ms (2 workers);
side by side with the code of the earlier run (`python -m bench.sign_compare --before <checkout
of bf965bf> --rounds 3 --seconds 8`), this code signed 740 against 636 req/s, p99 66 against 85
ms, 1.39 against 1.61 ms of server CPU per request: the code did not regress, the host did.
""",
    "batch": """\
**Batch verify on both cores (target >= 1.7x one core): not met in this run.** The pool is one
process per core, each with its own verifier and warm caches, chunks of 250 verifications (little
IPC). On this 2-core machine anything else running (other sessions' tests, the load average is in
the header) takes a core away from one of the two workers; with an idle machine the ratio is
bounded only by the chunk hand-off. What would help: run on an idle machine; larger chunks.
""",
    "service": """\
**Service: /v1/verify throughput against /healthz (target >= 0.6): see the table.** A verify
request reads and writes no database in the steady state (keys from a cache checked on the event
loop, rate limits in memory or Redis, CRL changes noticed every few seconds, the body parsed
once). This session: one ASGI middleware (metrics, body cap and strict JSON in one pass,
`verifier_api/gate.py`) instead of three; a fast path (`verifier_api/fast_path.py`) that answers
the common request (a cached key of the right scope, the in-memory rate limit, a strictly parsed
body) without FastAPI's dependency solving, a second body validation, the thread-pool hop and the
response-model pass, held byte for byte to the FastAPI path by a differential test; verification
on the event loop when nothing in it can wait on I/O (trust root in memory, no trust store, body
<= 64 KiB); responses serialized once by orjson. Measured side by side with the previous main
while other work loaded the machine: server CPU per verify request 3.53 -> 2.11 ms, the ratio 0.43
-> 0.62. What is left is the library's own verify (see "Library verify") and uvicorn's h11
protocol.
""",
    "workers": """\
**`prov serve --workers 2` / one worker on /v1/verify (target >= 1.6x): see the table.** Two
causes were found and fixed: the ~44 ms per request of two workers (`TCP_NODELAY` on accepted
connections), and, this session, the distribution of connections: on one shared listening socket
the first worker to wake accepted every pending connection, so wrk's 32 keep-alive connections
landed 27/5, 32/0, 32/0 and 28/4 in four tries and one worker did nearly all the work. Each worker
now listens in one `SO_REUSEPORT` group (Linux), which the kernel balances by connection hash
(16/16, 19/13, 21/11, 23/9 seen; a 32-connection pool is split binomially, so the busier worker
holds about 18 on average). What else bounds the ratio is the machine: two cores shared by both
workers and the load generator, so the two workers never get two whole cores.
""",
    "sign": """\
**Sign at submission on PostgreSQL (target >= 500 req/s, p99 <= 150 ms): see the table.** The log
no longer holds it: one commit serves a whole batch, each waiter's entry is proven from the tiles
that commit wrote (no query after the commit), the right edge of the tree is kept between commits,
a waiting request holds no thread, and API keys the cache knows are checked on the event loop.
This session the sign route got the same fast path as verify (no dependency solving, the strictly
parsed body reused, one serialization). Side by side on this machine right after this run
(`python -m bench.sign_compare --before <checkout of 459040b> --rounds 3 --seconds 8`, one worker,
32 clients, fresh PostgreSQL databases): 285 -> 360 req/s (x1.26), p99 233 -> 208 ms, server CPU
per request 3.46 -> 2.80 ms (x0.81), 8,210 of 8,210 bundles verified. The same starting code did
536 req/s in the previous run's harness: this machine ran at roughly half that speed today (see
the raw rows), and the target is absolute. What is left is the statement, envelope and signature,
uvicorn's h11 protocol and the access log line, and the wake-up of each waiter after the group
commit (about 5% of the CPU).
""",
    "media": """\
**Media verify against raw c2pa-python (target <= +10%): see the table.** c2pa's own signer
trust verification was about 40% of its `Reader` time, and the toolkit validates the signer's
chain itself anyway (`x509.verification` under the media profile). `verify_media` now reads first
with c2pa's signer trust off (c2pa still checks the claim signature, hashes, bindings, the
signer's profile and validity, and decides time-stamp trust under its own setting) and keeps that
result only when c2pa's signer trust could not have changed it: the toolkit validated the chain,
every CA on the path is carried in the claim's x5chain, the chain was checked at c2pa's time, and
no `c2pa.state` finding; otherwise it reads again with signer trust on (the previous path). A
differential test holds the verdict to the previous path on 23 built cases and the 12 C2PA
fixtures. A refusal over the signer's chain costs two reads. The CLI's process time is start-up
(`prov --help` alone is in the table).
""",
    "large": """\
**Large content (target <= 1.1x sha256sum, < 100 MB): see the table.** Both commands stream in
1 MiB chunks (peak memory is that of the interpreter and its imports, the same as `prov --help`).
The time is the SHA-256 of the file (hashlib, OpenSSL) plus the CLI's fixed start-up cost: on a
1 GiB file what is left above sha256sum is mostly that start-up (importing `verifier_api` with
FastAPI and SQLAlchemy for every command, see Media). What would fix it: import `cli.serve_cmd`
lazily in `cli/main.py` (owner: CLI).
""",
    "tlog": """\
**Inclusion proofs on PostgreSQL (issue 14: p50 <= 1 ms at 10M, met through the tile cache at 1M
in this run and at 10M in the recorded sections below; the brief's < 2 ms for a proof read
straight from the tables: see the table).** Read straight from the tiles table a proof costs a few
milliseconds (one state row and the tiles, each a round trip). The service serves proofs through
`TileCache` (full tiles and their interior hashes kept in memory, the right edge per tree size),
so a warm proof is a few memory reads plus the state-row read. A proof whose level-0 tile is not
cached (random access over a log larger than the cache, 4,096 tiles by default,
`PROVENANCE_LOG_TILE_CACHE_TILES`) costs one tile read and ~255 hashes. These figures are absolute
times, so they follow the machine: when a run's raw rows (P-256 verify/s, SHA-256, sha256sum,
batched append) read low against the previous run, so do these.
""",
    "model": """\
**Model signing against model_signing (target >= 1x): see the table.** Both tools hash the same
page-cached files; the ratio moves with the machine's I/O and load from run to run (1.11x and
1.14x in the previous run). Side by side outside the harness (8 files of 64 MiB, 4 alternating
rounds of `prov model sign` with the checkout at 459040b, then this one, first on `PYTHONPATH`, and
`python -m model_signing sign key`), this round's code spent about 5% more CPU than 459040b's
(1.28 s against 1.24 s, median) and its wall time stayed under model_signing's (0.99 s against
1.11 s).
""",
}


def _section(title: str, body: str) -> str:
    return f"## {title}\n\n{body.rstrip()}\n"


def _code(text: str) -> str:
    return f"```\n{text.rstrip()}\n```"


def _met(table: str, needle: str) -> bool:
    """Whether every table row mentioning ``needle`` is met (no '**no**')."""
    rows = [line for line in table.splitlines() if needle in line]
    return bool(rows) and all("**no**" not in line for line in rows)


def render(results: dict[str, Any], table: str, plots: list[str], tlog: str | None) -> str:
    """The whole of RESULTS.md."""
    machine = results["machine"]
    found = results.get("service")
    service: dict[str, Any] = found if isinstance(found, dict) else {}
    parts = [
        INTRO,
        _section("Machine, versions, command", _machine_text(machine, results)),
        _section("Figures against targets", table),
        METHOD.format(
            generator=service.get("generator", "wrk"), seconds=service.get("secondsPerRun", "?")
        ),
        _section("Plots", "\n\n".join(f"![{name}]({name})" for name in plots) or "(none)"),
        _section("Detail", _details(results)),
        _section("What stops the missed targets, and what would fix them", _notes(results, table)),
        _section("Optimizations made in this round", OPTIMIZATIONS),
    ]
    parts.append(
        tlog.rstrip() + "\n"
        if tlog
        else _section(
            "Transparency log at scale (PostgreSQL)",
            "(not recorded yet by `bench/tlog_scale.py`'s owner; this run's figures are in the table)",
        )
    )
    return "\n".join(parts)


def _machine_text(machine: dict[str, Any], results: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {value}" for name, value in machine["packages"].items())
    mode = (
        "BENCH_QUICK=1 make bench (smoke run: small counts)" if results["quick"] else "make bench"
    )
    return "\n".join(
        [
            f"- Command: `{mode}` (= `.venv/bin/python -m bench.run`), {machine['date']}, "
            f"commit {machine['git']}, {results.get('elapsed_seconds', '?')} s in all",
            f"- CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; Linux "
            f"{machine['kernel']}; load average at start {', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}",
            f"- Python {machine['python']}; {packages}",
            f"- {machine['postgres']}; {' '.join(machine['sha256sum'])}; {machine['wrk'] or 'wrk: not installed'}",
        ]
    )


def _details(results: dict[str, Any]) -> str:
    keep = {"load_average_before_each_section": results.get("load_average", {})}
    for name in (
        "library",
        "sigstore",
        "batch",
        "service",
        "workers",
        "sign_postgres",
        "tlog_scale",
        "media",
        "large",
        "content_curve",
        "log_curve",
    ):
        keep[name] = results.get(name, "not run")
    return (
        "Every figure of this run (seconds unless named otherwise; summaries are median, q1, q3, IQR, n):\n\n"
        + _code(json.dumps(keep, indent=1))
    )


def _notes(results: dict[str, Any], table: str) -> str:
    found = results.get("profiles")
    profiles: dict[str, str] = found if isinstance(found, dict) else {}
    checks = [
        ("verify", "verify rate / raw P-256", "library_verify"),
        ("sigstore", "sigstore time / our time", None),
        ("batch", "Batch verify", None),
        ("service", "/v1/verify throughput", "service_verify"),
        ("workers", "--workers 2` / one worker", None),
        ("sign", "Sign at submission", None),
        ("media", "Media ", "media_verify"),
        ("large", "sha256sum", None),
        ("tlog", "inclusion proof p50", None),
        ("model", "speed / model_signing", None),
    ]
    parts = []
    for key, needle, profile in checks:
        if needle is not None and _met(table, needle):
            continue  # met: no note (a note without a needle is always shown)
        parts.append(NOTES[key])
        if profile and profiles.get(profile):
            parts.append(
                f"Profile ({profile.replace('_', ' ')}):\n\n" + _code(profiles[profile]) + "\n"
            )
    return "\n".join(parts) or "Every target was met in this run."


OPTIMIZATIONS = """\
### This session (2026-12-03, issue 14)

Sign at submission on PostgreSQL, side by side with the session's starting code on this machine
(`python -m bench.sign_compare --before <checkout of 1161bfb> --rounds 3 --seconds 8`, 32
clients): one worker 676 -> 916 req/s, p99 127 -> 63 ms, server CPU 1.29 -> 0.95 ms per request;
two workers 458 -> 745 req/s, p99 250 -> 96 ms; every bundle verified.

| change | where | effect |
| --- | --- | --- |
| `gc.freeze()` after start-up: a full collection walked ~165k long-lived objects in ~170 ms with the GIL held, stalling every request in flight | `verifier_api/app.py` | sign p99 halved |
| A batch's waiters woken by one callback per event loop; a timer instead of `wait_for` + `shield` per request | `verifier_api/sequencer.py` | ~5% of sign CPU |
| The append's writes in one prepared statement (arrays, binary parameters); the other worker's right edge read in one query; no pre-ping before an append (a dead idle connection is retried once) | `provenance/tlog/sql.py` | CPU per batch of 12: 4.1 -> 2.5 ms; 3 -> 1 round trips under the lock |
| FastAPI's OpenTelemetry hooks off unless OpenTelemetry is configured | `verifier_api/app.py` | ~5% of the GIL time |
| One-pass readers of the common bundle and statement shapes; envelope hash from the base64 text read; leaf facts per certificate DER; frozen records built at once; a precomputed step plan | `bundle.py`, `statement.py`, `dsse.py`, `tlog/entry.py`, `_records.py`, `verify/verifier.py` | warm verify 1.99M -> 1.66M instructions; 0.34 -> 0.41 of raw P-256 |
| Strict JSON: an escaped non-ASCII character (every checkpoint's em dash, as ASCII-only clients send it) no longer sends the body to the step-by-step parser; `check_decoded` from one C-encoded compact text | `encoding.py` | /v1/verify server CPU 839 -> 753 us per request, verify/healthz 0.61 -> 0.68 side by side |
| Facts of a path's CAs kept per their DER; the revocation plan per path of CAs; a note encoded once; bundle certificates keyed by the DER they were parsed from | `identity/*`, `tlog/note.py` | cold verify 5.59M -> 5.30M instructions |

### Earlier round

Before and after, measured side by side on this machine (the pre-optimization commit a999ec8 and
this code alternating in separate processes, 5 rounds each, review bundle, single core; medians):

| | P-256 verify/s (raw) | warm verify/s | ratio to raw | cold verify/s (new author and checkpoint) |
| --- | --- | --- | --- | --- |
| before (a999ec8) | 15,450 | 930 | 0.06 | 895 |
| after | 15,040 | 2,030 | 0.13 to 0.18 | 1,040 |

| change | where | effect |
| --- | --- | --- |
| Validated chains cached per (chain, trust-root anchors and intermediates), reused only for a signing time inside the intersection of the validated path's validity periods (x509.verification uses the time for nothing else); a miss or a time outside the window runs the full validation | `identity/chain.py` | warm: no path building, no 2 P-256 verifies |
| CRL signature checks cached per (CRL DER, issuer DER) | `identity/revocation.py` | warm: no P-256 verify for the CRL |
| Opened checkpoints cached per (note text, trusted keys, origin); only successes are cached, a bad note fails every time | `tlog/note.py` | warm: no Ed25519 verify |
| Leaf keys cached per certificate (equal and hashed by DER) | `verify/verifier.py` | no SPKI re-parse |
| RFC 8785 (JCS) through the standard library's compact sorted encoder for plain values (ASCII strings, integers within 2**53, booleans, null: envelopes and log leaves), `rfc8785` for anything else; identical output on 50,000 random plain values | `encoding.py`, `dsse.py`, `tlog/entry.py` | envelope and leaf hashes ~5x faster |
| Strict JSON: nesting check walks only containers and stops at the cap; duplicate keys detected by building the dict in C | `encoding.py` | bundle parse 83 -> 64 us |
| text-v1 of in-memory text split in one pass, NFC skipped for ASCII lines (ASCII is NFC); identical bytes and errors on 100,000 random texts, bytes and streams | `text.py` | digest of 1 KiB 23 -> 15 us |
| Issuer subject strings computed once per validated chain | `identity/chain.py`, `identity/revocation.py`, `verify/verifier.py` | fewer `rfc4514_string` calls |

No check was removed or weakened: every cache is keyed by everything its answer depends on, and
the full check runs on every miss.
"""
