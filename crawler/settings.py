"""Scrapy settings. Per-environment values come from the environment or job settings, never edits.

`PORTAL_PROFILE` picks the politeness profile (see `crawler.profiles`): `live` (the default,
for the real portals) or `replica` (the local replica, fast).
"""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.settings import default_settings

from crawler import __version__
from crawler.portals import DEFAULT_DATABASE

# Scrapy's cookie jar splits domains with tldextract, which would fetch the public suffix list
# from the internet at start-up; the snapshot it ships is enough, and crawl hosts may be offline.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

BOT_NAME = "haiphong_portal_crawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

PORTAL_PROFILE = os.environ.get("PORTAL_PROFILE", "live")
PORTAL_DATA_DIR = os.environ.get("PORTAL_DATA_DIR", str(Path.cwd() / "data"))
# The deployed version: scrapyd's egg version when scheduled by `python -m crawler schedule`.
PORTAL_VERSION = os.environ.get("SCRAPYD_EGG_VERSION") or __version__
PORTAL_BROWSER_CHECK_ATTEMPTS = 3
PORTAL_BROWSER_IDLE_SECONDS = 60.0  # Chromium is closed after this long unused; started again when a page needs it
# Requests sent one at a time with a browser-check cookie whose lifetime is not known yet, at most: one
# still good after them is taken to last long (crawler/middlewares/browser_check.py).
PORTAL_BROWSER_CHECK_ONE_AT_A_TIME = 1000
ADDONS = {"crawler.profiles.PortalProfileAddon": 0}

MONGO_URI = os.environ.get("MONGO_URI") or None
# Without MONGO_URI a crawl may start its own embedded MongoDB, but never under scrapyd: the next
# job could not see a private store, and two jobs cannot open one data folder.
MONGO_EMBEDDED = os.environ.get("MONGO_EMBEDDED", "0" if os.environ.get("SCRAPY_PROJECT") else "1") == "1"
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", DEFAULT_DATABASE)
MONGO_BATCH_SIZE = 100
# Settle reposts across the collection when the crawl closes. A reparse's processes leave it to
# the command, which settles once after all of them: one sweep of the collection, not one a process.
PORTAL_REPOSTS_AT_CLOSE = True
# Writes go through one worker thread (crawler.storage.durable): at most this many batches wait for it,
# then the pipelines wait (back-pressure) instead of the downloads freezing.
MONGO_MAX_PENDING_JOBS = 20
# An outage shorter than this is ridden through with no loss; a longer one spills the pending
# writes to PORTAL_DATA_DIR/spill/, closes the crawl (exit status 3), and the next run replays them.
MONGO_OUTAGE_BUDGET = float(os.environ.get("MONGO_OUTAGE_BUDGET", "300"))
# The raw archive (crawler/storage/archive.py): every article page and image fetched, as WARC under PORTAL_DATA_DIR/archive,
# a new file past this size; `python -m crawler reparse` re-extracts from it.
PORTAL_ARCHIVE_ENABLED = os.environ.get("PORTAL_ARCHIVE_ENABLED", "1") == "1"
PORTAL_ARCHIVE_MAX_MB = 256.0
PORTAL_HEARTBEAT_SECONDS = 30.0  # how often a running run says it is alive (crawl_runs.heartbeat_at)
# One job of a spider at a time (crawler/operations/lease.py): the lease a job renews each heartbeat lapses after
# this long unrenewed (a killed job), longer than MONGO_OUTAGE_BUDGET so that an outage ridden through keeps it.
PORTAL_LEASE_SECONDS = float(os.environ.get("PORTAL_LEASE_SECONDS", "600"))
COMMANDS_MODULE = "crawler.commands"  # `scrapy crawl` that exits with how the run ended

VALIDATE_MIN_BODY_CHARS = 200
VALIDATE_EARLIEST_DATE = "1995-01-01"
VALIDATE_FUTURE_TOLERANCE_HOURS = 24

