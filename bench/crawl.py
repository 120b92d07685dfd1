"""Benchmark: what the crawler costs next to what its downloads cost, per spider, on the replica.

For each spider, in one invocation, on a replica of N articles per portal with its faults off:
the full crawl into an empty database, the same crawl with the item pipelines off, and a
download-only spider (bench/download_only.py) fetching the same article URLs and QR images.
Each is its own `scrapy` process, as scheduled jobs are; the replica runs in a process of its own
(`python -m replica`), MongoDB in this one. Prints, per run: wall seconds, pages and articles per second, CPU milliseconds per
article (the crawler with its children, Chromium among them, and Chromium alone), peak RSS of
the crawler (its VmHWM), browser page loads, requests the browser check turned away, MongoDB write jobs per
article, and the seconds from "Closing spider" to "Spider closed" (the last writes, the reposts
job); then the ratios, the replica's own serving ceiling for pages and QR images, and where the
full crawl's CPU goes: the download-only spider's share, each of our stages timed over the full
crawl's archive (bench/stages.py), and the rest; and the floor under the CPU ratio, the downloads
and the page read alone (the lxml parse, the fields, the QR image), with no pipeline, archive or listing.

    .venv/bin/python bench/crawl.py --articles 2000
    .venv/bin/python bench/crawl.py --articles 10000 --json
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import stages  # noqa: E402
from crawler.portals import NAMES  # noqa: E402
from crawler.storage.mongo import connect, start_embedded_server  # noqa: E402
from replica.server import hpcc_value  # noqa: E402

STAGED_ARTICLES = 1500  # articles whose stages are timed one by one (bench/stages.py)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stats_of(log: str) -> dict:
    """The stats Scrapy dumps when the crawl closes."""
    found = re.search(r"Dumping Scrapy stats:\n(\{.*?\})\n", log, flags=re.S)
    if not found:
        return {}
    text = re.sub(r"datetime\.datetime\([^)]*\)", "None", found.group(1))
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {}


class ChromiumMeter:
    """CPU seconds of the Chromium processes under a process, and the process's own peak RSS, sampled from /proc.

    The peak is the kernel's VmHWM of the crawler's own memory. Scrapy's memusage/max is not: it reads
    getrusage's ru_maxrss, which Linux carries over from the parent at fork and exec, so a crawl
    started by this process (holding MongoDB, growing run by run) reported this process's size.
    """

    def __init__(self, root_pid: int) -> None:
        self.root, self.seen, self.stop = root_pid, {}, threading.Event()
        self.peak_rss_kb = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ChromiumMeter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                status = Path(f"/proc/{self.root}/status").read_text()
                self.peak_rss_kb = max(self.peak_rss_kb, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
            except (OSError, AttributeError):
                pass
            for pid in self._descendants():
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                if "chrom" in name:
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def _descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(parent, []).append(int(entry.name))
        out, todo = [], [self.root]
        while todo:
            for child in children.get(todo.pop(), []):
                out.append(child)
                todo.append(child)
        return out

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def run_scrapy(args: list[str], env: dict[str, str], log_path: Path) -> dict:
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        with ChromiumMeter(proc.pid) as chromium:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return {"seconds": seconds, "code": proc.returncode, "close_seconds": _close_seconds(log), "cpu": usage.ru_utime + usage.ru_stime,
            "chromium_cpu": chromium.seconds, "peak_rss_mb": chromium.peak_rss_kb / 1024,
            "stats": _stats_of(log), "log": str(log_path)}


def _close_seconds(log: str) -> float | None:
    """From "Closing spider" to "Spider closed" in the log (to the second): the pipelines' last writes and jobs, the extensions' close."""
    moments = [datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S")
               for what in ("Closing spider", "Spider closed") if (found := re.search(rf"^(\S+ \S+) \[[^]]+\] \w+: {what}", log, re.M))]
    return (moments[1] - moments[0]).total_seconds() if len(moments) == 2 else None


class ReplicaProcess:
    """`python -m replica` of N articles per portal with its faults off, in a process of its own."""

    def __init__(self, articles: int) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "replica", "--articles", str(articles), "--fault-rate", "0",
                                      "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.urls: dict[str, str] = {}
        for line in self.proc.stdout:
            if found := re.match(r"(city|police) portal:\s+(\S+)", line):
                self.urls[found.group(1)] = found.group(2)
            if len(self.urls) == 2:
                break
        if len(self.urls) < 2:
            raise RuntimeError("the replica did not start")

    def base_url(self, spider: str) -> str:
        return self.urls["city" if spider == "thanhphohaiphong" else "police"]

    def __enter__(self) -> ReplicaProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure_spider(spider: str, replica: ReplicaProcess, mongo_uri: str, folder: Path, repeat: int = 1) -> dict:
    """The full crawl, the crawl with pipelines off and the download-only spider, `repeat` rounds of the three
    interleaved; each kind's fastest run stands for it (this machine's runs of the same code differ by 10% and more)."""
    base = replica.base_url(spider)
    env = {**os.environ, "MONGO_URI": mongo_uri, "PORTAL_PROFILE": "replica", "PORTAL_DATA_DIR": str(folder / "data"),
           "PORTAL_MONITORS_ENABLED": "0"}
    every: dict[str, list[dict]] = {"full": [], "pipelines off": [], "download only": []}
    for round_ in range(1, repeat + 1):
        for name, extra in (("full", ["-s", "PORTAL_ARCHIVE_ENABLED=True"]), ("pipelines off", ["-s", "ITEM_PIPELINES={}"])):
            database = f"bench_crawl_{spider}_{name.split()[0]}"
            client, _ = connect(mongo_uri, database)
            client.drop_database(database)
            client.close()
            # Each run archives as a crawl does, in a folder of its own, emptied first: the reparse reads one full crawl.
            data_dir = folder / ("data" if name == "full" else "data-pipelines-off")
            shutil.rmtree(data_dir, ignore_errors=True)
            every[name].append(run_scrapy(["crawl", spider, "-a", f"base_url={base}", *extra],
                                          {**env, "PORTAL_DATA_DIR": str(data_dir), "MONGO_DATABASE": database},
                                          folder / f"{spider}-{name.replace(' ', '-')}-{round_}.log"))
        client, db = connect(mongo_uri, f"bench_crawl_{spider}_full")
        stored = db.articles.count_documents({})
        docs = list(db.articles.find({}, {"url": 1, "qr.image_url": 1}))
        client.close()
        urls = [replica_url(d["url"], base) for d in docs] + [replica_url(d["qr"]["image_url"], base) for d in docs if d.get("qr")]
        urls_file = folder / f"{spider}-urls.txt"
        urls_file.write_text("\n".join(urls), encoding="utf-8")
        script = "download_only_police.py" if spider == "congan_haiphong" else "download_only.py"
        every["download only"].append(run_scrapy(
            ["runspider", str(ROOT / "bench" / script), "-a", f"urls_file={urls_file}", "-s", "ITEM_PIPELINES={}", "-s", "EXTENSIONS={}"],
            {**env, "MONGO_DATABASE": "bench_unused"}, folder / f"{spider}-download-only-{round_}.log"))
    runs = {name: min(done, key=lambda run: run["seconds"]) for name, done in every.items()}
    # Re-extraction of what the full crawl archived, into an empty database, with no network.
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "crawler", "reparse", "--data-dir", str(folder / "data"), "--site", spider], cwd=ROOT,
                          env={**env, "MONGO_DATABASE": f"bench_crawl_{spider}_reparse", "PORTAL_LOG_LEVEL": "WARNING"},
                          capture_output=True, text=True, check=False)
    reparse_seconds = time.monotonic() - started
    reparsed = int(m.group(1)) if (m := re.search(r": (\d+) archived articles re-extracted", done.stdout)) else 0
    # Where the full crawl's CPU goes: each of our stages, over what the full crawl archived.
    staged = stages.measure(folder / "data" / "archive", STAGED_ARTICLES, mongo_uri, sites=(spider,))[spider]
    return {"stored": stored, "downloads": len(urls), "pages": [replica_url(d["url"], base) for d in docs], "runs": runs,
            "every": every, "reparse": {"seconds": reparse_seconds, "articles": reparsed, "code": done.returncode}, "stages": staged}


def replica_url(public: str, base: str) -> str:
    return base + "/" + public.split("/", 3)[3] if public.count("/") >= 3 else base + "/"


def ceiling(urls: list[str], seconds: float = 5.0, rounds: int = 3) -> float:
    """Requests a second the replica serves to 8 concurrent clients in another process: what it could give a crawler at most.

    The best of `rounds` measurements: a moment's noise on this machine took a third off one.
    A police page wants the browser-check cookie: a client earns one as the challenge's script would, again when it lapses.
    """
    return max(_served(urls, seconds) for _ in range(rounds))


def _served(urls: list[str], seconds: float) -> float:
    done, deadline = [0], time.monotonic() + seconds

    def worker(offset: int) -> None:
        i, cookie = offset, ""
        while time.monotonic() < deadline:
            request = urllib.request.Request(urls[i % len(urls)], headers={"Cookie": cookie} if cookie else {})
            with urllib.request.urlopen(request, timeout=10) as answer:
                body = answer.read()
            if token := re.search(rb'\bs="([0-9a-f]+)"', body[:2000]) if b"hpcc" in body[:2000] else None:
                cookie = "hpcc=" + hpcc_value(token.group(1).decode())
                continue
            done[0] += 1
            i += 8

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    return done[0] / seconds


def _labelled(result: dict) -> Iterator[tuple[str, dict, str]]:
    """Every run of a spider, labelled: with its round, and `*` on the one the ratios use, when there were rounds."""
    for name, done in result["every"].items():
        for n, run in enumerate(done, 1):
            chosen = "*" if run is result["runs"][name] else ""
            yield name, run, name if len(done) == 1 else f"{name} {n}{chosen}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="articles per portal (default 10000)")
    parser.add_argument("--spider", action="append", choices=NAMES, help="repeat; default every portal")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the three runs, interleaved; the fastest of each stands")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    results, ceilings = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        built = time.monotonic()
        server = start_embedded_server(folder / "mongo")
        try:
            with ReplicaProcess(args.articles) as replica:
                build_seconds = time.monotonic() - built
                for spider in args.spider or NAMES:
                    results[spider] = measure_spider(spider, replica, server.uri, folder, args.repeat)
                    ceilings[f"{spider} pages"] = ceiling(results[spider]["pages"])
                if "thanhphohaiphong" in results:
                    # Each QR image is asked for once in a crawl: unique payloads measure the replica rendering one.
                    qr = replica.base_url("thanhphohaiphong") + "/wp-content/plugins/hp-qr-code/qr.php?size=150&data="
                    pages = results["thanhphohaiphong"]["pages"]
                    ceilings["thanhphohaiphong QR images"] = ceiling([qr + urllib.request.quote(f"{pages[n % len(pages)]}?n={n}", safe="")
                                                                      for n in range(50_000)])
        finally:
            server.stop()
    print(f"replica: {args.articles} articles per portal, faults off (built and started in {build_seconds:.1f} s); "
          f"serving ceiling, 8 clients: " + ", ".join(f"{k} {v:.0f}/s" for k, v in ceilings.items()))
    if args.repeat > 1:
        print(f"{args.repeat} rounds of the three runs, interleaved; * the fastest of each kind, which the ratios use")
    print(f"{'spider':<18}{'run':<17}{'exit':>5}{'wall s':>8}{'pages/s':>9}{'arts/s':>8}{'CPU ms/art':>11}{'Chromium':>9}"
          f"{'peak MB':>8}{'browser':>8}{'turned':>7}{'jobs/art':>9}{'close s':>8}")
    summary = {}
    for spider, result in results.items():
        stored = max(1, result["stored"])
        for name, run, label in _labelled(result):
            stats = run["stats"]
            pages = stats.get("downloader/response_count", 0)
            articles = stored if name != "download only" else stats.get("download_only/pages", 0)
            run["articles_per_s"] = articles / run["seconds"]
            run["cpu_ms_per_article"] = 1000 * run["cpu"] / stored
            print(f"{spider:<18}{label:<17}{run['code']:>5}{run['seconds']:>8.1f}{pages / run['seconds']:>9.1f}"
                  f"{run['articles_per_s']:>8.1f}{run['cpu_ms_per_article']:>11.1f}{1000 * run['chromium_cpu'] / stored:>9.1f}"
                  f"{run['peak_rss_mb']:>8.0f}{stats.get('playwright/page_count', 0):>8}"
                  f"{stats.get('browser_check/turned_away', 0):>7}{stats.get('mongo/jobs', 0) / stored:>9.3f}"
                  f"{run['close_seconds'] if run['close_seconds'] is not None else '?':>8}")
        full, off, plain = (result["runs"][k] for k in ("full", "pipelines off", "download only"))
        summary[spider] = {
            "articles": result["stored"],
            "full_over_download_only": full["seconds"] and plain["seconds"] / full["seconds"],
            "full_over_pipelines_off": off["seconds"] / full["seconds"],
            "cpu_over_download_only": full["cpu"] / max(plain["cpu"], 1e-9),
            "cpu_ms_per_article": full["cpu_ms_per_article"],
            "peak_rss_mb": full["peak_rss_mb"],
            "browser_page_loads": full["stats"].get("playwright/page_count", 0),
            "turned_away": full["stats"].get("browser_check/turned_away", 0),
            "reparse_articles_per_s": result["reparse"]["articles"] / result["reparse"]["seconds"],
            "stage_ms_per_article": {name: result["stages"][name] for name in stages.STAGES},
        }
        s = summary[spider]
        full_pages = full["stats"].get("downloader/response_count", 0) / full["seconds"]
        s["replica_ceiling_over_crawl"] = ceilings[f"{spider} pages"] / max(full_pages, 1e-9)
        if spider == "thanhphohaiphong":
            s["replica_qr_ceiling_over_crawl"] = ceilings["thanhphohaiphong QR images"] / max(full["articles_per_s"], 1e-9)
        print(f"{spider:<18}ratios: full / download-only {s['full_over_download_only']:.2f} (goal ≥ 0.5), "
              f"full / pipelines-off {s['full_over_pipelines_off']:.2f} (≥ 0.9), CPU full / download-only "
              f"{s['cpu_over_download_only']:.2f} (≤ 1.5); reparse {result['reparse']['articles']} articles from the archive "
              f"at {s['reparse_articles_per_s']:.0f}/s (exit {result['reparse']['code']}); replica ceiling / crawl rate: pages "
              f"{s['replica_ceiling_over_crawl']:.1f}" + (f", QR images {s['replica_qr_ceiling_over_crawl']:.1f}"
                                                          if "replica_qr_ceiling_over_crawl" in s else "") + " (goal ≥ 5)")
        staged, plain_ms = s["stage_ms_per_article"], plain["cpu_ms_per_article"]
        rest = s["cpu_ms_per_article"] - plain_ms - sum(staged.values())
        print(f"{spider:<18}CPU ms an article, full {s['cpu_ms_per_article']:.1f} = download-only {plain_ms:.1f} + our stages "
              f"{sum(staged.values()):.1f} (" + ", ".join(f"{k} {v:.2f}" for k, v in staged.items()) + f"; bench/stages.py over "
              f"{result['stages']['articles']} archived articles) + the rest {rest:.1f} (listings, our middlewares, extensions, "
              f"signals and stats, the pipelines' plumbing, the reposts job at close, start-up); the goal allows {1.5 * plain_ms:.1f}")
        # The least any crawl that keeps the records can cost: the downloads, and reading each page's fields off it.
        floor = plain_ms + staged["lxml"] + staged["fields"] + staged["QR"]
        s["page_read_floor_over_download_only"] = floor / max(plain_ms, 1e-9)
        print(f"{spider:<18}the downloads and the page read alone (lxml, fields, QR): {floor:.1f} ms an article, "
              f"{s['page_read_floor_over_download_only']:.2f} × download-only, before any pipeline, archive or listing")
    if args.json:
        print(json.dumps({"articles": args.articles, "ceilings": ceilings, "spiders": summary}))


if __name__ == "__main__":
    main()
