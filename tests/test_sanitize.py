"""Body HTML keeps its content and loses anything that runs."""

from spiders.parsers.sanitize import sanitize_html


def test_scripts_styles_and_handlers_go_links_become_absolute():
    html = ('<div style="x"><p onclick="steal()">Tin <b>mới</b></p><script>alert(1)</script><style>p{}</style>'
            '<img src="/a.jpg" onerror="x()"><a href="javascript:alert(1)">x</a></div>')
    clean = sanitize_html(html, "https://congan.haiphong.gov.vn/Tin/x-1.html")
    assert "<p>Tin <b>mới</b></p>" in clean
    assert '<img src="https://congan.haiphong.gov.vn/a.jpg">' in clean
    for bad in ("script", "alert", "style", "onclick", "onerror", "javascript:"):
        assert bad not in clean
