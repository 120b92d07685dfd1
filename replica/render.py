"""The replica's pages, in the markup of the saved pages in `replica/pages/` (copied from the survey)."""

from __future__ import annotations

import html
import io
import math
import random
import re
import unicodedata
from datetime import UTC
from email.utils import format_datetime
from functools import lru_cache
from importlib import resources
from urllib.parse import quote

import zxingcpp
from PIL import Image

from .corpus import (
    CITY_CATEGORIES,
    CITY_ORIGIN,
    POLICE_CATEGORIES,
    TZ,
    WEEKDAYS,
    Article,
    Corpus,
)

CITY_PAGE_SIZE = 10
POLICE_PAGE_SIZE = 15
_CITY_MENU = "\n".join(
    f'      <li class="menu-item"><a href="{CITY_ORIGIN}/category/{slug}">{name}</a></li>'
    for slug, name in CITY_CATEGORIES.items()
)
_CITY_HEADER = f"""<div id="page" class="site">
<header id="masthead" class="site-header">
  <nav id="site-navigation" class="main-navigation">
    <ul id="primary-menu" class="menu">
{_CITY_MENU}
    </ul>
  </nav>
</header>
<div id="content" class="site-content">
<div id="primary" class="content-area">
<main id="main" class="site-main">"""
_POLICE_MENU = "\n".join(f'      <li><a href="/{path}.html">{name}</a></li>' for path, (_, name) in POLICE_CATEGORIES.items())


@lru_cache(maxsize=4096)
def qr_png(payload: str | None) -> bytes:
    """The PNG the QR plugin serves: a real QR code of `payload`, or (None) an image with none to read."""
    buffer = io.BytesIO()
    if payload is None:
        rng = random.Random(7)
        noise = Image.new("L", (150, 150))
        noise.putdata([rng.choice((0, 255)) for _ in range(150 * 150)])
        noise.save(buffer, format="PNG")
    else:
        # zxing-cpp (the crawler's own QR reader) writes too, in C++: 1.2 ms a code, where segno took 8.4.
        code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, options="ecLevel=M")
        Image.fromarray(code.to_image(scale=4, add_quiet_zones=True)).save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def placeholder_image() -> bytes:
    """What the replica serves for an article's photo (the crawler never needs its pixels)."""
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 200, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def saved_page(name: str) -> str:
    return resources.files("replica").joinpath("pages", name).read_text(encoding="utf-8")


def _text(article: Article, value: str) -> str:
    """Text as this article's CMS stored it: NFD, numeric entities, non-breaking spaces."""
    out = html.escape(value, quote=False)
    if "nfd" in article.quirks:
        out = unicodedata.normalize("NFD", out)
    if "entities" in article.quirks:
        out = "".join(f"&#{ord(ch)};" if ord(ch) > 0x1E00 and i % 3 == 0 else ch for i, ch in enumerate(out))
    if "nbsp" in article.quirks:
        out = out.replace(" ", "\u00a0", 2)
    return out


def _body(article: Article, paragraph, image) -> str:
    if article.fault == "empty_body":
        return ""
    parts = []
    for n, text in enumerate(article.paragraphs):
        parts.append(paragraph(n, _text(article, text)))
        if "empty_para" in article.quirks and n == 1:
            parts.append('<p style="text-align: justify;">&nbsp;</p>')
        parts.extend(image(path, caption) for path, caption, after in article.images if after == n)
    return "\n".join(parts)


def city_date_text(article: Article) -> str:
    local = article.published.astimezone(TZ)
    return f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y %H:%M}"