USER_AGENT = f"haiphong-portal-crawler/{__version__} (+https://github.com/haiphong-portal-crawler; data team crawler)"
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
DOWNLOAD_TIMEOUT = 30

# Bounds: nothing a portal sends may take more than these (issue 24). A page or an answer larger
# than DOWNLOAD_MAXSIZE, before or after decompression, is not read: the article is a reject `too_large`.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # the portals' pages are 50-200 KB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
PORTAL_MAX_IMAGE_BYTES = 2 * 1024 * 1024  # a QR image (about 1 KB); larger: reject `image_too_large`
PORTAL_MAX_IMAGE_PIXELS = 4_000_000  # a QR image is 150 x 150; read by Pillow from its header before decoding
PORTAL_QR_DECODE_TIMEOUT = 10.0  # seconds for one QR image, decoded in a thread off the event loop
# A category's walk stops at the first of: the page count the portal states for it (plus the margin),
# a run of pages listing no article not already met in this walk, the ceiling. An endless or looping
# listing ends by itself; max_pages still stops earlier when given.
PORTAL_LISTING_PAGE_MARGIN = 5
PORTAL_LISTING_STALE_PAGES = 5
PORTAL_LISTING_MAX_PAGES = 20_000
# Scrapy starts this many worker tasks for every response's output (default 100); a page of ours
# gives one article or a listing's few dozen links, and 100 tasks a response were a sixth of a crawl's CPU.
CONCURRENT_ITEMS = 8

RETRY_ENABLED = True
PORTAL_RETRY_AFTER_MAX = 120.0  # seconds a 429/503 Retry-After is honoured at most (the replica profile: 2)
RETRY_TIMES = 4
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy's own list (timeouts, refused and cut connections, data loss, DNS) plus what the
# browser and Twisted's older names raise: a timeout is a fault of the moment, never a verdict.
RETRY_EXCEPTIONS = [
    *default_settings.RETRY_EXCEPTIONS,
    "twisted.internet.defer.TimeoutError",
    "twisted.internet.error.TimeoutError",
    "twisted.internet.error.DNSLookupError",
    "twisted.internet.error.ConnectionRefusedError",
    "twisted.internet.error.TCPTimedOutError",
    "twisted.web.client.ResponseFailed",
    "playwright.async_api.TimeoutError",
    "playwright.async_api.Error",  # net::ERR_* in the browser
]

DOWNLOADER_MIDDLEWARES = {
    # The scope rule (crawler/middlewares/scope.py): every request, and every redirect before it is
    # followed, stays on the portal's origins. Scrapy's own off-site filter drops a request at
    # scheduling without its errback (an article lost unseen): ours refuses it, and the article is a reject.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.scope.ScopeMiddleware": 50,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.scope.ScopedRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.scope.ScopedMetaRefreshMiddleware": 580,
    "crawler.middlewares.browser_check.BrowserCheckMiddleware": 650,
    "crawler.middlewares.binary.BinaryResponseMiddleware": 585,  # after decompression (590)
    "crawler.middlewares.incomplete.IncompletePageMiddleware": 582,  # before a meta refresh is followed (580)
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
}
SPIDER_MIDDLEWARES = {
    # An exception while reading one article costs that article (a reject naming the failure), never the run.
    "crawler.middlewares.page_errors.PageErrorsMiddleware": 550,
}
ITEM_PIPELINES = {
    "pipelines.normalise.NormaliseArticlePipeline": 100,
    "pipelines.validate.ValidateArticlePipeline": 200,
    "pipelines.deduplicate.DeduplicateArticlePipeline": 300,
    "pipelines.store.StoreInMongoPipeline": 400,
}
EXTENSIONS = {
    "crawler.storage.mongo.MongoConnection": 100,  # the crawl's one MongoDB connection and write path
    "crawler.operations.runs.CrawlRunRecorder": 500,
    "crawler.storage.archive.WarcArchive": 520,
    # Spidermon counts how often each field of the stored articles is filled (the fill-rate monitor reads it).
    "spidermon.contrib.scrapy.extensions.Spidermon": 510,
    "crawler.operations.logformatter.RootLogLevel": 530,  # a DEBUG line costs nothing at INFO
    "crawler.browser.IdleBrowserCloser": 540,  # Chromium closed while no page needs it (PORTAL_BROWSER_IDLE_SECONDS)
}

