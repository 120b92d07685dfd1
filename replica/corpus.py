"""The replica's articles: the seed articles plus thousands generated from a seed number.

Every article knows the record the crawler should make of it (`expected_record`), so tests
can measure recall and precision exactly.
"""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import lxml.html

from .prose import NOTICE_SERIES, PLACES, Prose, notice

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CITY = "thanhphohaiphong"
POLICE = "congan_haiphong"
CITY_ORIGIN = "https://thanhphohaiphong.gov.vn"
POLICE_ORIGIN = "https://congan.haiphong.gov.vn"
FANPAGE_URL = "https://www.facebook.com/congtintucthanhphohaiphong"

CITY_CATEGORIES = {
    "tin-tuc-su-kien": "Tin tức - Sự kiện",
    "kinh-te": "Kinh tế",
    "van-hoa-xa-hoi": "Văn hóa - Xã hội",
    "an-ninh-quoc-phong": "An ninh - Quốc phòng",
}
POLICE_CATEGORIES = {  # path: (CMS id, name)
    "Tin-An-ninh-trat-tu": ("10", "Tin An ninh trật tự"),
    "Phong-trao-toan-dan-bao-ve-ANTQ": ("12", "Phong trào toàn dân bảo vệ ANTQ"),
    "Xay-dung-luc-luong": ("14", "Xây dựng lực lượng"),
    "Canh-bao-toi-pham": ("16", "Cảnh báo tội phạm"),
}
PUBLISHERS = {"ANHP": "Báo An ninh Hải Phòng", "HP": "Báo Hải Phòng", "Báo HP": "Báo Hải Phòng",
              "THP": "Truyền hình Hải Phòng", "TTXVN": "Thông tấn xã Việt Nam",
              "CATP": "Công an thành phố Hải Phòng", "VOV": "Đài Tiếng nói Việt Nam"}
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]

# Kinds of bad record the survey lists; each is planted in a few articles of each portal.
REJECT_FAULTS = ("no_title", "no_date", "future_date", "empty_body")
CITY_ONLY_FAULTS = ("qr_unreadable",)
# A QR code that encodes another URL is kept (flagged `matches_url: false`), not rejected.
QR_OTHER_URL = "qr_other_url"
FAULT_REASONS = {"no_title": "missing_title", "no_date": "missing_date", "future_date": "future_date",
                 "empty_body": "empty_body", "qr_unreadable": "qr_unreadable"}

SUBJECTS = ["Công an thành phố", "UBND thành phố", "Ban Chỉ đạo 799 thành phố", "Công an quận Hải An",
            "Sở Giao thông vận tải", "Hội Liên hiệp phụ nữ thành phố", "Thành đoàn Hải Phòng",
            "Công an huyện Thủy Nguyên", "Sở Văn hóa và Thể thao", "Bộ đội Biên phòng thành phố",
            "Công an phường Đông Hải 1", "Hội Cựu chiến binh thành phố"]
ACTIONS = ["tổ chức hội nghị", "triển khai", "ra mắt mô hình", "sơ kết", "tổng kết", "phát động",
           "kiểm tra", "tăng cường", "khen thưởng", "ký kết phối hợp", "tập huấn", "đẩy mạnh"]
OBJECTS = ["phong trào toàn dân bảo vệ ANTQ", "công tác bảo đảm trật tự an toàn giao thông",
           "cao điểm tấn công trấn áp tội phạm", "phòng chống dịch bệnh Covid-19",
           "xây dựng nếp sống văn hóa", "phòng cháy chữa cháy", "cải cách hành chính",
           "chuyển đổi số", "phòng chống ma túy", "bảo vệ an ninh biên giới", "Camera an ninh",
           "tuyên truyền pháp luật"]
WHEN = ["6 tháng đầu năm", "6 tháng cuối năm", "quý I", "quý III", "dịp Tết Nguyên đán",
        "dịp cuối năm", "tháng cao điểm", "năm học mới", "mùa mưa bão", "dịp lễ 30-4"]