def city_article(article: Article) -> str:
    if article.verbatim_page:
        return saved_page(article.verbatim_page)
    title = "" if article.fault == "no_title" else html.escape(article.title)
    published = article.published.astimezone(TZ).isoformat()
    modified = (article.modified or article.published).astimezone(TZ).isoformat()
    cats = " ".join(f"category-{c}" for c in article.categories)

    def paragraph(n: int, text: str) -> str:
        return f'<p style="text-align: justify;">{"<strong>" + text + "</strong>" if n == 0 else text}</p>'

    def image(path: str, caption: str) -> str:
        return (f'<figure class="wp-caption aligncenter" style="width: 600px"><img loading="lazy" src="{CITY_ORIGIN}{path}" '
                f'alt="" width="600" height="400" /><figcaption class="wp-caption-text">{html.escape(caption)}</figcaption></figure>')

    trailer = "" if article.fault == "empty_body" else "".join(
        f'\n<p style="text-align: right;">{tag[0]}{html.escape(line)}{tag[1]}</p>'
        for line, tag in ((article.author, ("<strong>", "</strong>")), (article.source_line, ("<em>", "</em>"))) if line
    )
    dates = "" if article.fault == "no_date" else (
        f'<span class="posted-on"><time class="entry-date published" datetime="{published}">{city_date_text(article)}</time>'
        f'<time class="updated" datetime="{modified}">{article.published.astimezone(TZ):%d/%m/%Y}</time></span>')
    meta_dates = "" if article.fault == "no_date" else (
        f'<meta property="article:published_time" content="{published}" />\n'
        f'<meta property="article:modified_time" content="{modified}" />')
    og_title = "" if article.fault == "no_title" else f'<meta property="og:title" content="{title}" />'
    qr_src = f"{CITY_ORIGIN}/wp-content/plugins/hp-qr-code/qr.php?size=150&amp;data={quote(article.url, safe='')}"
    related = "\n".join(f'    <li><a href="{html.escape(u)}">Tin liên quan</a></li>' for u in article.related)
    cat_links = ", ".join(f'<a href="{CITY_ORIGIN}/category/{c}" rel="category tag">{CITY_CATEGORIES[c]}</a>' for c in article.categories)
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="UTF-8">
<title>{title} &#8211; Cổng tin tức Thành phố Hải Phòng</title>
<link rel="canonical" href="{article.url}" />
<link rel='shortlink' href='{CITY_ORIGIN}/?p={article.native_id}' />
<link rel="alternate" type="application/rss+xml" title="Cổng tin tức Thành phố Hải Phòng &raquo; Feed" href="{CITY_ORIGIN}/feed" />
{og_title}
<meta property="og:url" content="{article.url}" />
<meta property="article:section" content="{CITY_CATEGORIES[article.categories[0]]}" />
{meta_dates}
<script type='text/javascript' src='{CITY_ORIGIN}/wp-includes/js/jquery/jquery.js?ver=1.12.4-wp'></script>
</head>
<body class="post-template-default single single-post postid-{article.native_id} single-format-standard">
{_CITY_HEADER}
<article id="post-{article.native_id}" class="post-{article.native_id} post type-post status-publish format-standard hentry {cats}">
  <header class="entry-header">
    <h1 class="entry-title">{title}</h1>
    <div class="entry-meta">
      <a class="print-link" href="{article.url}?print=print" rel="nofollow">Print</a>
      {dates}
    </div>
  </header>
  <div class="entry-content">
{_hostile(article)}{_body(article, paragraph, image)}{trailer}
  </div>
  <footer class="entry-footer"><span class="cat-links">{cat_links}</span></footer>
</article>
<section class="related-posts">
  <h3 class="related-title">Tin khác</h3>
  <ul>
{related}
  </ul>
</section>
</main>
</div>
<aside id="secondary" class="widget-area">
  <section id="hp_qr_code-2" class="widget widget_hp_qr_code">
    <h2 class="widget-title">Tiện ích thông tin</h2>
    <div class="qr-code">
      <h4>QR Code</h4>
      <img class="qr-code-img" src="{qr_src}" width="150" height="150" alt="QR CODE: {title}" title="QR CODE: {title}" />
      <p class="qr-code-caption">QR CODE: {title}</p>
    </div>
  </section>
  <section id="media_image-3" class="widget widget_media_image">
    <h2 class="widget-title">Chúng tôi trên Mạng Xã hội</h2>
    <img class="image" src="{CITY_ORIGIN}/wp-content/uploads/2019/05/qr-fanpage.png" width="150" height="150" alt="QR Code Fanpage" />
    <p class="wp-caption-text">Mã QR Code truy cập vào Fanpage Cổng tin tức Thành phố Hải Phòng</p>
  </section>
</aside>
</div>
<footer id="colophon" class="site-footer">
  <div class="site-info">Cổng tin tức Thành phố Hải Phòng. Số 18 Hoàng Diệu, Hồng Bàng, Hải Phòng.</div>