# Monitoring (crawler/operations/monitors.py): Spidermon monitors run when a run closes, in every profile;
# their results go into crawl_runs.monitors, failures to the log, e-mail and a webhook (crawler/operations/alerts.py).
PORTAL_MONITORS_ENABLED = os.environ.get("PORTAL_MONITORS_ENABLED", "1") == "1"
SPIDERMON_ENABLED = True
SPIDERMON_ADD_FIELD_COVERAGE = True
SPIDERMON_FIELD_COVERAGE_SKIP_NONE = True  # an empty field is not a filled one
SPIDERMON_DICT_FIELDS_COVERAGE_LEVELS = {"qr": 1}
MONITOR_HISTORY_RUNS = 5  # earlier runs of the same kind a run is compared with
MONITOR_VOLUME_MIN_RATIO = 0.5  # a run storing less than half the usual (median) fails...
MONITOR_VOLUME_MIN_BASELINE = 10  # ...once the usual is at least this many articles
MONITOR_FILL_DROP = 0.25  # a field filled 25 points less often than in the last good runs fails
MONITOR_FILL_MIN_ITEMS = 20  # fill rates are judged on runs that stored at least this many articles
MONITOR_FILL_STORED_SAMPLE = 2000  # with no earlier good run, the newest records stored before the run are the baseline
MONITOR_FILL_SIGNIFICANCE = 0.01  # ...and a drop only when a run of its size shows it by chance less often than this
MONITOR_REJECT_RATE_MAX = 0.10
MONITOR_FETCH_FAILURE_RATE_MAX = 0.05
MONITOR_PARSE_ERROR_RATE_MAX = 0.02  # articles whose page raised while being read (each one a reject `parse_error:…`)
MONITOR_PUSHBACK_RATE_MAX = 0.10  # share of 403 and 429 answers
MONITOR_STALE_FACTOR = 3.0  # no new article for 3 times the portal's usual gap (90th percentile) fails...
MONITOR_STALE_MIN_HOURS = 72.0  # ...and never under three days

# The browser, for the pages that need one (the police portal's check and listings).
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
    "headless": True,
    # Chromium's own calls home (updates, sign-in, sync) off: they would only meet the scope proxy's refusal.
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--dns-prefetch-disable",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
             "--disable-domain-reliability", "--disable-client-side-phishing-detection",
             "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"],
}  # the spider adds the proxy that keeps the browser's redirects on the portal (crawler/browser.py)
PLAYWRIGHT_MAX_CONTEXTS = 2  # the pages' own, and one a cookie renewal starts afresh in
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# Set by the spider to its scope (crawler.browser.BrowserScope): other origins and heavy resources aborted.
PLAYWRIGHT_ABORT_REQUEST = None

# Read a portal's pages with one named parser layout instead of choosing by the page, e.g.
# -s 'PORTAL_PARSER_PIN={"thanhphohaiphong": "2019"}' (how a crawl fared before a layout was added).
PORTAL_PARSER_PIN: dict[str, str] = {}

LOG_FORMATTER = "crawler.operations.logformatter.PortalLogFormatter"  # a dropped item's reason, not its whole body
LOG_LEVEL = os.environ.get("PORTAL_LOG_LEVEL", "INFO")

# Incremental recrawls (see spiders/base.py).
INCREMENTAL_RECHECK_DAYS = 7.0  # articles this young are rechecked with conditional requests ...
INCREMENTAL_RECHECK_HOURS = 12.0  # ... when not looked at for this long
INCREMENTAL_OVERLAP_HOURS = 24.0  # wp-json modified_after reaches this far behind the newest change stored