BYLINES = ["MINH PHƯƠNG", "HOÀNG LONG", "THU HÀ", "ĐỨC ANH", "NGỌC LAN", "VĂN TUẤN", "HẢI YẾN - QUANG HUY"]
SOURCE_FORMS = ["Nguồn. {}", "Nguồn: {}", "(Nguồn: {})", "Theo {}"]
CAPTIONS = ["Quang cảnh hội nghị", "Đại biểu phát biểu tại hội nghị", "Lãnh đạo thành phố trao bằng khen",
            "Các đơn vị ký kết chương trình phối hợp", "Lực lượng chức năng kiểm tra tại hiện trường",
            "Cán bộ, chiến sĩ ra quân", "Đại biểu tham quan mô hình", "Người dân tham gia hưởng ứng"]
URL_VARIANTS = ("http", "www", "slash", "utm")
# How the city portal's reposts of police articles differ from their originals (each also adds a
# byline and `Nguồn. ANHP`, and captions its photos anew); the ground truth of repost detection.
REPOST_KINDS = ("exact", "retitled", "lead_rewritten", "paragraph_dropped", "paragraph_added", "typo_fixed", "combined")
NOTICE_SHARE = 0.03  # routine notices among the police portal's articles (half that on the city portal's)


def ascii_slug(text: str, lower: bool = True) -> str:
    """How the CMSs turn a Vietnamese title into a URL slug."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-")
    return slug.lower() if lower else slug


def _seed_page(name: str) -> str:
    return resources.files("replica").joinpath("pages", name).read_text(encoding="utf-8")


@dataclass
class Article:
    """One article of one portal, with everything needed to render it and to know what it means."""

    site: str
    native_id: str
    title: str
    slug: str
    categories: list[str]
    published: datetime
    modified: datetime | None
    paragraphs: list[str]
    images: list[tuple[str, str, int]] = field(default_factory=list)  # (path, caption, after paragraph n)
    author: str | None = None
    source_line: str | None = None
    quirks: set[str] = field(default_factory=set)
    fault: str | None = None
    url_variant: str | None = None
    related: list[str] = field(default_factory=list)  # public URLs
    duplicate_of: str | None = None
    repost_kind: str | None = None  # how a repost differs from its original (REPOST_KINDS)
    lookalike: str | None = None  # the routine-notice series it belongs to: its siblings are different stories
    verbatim_page: str | None = None  # a saved page served as it is (the seeds)
    removed: int | None = None  # the status a removed article answers with (404 or 410)
    hostile_host: str | None = None  # another host the article's hostile markup points at (ReplicaOptions.hostile)

    @property
    def key(self) -> str:
        return f"{self.site}:{self.native_id}"

    @property
    def path(self) -> str:
        if self.site == CITY:
            return f"/{self.slug}.html"
        return f"/{self.categories[0]}/{self.slug}-{self.native_id}.html"

    @property
    def url(self) -> str:
        return (CITY_ORIGIN if self.site == CITY else POLICE_ORIGIN) + self.path

    @property
    def listing_href(self) -> str:
        """The link a listing shows for this article, spelled as the portal spells it."""
        if self.site == POLICE:
            return self.path + ("?utm_source=zalo" if self.url_variant else "")
        return {
            None: self.url,
            "http": "http://thanhphohaiphong.gov.vn" + self.path,
            "www": "https://www.thanhphohaiphong.gov.vn" + self.path,
            "slash": self.url + "/",
            "utm": self.url + "?utm_source=facebook&utm_medium=social",
        }[self.url_variant]

    @property
    def shown_date(self) -> datetime:
        """The date the page shows (the police portal shows its last update)."""
        return self.modified if self.site == POLICE and self.modified else self.published

    @property
    def qr_payload(self) -> str | None:
        if self.site != CITY:
            return None
        if self.fault == QR_OTHER_URL:
            return "http://haiphong.gov.vn" + self.path
        if self.fault == "qr_unreadable":
            return None
        return self.url

    def expected_record(self) -> dict:
        """The record the crawler should store (or reject), as the ground truth sees it."""
        rejected = self.fault in FAULT_REASONS
        record = {
            "_id": self.key, "site": self.site, "native_id": self.native_id, "url": self.url,
            "outcome": "removed" if self.removed else "rejected" if rejected else "stored",
            "reasons": [FAULT_REASONS[self.fault]] if rejected else [],
            "duplicate_of": self.duplicate_of,
            # Labels of the ground truth, not fields of the record: how a repost was edited, a notice's series.
            "repost_kind": self.repost_kind, "lookalike": self.lookalike,
            "url_aliases": [self.listing_href if self.site == CITY else POLICE_ORIGIN + self.listing_href]
            if self.url_variant else [],
        }
        if self.verbatim_page:
            return record
        shown = self.shown_date.astimezone(TZ)
        record.update({
            "title": self.title,
            "published_at": self.shown_date.astimezone(UTC).replace(microsecond=0),
            "categories": [{"slug": s, "name": CITY_CATEGORIES[s] if self.site == CITY else POLICE_CATEGORIES[s][1]}
                           for s in self.categories],
            "date_text": (f"{WEEKDAYS[shown.weekday()]}, {shown:%d/%m/%Y %H:%M}" if self.site == CITY
                          else f"Cập nhật: {shown:%d/%m/%Y %H:%M}"),
            "author": self.author,
            "source": self._expected_source(),
            "body_text": "\n\n".join(self.paragraphs),
            "images": [{"url": (CITY_ORIGIN if self.site == CITY else POLICE_ORIGIN) + path, "caption": caption}
                       for path, caption, _ in sorted(self.images, key=lambda image: image[2])],  # page order
            "related_urls": [re.sub(r"\?.*$", "", u) for u in self.related],
            "offsite_images": [{"url": f"{self.hostile_host}/pixel.gif", "caption": None}] if self.hostile_host else [],
        })
        if self.site == CITY:
            record["qr"] = {"payload": self.qr_payload, "matches_url": self.qr_payload == self.url}
        return record

    def _expected_source(self) -> dict | None:
        if not self.source_line:
            return None
        name = re.sub(r"^\(?(Nguồn[.:]|Theo)\s*|\)$", "", self.source_line)
        return {"text": self.source_line, "name": name, "publisher": PUBLISHERS.get(name)}


@dataclass
class Corpus:
    """Both portals' articles, newest first per category, and the replica's clock."""

    articles: dict[str, list[Article]]
    today: datetime
    generator: _Generator | None = None
    days: list[dict] = field(default_factory=list)  # what each advanced day changed (ground truth)

    def by_key(self) -> dict[str, Article]:
        return {a.key: a for items in self.articles.values() for a in items}

    def live(self, site: str) -> list[Article]:
        return [a for a in self.articles[site] if not a.removed]

    def in_category(self, site: str, category: str) -> list[Article]:
        items = [a for a in self.live(site) if category in a.categories]
        return sorted(items, key=lambda a: (a.shown_date, a.native_id), reverse=True)

    def advance_day(self) -> dict:
        """One day of the portals' life: new articles, edits, title corrections, moves, removals."""
        gen = self.generator
        self.today += timedelta(days=1)
        day: dict = {"today": self.today.isoformat(), "new": [], "changed": [], "removed": [], "moved": []}
        for site, items in self.articles.items():
            size = len(items)
            reposts = {a.duplicate_of for items_ in self.articles.values() for a in items_ if a.duplicate_of}
            stable = [a for a in self.live(site) if not a.verbatim_page and not a.fault and not a.duplicate_of
                      and a.key not in reposts]
            touched = gen.rng.sample(stable, 3 * max(2, size // 400))
            step = len(touched) // 3
            for article in touched[:step]:
                self._edit(gen, article)
                day["changed"].append(article.key)
            for article in touched[step:2 * step]:
                self._move(gen, article)
                day["changed"].append(article.key)
                day["moved"].append(article.key)
            for n, article in enumerate(touched[2 * step:]):
                article.removed = 404 if n % 2 else 410
                day["removed"].append(article.key)
            for _ in range(max(3, size // 200)):
                article = _new_article(gen, site, self._moment(gen), {a.native_id for a in items})
                items.append(article)
                day["new"].append(article.key)
        self.days.append(day)
        return day

    def _moment(self, gen: _Generator) -> datetime:
        return (self.today - timedelta(hours=gen.rng.uniform(1, 20))).replace(second=0, microsecond=0)

    def _edit(self, gen: _Generator, article: Article) -> None:
        article.paragraphs = [*article.paragraphs[:-1], gen.prose.paragraph()]
        if gen.rng.random() < 0.5:  # a corrected title; on the police portal the slug follows it
            article.title = gen.title()
            article.slug = ascii_slug(article.title, lower=False) if article.site == POLICE else article.slug
        article.modified = self._moment(gen)

    def _move(self, gen: _Generator, article: Article) -> None:
        names = CITY_CATEGORIES if article.site == CITY else POLICE_CATEGORIES
        article.categories = [gen.rng.choice([c for c in names if c not in article.categories])]
        article.modified = self._moment(gen)

    def truth(self) -> list[dict]:
        return [a.expected_record() for items in self.articles.values() for a in items]


class _Generator:
    def __init__(self, seed: int, today: datetime) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.prose = Prose(self.rng)
        self.slugs: set[str] = set()

    def title(self) -> str:
        """A title whose slug no other article has (city URLs are made of the slug alone)."""
        r = self.rng
        title = f"{r.choice(SUBJECTS)} {r.choice(ACTIONS)} {r.choice(OBJECTS)} {r.choice(WHEN)}"
        for extra in ("", f" tại {r.choice(PLACES)}", f" năm {r.randint(2018, 2026)}"):
            if ascii_slug(title + extra) not in self.slugs:
                return self.unique(title + extra)
        return self.unique(f"{title} (kỳ {r.randint(2, 10**6)})")

    def unique(self, title: str) -> str:
        slug, n = ascii_slug(title), 2
        while slug in self.slugs:
            title, slug, n = f"{title} ({n})", ascii_slug(f"{title} ({n})"), n + 1
        self.slugs.add(slug)
        return title

    def paragraphs(self) -> list[str]:
        return self.prose.paragraphs()

    def dates(self, n: int) -> list[datetime]:
        start = datetime(2018, 1, 1, tzinfo=TZ)
        span = (self.today - start).total_seconds() - 86400 * 2
        moments = sorted(start + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(n))
        return [m.replace(second=0, microsecond=0) for m in moments]

    def quirks(self, published: datetime) -> set[str]:
        quirks = {q for q in ("nbsp", "entities", "empty_para") if self.rng.random() < 0.12}
        if published.year < 2020 and self.rng.random() < 0.4:
            quirks.add("nfd")
        return quirks


def build_corpus(articles_per_site: int = 1000, seed: int = 20191116,
                 today: datetime = datetime(2026, 11, 20, 8, 0, tzinfo=TZ)) -> Corpus:
    """The replica's content: deterministic for a given size, seed number and clock."""
    gen = _Generator(seed, today)
    police = _police_articles(gen, articles_per_site)
    city = _city_articles(gen, articles_per_site, police)
    originals = {a.duplicate_of for a in (*city, *police) if a.duplicate_of}
    for items in (city, police):
        _plant_faults(gen, items, originals)
        _link_related(gen, items)
    return Corpus(articles={CITY: city, POLICE: police}, today=today, generator=gen)


def _police_articles(gen: _Generator, n: int) -> list[Article]:
    items = [_police_seed(), _police_original_of_city_seed()]
    seeded = {a.native_id for a in items}
    ids = (str(i) for i in range(140001, 140001 + 4 * n + 9, 3) if str(i) not in seeded)
    republished = max(1, n // 200)
    for moment in gen.dates(n - len(items) - republished):
        native_id = next(ids)
        series = gen.rng.choice(NOTICE_SERIES) if gen.rng.random() < NOTICE_SHARE else None
        if series:
            title, paragraphs = notice(gen.prose, series, moment)
            title = gen.unique(title)
            category = "Canh-bao-toi-pham" if series == "wanted" else "Tin-An-ninh-trat-tu"
        else:
            title, paragraphs = gen.title(), gen.paragraphs()
            category = gen.rng.choice(list(POLICE_CATEGORIES))
        images = [] if series else _photos(gen, POLICE, native_id, title, moment, paragraphs)
        edited = moment + timedelta(hours=gen.rng.randint(1, 30)) if gen.rng.random() < 0.2 else None
        items.append(Article(
            site=POLICE, native_id=native_id, title=title, slug=ascii_slug(title, lower=False),
            categories=[category], published=moment, modified=edited, paragraphs=paragraphs, images=images,
            author=gen.rng.choice(BYLINES) if gen.rng.random() < 0.35 else None,
            quirks=gen.quirks(moment), url_variant="utm" if gen.rng.random() < 0.04 else None, lookalike=series,
        ))
    items += _republished(gen, items, republished, lambda: next(ids))
    return items


def _republished(gen: _Generator, items: list[Article], count: int, new_id: Callable[[], str]) -> list[Article]:
    """Articles a portal publishes a second time, under a new id, weeks later (the first stays up): reposts on one portal."""
    pool = [a for a in items if not a.verbatim_page and not a.lookalike and a.published < gen.today - timedelta(days=40)]
    copies = []
    for original in gen.rng.sample(pool, min(count, len(pool))):
        original.modified = None  # the date the portal shows is the first publication's
        moment = original.published + timedelta(days=gen.rng.randint(2, 30), minutes=gen.rng.randint(1, 600))
        kind = gen.rng.choice(("exact", "retitled"))
        title = gen.unique(original.title + " (đăng lại)") if kind == "exact" else gen.title()
        copy = Article(
            site=original.site, native_id=new_id(), title=title,
            slug=ascii_slug(title, lower=original.site == CITY), categories=list(original.categories), published=moment,
            modified=None, paragraphs=list(original.paragraphs), author=original.author, quirks=gen.quirks(moment),
            duplicate_of=original.key, repost_kind=kind,
        )
        copies.append(copy)
    return copies


def _edited_copy(gen: _Generator, original: Article, kind: str) -> tuple[str, list[str]]:
    """(title, paragraphs) of a repost that differs from its original as `kind` says (REPOST_KINDS)."""
    paragraphs = list(original.paragraphs)
    title = gen.unique(original.title) if kind in ("exact", "lead_rewritten", "paragraph_dropped", "paragraph_added",
                                                   "typo_fixed") else gen.title()
    if kind in ("lead_rewritten", "combined"):
        paragraphs[0] = gen.prose.paragraph()
    if kind in ("paragraph_dropped", "combined") and len(paragraphs) >= 3:
        del paragraphs[gen.rng.randrange(1, len(paragraphs))]
    if kind == "paragraph_added":
        paragraphs.insert(gen.rng.randrange(1, len(paragraphs) + 1), gen.prose.paragraph())
    if kind == "typo_fixed":  # the original went out with a typo; the repost has it fixed
        i = gen.rng.randrange(len(paragraphs))
        original.paragraphs[i] = gen.prose.typo(paragraphs[i])
    return title, paragraphs


def _city_articles(gen: _Generator, n: int, police: list[Article]) -> list[Article]:
    items = [_city_seed()]
    used_ids = {24168}
    top_id = max(99999, 4 * n)

    def new_id() -> str:
        post_id = gen.rng.randint(1000, top_id)
        while post_id in used_ids:
            post_id = gen.rng.randint(1000, top_id)
        used_ids.add(post_id)
        return str(post_id)

    candidates = [p for p in police if not p.verbatim_page and not p.duplicate_of and p.published < gen.today - timedelta(days=3)]
    reposted = {id(p) for p in gen.rng.sample(candidates, max(1, n // 25))}
    reposts = [p for p in candidates if id(p) in reposted]
    republished = max(1, n // 200)
    moments = gen.dates(n - len(items) - len(reposts) - republished)
    for original in reposts:
        moments.append(original.published + timedelta(days=1))
    moments.sort()
    originals = {p.published + timedelta(days=1): p for p in reposts}
    kinds = itertools.cycle(REPOST_KINDS)
    for moment in moments:
        post_id = new_id()
        original = originals.pop(moment, None)  # a plain article published the same minute stays plain
        series = None
        if original:
            # A routine notice is reposted whole (a fine list without its list would be any month's notice).
            kind = next(kinds) if not original.lookalike else gen.rng.choice(("exact", "retitled"))
            title, paragraphs = _edited_copy(gen, original, kind)
        elif gen.rng.random() < NOTICE_SHARE / 2:  # the city's own routine notices: look-alikes of the police portal's
            kind, series = None, gen.rng.choice(("wanted", "fines"))
            title, paragraphs = notice(gen.prose, series, moment)
            title = gen.unique(title)
        else:
            kind, title, paragraphs = None, gen.title(), gen.paragraphs()
        categories = gen.rng.sample(list(CITY_CATEGORIES), 2 if gen.rng.random() < 0.2 else 1)
        if original or series:
            categories = ["an-ninh-quoc-phong"]
        images = _photos(gen, CITY, post_id, title, moment, paragraphs)
        has_source = original is not None or gen.rng.random() < 0.7
        code = "ANHP" if original else gen.rng.choice(list(PUBLISHERS))
        items.append(Article(
            site=CITY, native_id=post_id, title=title, slug=ascii_slug(title), categories=categories,
            published=moment, modified=moment + timedelta(minutes=gen.rng.randint(5, 600)) if gen.rng.random() < 0.5 else None,
            paragraphs=paragraphs, images=images,
            author=gen.rng.choice(BYLINES) if original or gen.rng.random() < 0.6 else None,
            source_line=gen.rng.choice(SOURCE_FORMS).format(code) if has_source else None,
            quirks=gen.quirks(moment), url_variant=gen.rng.choice(URL_VARIANTS) if gen.rng.random() < 0.06 else None,
            duplicate_of=original.key if original else None, repost_kind=kind, lookalike=series,
        ))
    items += _republished(gen, [a for a in items if not a.duplicate_of and a.source_line is None], republished, new_id)
    return items


def _photos(gen: _Generator, site: str, native_id: str, title: str, moment: datetime,
            paragraphs: list[str]) -> list[tuple[str, str, int]]:
    """None to three photos, where each portal keeps its uploads, captioned, each after a paragraph."""
    folder = (f"/wp-content/uploads/{moment:%Y/%m}/{ascii_slug(title)[:40]}" if site == CITY
              else f"/uploads/haiphong/portal/congan/news/{moment:%Y_%m/%d}/{native_id}")
    return [(f"{folder}-{k}.jpg", gen.rng.choice(CAPTIONS) + f" ({k})", gen.rng.randrange(len(paragraphs)))
            for k in range(1, gen.rng.randint(0, 3) + 1)]


def _new_article(gen: _Generator, site: str, moment: datetime, taken: set[str]) -> Article:
    """An article published today (for days the replica advances), with photos as often as the others."""
    title = gen.title()
    native_id = str(max(int(t) for t in taken) + gen.rng.randint(1, 9))
    paragraphs = gen.paragraphs()
    images = _photos(gen, site, native_id, title, moment, paragraphs)
    if site == CITY:
        category = [gen.rng.choice(list(CITY_CATEGORIES))]
        return Article(site=CITY, native_id=native_id, title=title, slug=ascii_slug(title), categories=category,
                       published=moment, modified=None, paragraphs=paragraphs, images=images,
                       author=gen.rng.choice(BYLINES), source_line=gen.rng.choice(SOURCE_FORMS).format("HP"))
    return Article(site=POLICE, native_id=native_id, title=title, slug=ascii_slug(title, lower=False),
                   categories=[gen.rng.choice(list(POLICE_CATEGORIES))], published=moment, modified=None,
                   paragraphs=paragraphs, images=images)


def _plant_faults(gen: _Generator, items: list[Article], originals: set[str]) -> None:
    """Bad records go to articles that nothing else refers to (a repost's original is kept sound)."""
    faults = [*REJECT_FAULTS, *((*CITY_ONLY_FAULTS, QR_OTHER_URL, QR_OTHER_URL) if items[0].site == CITY else ())]
    plain = [a for a in items if not a.verbatim_page and not a.duplicate_of and not a.url_variant and a.key not in originals]
    planted = gen.rng.sample(plain, min(len(plain), 2 * len(faults)))
    for article, fault in zip(planted, faults * 2, strict=False):
        article.fault = fault
        if fault == "future_date":
            article.published = gen.today + timedelta(days=400)
            article.modified = None
        if fault == "empty_body":
            article.images = []


def _link_related(gen: _Generator, items: list[Article]) -> None:
    pool = [a for a in items if not a.verbatim_page]
    for article in pool:
        picks = gen.rng.sample(pool, 3)
        article.related = [p.url + ("?utm_source=facebook" if gen.rng.random() < 0.2 else "")
                           for p in picks if p is not article]


def _city_seed() -> Article:
    return Article(
        site=CITY, native_id="24168", title="Khen thưởng 71 tập thể, cá nhân tiêu biểu",
        slug="khen-thuong-71-tap-the-ca-nhan-tieu-bieu", categories=["an-ninh-quoc-phong"],
        published=datetime(2019, 11, 16, 9, 6, 12, tzinfo=TZ), modified=datetime(2019, 11, 16, 10, 41, 37, tzinfo=TZ),
        paragraphs=_seed_paragraphs(), verbatim_page="thanhphohaiphong-article.html",
        duplicate_of=f"{POLICE}:149022",
    )


def _police_seed() -> Article:
    return Article(
        site=POLICE, native_id="152731",
        title="Giao ban công tác xây dựng phong trào toàn dân bảo vệ ANTQ 6 tháng đầu năm và triển khai nhiệm vụ công tác trọng tâm 6 tháng cuối năm 2020",
        slug="Giao-ban-cong-tac-xay-dung-phong-trao-toan-dan-bao-ve-ANTQ-6-thang-dau-nam-va-trien-khai-nhiem-vu-cong-tac-trong-tam-6-thang-cuoi-nam-2020",
        categories=["Phong-trao-toan-dan-bao-ve-ANTQ"], published=datetime(2020, 7, 11, 9, 0, tzinfo=TZ), modified=None,
        paragraphs=["Sáng ngày 10-7, Công an thành phố tổ chức hội nghị giao ban công tác xây dựng phong trào toàn dân bảo vệ an ninh Tổ quốc (ANTQ) 6 tháng đầu năm..."],
        verbatim_page="congan-article.html",
    )


def _seed_paragraphs() -> list[str]:
    doc = lxml.html.fromstring(_seed_page("thanhphohaiphong-article.html"))
    texts = [" ".join(p.text_content().replace("\xa0", " ").split()) for p in doc.cssselect(".entry-content > p")]
    return texts[:-2]  # the byline and the source line close the seed


def _police_original_of_city_seed() -> Article:
    """The police article the city portal's seed article reposts (the day before, as the survey says)."""
    day_dir = "/uploads/haiphong/portal/congan/news/2019_11/15/"
    captions = ["Thượng tá Lê Trung Sơn-Phó Giám đốc CATP phát biểu tại Hội nghị",
                "Phó Giám đốc Lê Trung Sơn trao giấy khen của Giám đốc CATP cho các tập thể",
                "Phó Cục trưởng Cục V05, Bộ Công an phát biểu tại Hội nghị"]
    return Article(
        site=POLICE, native_id="149022", title="Sơ kết 5 năm thực hiện Chỉ thị 07 của Bộ Công an",
        slug="So-ket-5-nam-thuc-hien-Chi-thi-07-cua-Bo-Cong-an", categories=["Phong-trao-toan-dan-bao-ve-ANTQ"],
        published=datetime(2019, 11, 15, 16, 30, tzinfo=TZ), modified=None, paragraphs=_seed_paragraphs(),
        images=[(f"{day_dir}so-ket-chi-thi-07-{k}.jpg", caption, after)
                for k, (caption, after) in enumerate(zip(captions, (0, 3, 5), strict=True), start=1)],
    )