</footer>
</div>
</body>
</html>"""


_TRAILER_BYLINE = re.compile(r'\n?<p style="text-align: right;"><strong>([^<]+)</strong></p>')


def city_article_2027(page: str) -> str:
    """A city article page in the portal's 2027 theme (ReplicaOptions.drift_from_day): the byline
    moves from the end of the body into the header, the QR widget is renamed."""
    byline = _TRAILER_BYLINE.search(page)
    if byline:
        page = page.replace(byline.group(0), "", 1)
        page = page.replace('<div class="entry-meta">', '<div class="entry-meta">\n      <span class="byline">Tác giả: '
                            f'<span class="author vcard">{byline.group(1)}</span></span>', 1)
    return (page.replace('<div class="qr-code">', '<div class="hp-qr">').replace('class="qr-code-img"', 'class="hp-qr__image"')
            .replace('class="qr-code-caption"', 'class="hp-qr__caption"'))


def _hostile(article: Article) -> str:
    """What a compromised CMS or a careless embed puts in an article's body (see ReplicaOptions.hostile)."""
    if not article.hostile_host:
        return ""
    host = article.hostile_host
    return (f'<script>alert(1)</script>\n<style>.entry-content {{ display: none }}</style>\n'
            f'<iframe src="{host}/embed.html" width="1" height="1"></iframe>\n'
            f'<p><img src="{host}/pixel.gif" onerror="alert(1)" width="1" height="1" alt="" /><a href="javascript:alert(1)"></a></p>\n'
            f'<noscript>Trình duyệt của bạn không hỗ trợ JavaScript</noscript>\n')


def _excerpt(article: Article) -> str:
    words = (article.paragraphs[0] if article.paragraphs else "").split()
    return html.escape(" ".join(words[:30])) + " [&hellip;]"


def city_category(corpus: Corpus, slug: str, page: int, ids: bool = True, offsite_link: str | None = None) -> str | None:
    items = corpus.in_category("thanhphohaiphong", slug)
    pages = max(1, math.ceil(len(items) / CITY_PAGE_SIZE))
    if page > pages:
        return None
    base = f"{CITY_ORIGIN}/category/{slug}"

    def page_url(n: int) -> str:
        return base if n == 1 else f"{base}/page/{n}"

    posts = []
    for a in items[(page - 1) * CITY_PAGE_SIZE: page * CITY_PAGE_SIZE]:
        title = "" if a.fault == "no_title" else html.escape(a.title)
        when = "" if a.fault == "no_date" else (
            f'<time class="entry-date published" datetime="{a.published.astimezone(TZ).isoformat()}">{a.published.astimezone(TZ):%d/%m/%Y}</time>')
        cats = " ".join(f"category-{c}" for c in a.categories)
        post_id = f'id="post-{a.native_id}" class="post-{a.native_id} ' if ids else 'class="'  # some themes name no id
        posts.append(f"""<article {post_id}post type-post status-publish format-standard hentry {cats}">
  <header class="entry-header">
    <h2 class="entry-title"><a href="{html.escape(a.listing_href)}" rel="bookmark">{title}</a></h2>
    <div class="entry-meta"><span class="posted-on">{when}</span></div>
  </header>
  <div class="entry-summary"><p>{_excerpt(a)}</p></div>
</article>""")
    if offsite_link and page == 1:
        posts.insert(0, f"""<article class="post type-post hentry">
  <header class="entry-header"><h2 class="entry-title"><a href="{offsite_link}" rel="bookmark">Tin nóng: bấm vào đây</a></h2></header>
</article>""")
    links = [f'<a class="prev page-numbers" href="{page_url(page - 1)}">&laquo; Trước</a>'] if page > 1 else []
    links += [f'<span aria-current="page" class="page-numbers current">{page}</span>']
    head_links = [f'<link rel="prev" href="{page_url(page - 1)}" />'] if page > 1 else []
    if page < pages:
        links.append(f'<a class="next page-numbers" href="{page_url(page + 1)}">Sau &raquo;</a>')
        head_links.append(f'<link rel="next" href="{page_url(page + 1)}" />')
    name = CITY_CATEGORIES[slug]
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="UTF-8">
<title>{name} &#8211; Trang {page} &#8211; Cổng tin tức Thành phố Hải Phòng</title>
<link rel="canonical" href="{page_url(page)}" />
{chr(10).join(head_links)}
<link rel="alternate" type="application/rss+xml" title="Cổng tin tức Thành phố Hải Phòng &raquo; {name} Category Feed" href="{base}/feed" />
</head>
<body class="archive category category-{slug} paged-{page}">
{_CITY_HEADER}
<header class="page-header"><h1 class="page-title">{name}</h1></header>
{chr(10).join(posts)}
<nav class="navigation pagination" role="navigation" aria-label="Bài viết">
  <div class="nav-links">
    {chr(10).join(links)}
  </div>
</nav>
</main>
</div>
</div>
</div>
</body>
</html>"""


def city_feed(items: list[Article], title: str) -> str:
    entries = "\n".join(f"""<item><title>{html.escape(a.title)}</title><link>{a.url}</link>
<pubDate>{format_datetime(a.published.astimezone(UTC))}</pubDate><guid isPermaLink="false">{CITY_ORIGIN}/?p={a.native_id}</guid>
<category><![CDATA[{CITY_CATEGORIES[a.categories[0]]}]]></category></item>""" for a in items[:10])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{html.escape(title)}</title><link>{CITY_ORIGIN}</link><language>vi</language>
{entries}
</channel></rss>"""


def wp_post(article: Article) -> dict:
    return {
        "id": int(article.native_id), "link": article.url, "slug": article.slug,
        "date": article.published.astimezone(TZ).replace(tzinfo=None).isoformat(),
        "date_gmt": article.published.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "modified": (article.modified or article.published).astimezone(TZ).replace(tzinfo=None).isoformat(),
        "modified_gmt": (article.modified or article.published).astimezone(UTC).replace(tzinfo=None).isoformat(),
        "title": {"rendered": html.escape(article.title)},
        "categories": [list(CITY_CATEGORIES).index(c) + 1 for c in article.categories],
    }


def police_article(article: Article) -> str:
    if article.verbatim_page:
        return saved_page(article.verbatim_page)
    title = "" if article.fault == "no_title" else html.escape(article.title)
    path, (_, cat_name) = article.categories[0], POLICE_CATEGORIES[article.categories[0]]

    def paragraph(n: int, text: str) -> str:
        return f'<div class="sapo"><strong>{text}</strong></div>' if n == 0 else f'<p style="text-align: justify;">{text}</p>'

    def image(src: str, caption: str) -> str:
        return (f'<table class="image center" align="center"><tbody><tr><td><img src="{src}?maxwidth=1000" alt="{html.escape(caption)}" /></td></tr>'
                f'<tr><td class="image_desc"><em>{html.escape(caption)}</em></td></tr></tbody></table>')

    trailer = (f'\n<p style="text-align: right;"><strong>{html.escape(article.author)}</strong></p>'
               if article.author and article.fault != "empty_body" else "")
    date = "" if article.fault == "no_date" else f'<div class="news-date">Cập nhật: {article.shown_date.astimezone(TZ):%d/%m/%Y %H:%M}</div>'
    og_title = "" if article.fault == "no_title" else f'<meta property="og:title" content="{title}" />'
    related = "\n".join(f'            <li><a href="{html.escape(u.removeprefix("https://congan.haiphong.gov.vn"))}">Tin liên quan</a></li>' for u in article.related)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="vi">
<head id="Head1">
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{title} - Công an thành phố Hải Phòng</title>
{og_title}
<meta property="og:url" content="{article.url}" />
<script src="/js/jquery-1.8.3.min.js" type="text/javascript"></script>
</head>
<body>
<form name="Form" method="post" action="{article.path}" id="Form">
<div id="wrapper">
  <div id="header">
    <div class="slogan"><marquee scrollamount="3">"CÔNG AN THÀNH PHỐ HẢI PHÒNG SIẾT CHẶT KỶ LUẬT, KỶ CƯƠNG, ĐIỀU LỆNH; XÂY DỰNG NẾP SỐNG VĂN HÓA VÌ NHÂN DÂN PHỤC VỤ"</marquee></div>
    <ul class="menu">
      <li><a href="/">Trang chủ</a></li>
{_POLICE_MENU}
    </ul>
  </div>
  <div id="main">
    <div class="col-main">
      <div class="breadcrumb"><a href="/">Trang chủ</a> / <a href="/{path}.html">{cat_name}</a></div>
      <div class="news-detail" data-news-id="{article.native_id}">
        <h1 class="news-title">{title}</h1>
        {date}
        <div class="news-content">
{_body(article, paragraph, image)}{trailer}
        </div>
        <div class="news-other">
          <h3>Các tin khác</h3>
          <ul>
{related}
          </ul>
        </div>
      </div>
    </div>
    <div class="col-right">
      <div class="box tu-cach">
        <div class="box-title">TƯ CÁCH<br />NGƯỜI CÔNG AN CÁCH MỆNH LÀ:</div>
        <div class="box-content"><p>Đối với tự mình, phải<br /><strong>CẦN, KIỆM, LIÊM, CHÍNH</strong></p></div>
      </div>
    </div>
  </div>
  <div id="footer">
    <div class="counter">Lượt truy cập: <span id="lblCounter">5713177</span><br />Trực tuyến: <span id="lblOnline">...</span></div>
  </div>
</div>
</form>
</body>
</html>"""


def police_category(path: str) -> str:
    cat_id, name = POLICE_CATEGORIES[path]
    page = saved_page("congan-category.html")
    page = page.replace("Phong trào toàn dân bảo vệ ANTQ - Công an", f"{name} - Công an")
    page = page.replace('<h1 class="cat-title">Phong trào toàn dân bảo vệ ANTQ</h1>', f'<h1 class="cat-title">{name}</h1>')
    return page.replace('data-cat="12"', f'data-cat="{cat_id}"')


def police_news_list(corpus: Corpus, cat_id: str, page: int) -> str | None:
    path = next((p for p, (cid, _) in POLICE_CATEGORIES.items() if cid == cat_id), None)
    if path is None:
        return None
    items = corpus.in_category("congan_haiphong", path)
    pages = max(1, math.ceil(len(items) / POLICE_PAGE_SIZE))
    if page > pages:
        return ""
    out = []
    for a in items[(page - 1) * POLICE_PAGE_SIZE: page * POLICE_PAGE_SIZE]:
        title = "" if a.fault == "no_title" else html.escape(a.title)
        out.append(f"""<div class="news-item">
  <a class="news-title" href="{html.escape(a.listing_href)}">{title}</a>
  <span class="news-date">{a.shown_date.astimezone(TZ):%d/%m/%Y %H:%M}</span>
  <p class="news-sapo">{_excerpt(a)}</p>
</div>""")
    out.append(f'<div class="pager" data-page="{page}" data-total-pages="{pages}"></div>')
    return "\n".join(out)


def challenge(token: str) -> str:
    return saved_page("congan-challenge.html").replace('s="8f2ac1d0"', f's="{token}"')


NEWSLIST_JS = """// The replica's newslist.js: fills #news-list from /Ajax/NewsList.ashx and draws the pager.
(function () {
  function load(page) {
    var list = document.getElementById('news-list');
    var xhr = new XMLHttpRequest();
    xhr.open('GET', '/Ajax/NewsList.ashx?cat=' + list.getAttribute('data-cat') + '&page=' + page);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.onload = function () {
      if (xhr.status !== 200) { list.innerHTML = '<div class="news-error">Lỗi tải dữ liệu</div>'; return; }
      list.innerHTML = xhr.responseText;
      list.setAttribute('data-page', page);
      var pager = list.querySelector('.pager');
      var total = pager ? parseInt(pager.getAttribute('data-total-pages'), 10) : page;
      var html = '';
      for (var k = Math.max(1, page - 2); k <= Math.min(total, page + 2); k++) {
        html += '<a class="page-link" data-page="' + k + '">' + k + '</a>';
      }
      if (page < total) { html += '<a class="page-next" data-page="' + (page + 1) + '">Sau</a>'; }
      document.getElementById('news-pager').innerHTML = html;
    };
    xhr.send();
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest('#news-pager a[data-page]');
    if (a) { e.preventDefault(); load(parseInt(a.getAttribute('data-page'), 10)); }
  });
  document.addEventListener('DOMContentLoaded', function () {
    var list = document.getElementById('news-list');
    if (list) { load(parseInt(list.getAttribute('data-page') || '1', 10)); }
  });
})();
"""
