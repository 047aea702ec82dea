"""A newsroom's worth of awkward articles for the share-composition tests.

Many scripts (CJK, Arabic, Hebrew, Devanagari, Thai, Cyrillic, Greek), emoji with ZWJ
sequences, skin tones, flags and keycaps, combining marks, long headlines, headlines with
URLs, @, #, $; URLs with queries, fragments, non-ASCII paths and hosts, existing UTM tags;
categories that make awkward hashtags.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syndicate.content.text import slugify
from syndicate.models import Article, Image, Term

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
LONG_EN = (
    "Parliament votes through the long-delayed budget after a night of amendments, "
    "walkouts and a last-minute deal on pensions that few in the chamber expected to "
    "survive the final reading, while markets waited and the central bank stayed silent "
    "on what comes next for rates"
)

# (title, url, summary, categories, tags)
_ROWS: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "東京都、新たな防災計画を発表",
        "https://news.example.jp/記事/東京/防災?id=1",
        "東京都は首都直下地震に備えた新たな計画を発表した。",
        ("社会",),
        ("東京", "防災"),
    ),
    (
        "서울 지하철 파업 사흘째",
        "https://news.example.kr/뉴스/사회/2026?page=2#본문",
        "노사 협상은 아직 타결되지 않았다.",
        ("사회",),
        ("서울",),
    ),
    (
        "北京发布新的空气质量标准" * 8,
        "https://news.example.cn/新闻/环境",
        "新标准将于明年起实施。" * 20,
        ("环境",),
        ("北京",),
    ),
    (
        "الحكومة تعلن خطة جديدة للإسكان",
        "https://news.example.com/ar/أخبار/سياسة?utm_source=newsletter&utm_campaign=daily",
        "أعلنت الحكومة خطة لبناء مئة ألف وحدة سكنية.",
        ("سياسة",),
        ("إسكان",),
    ),
    (
        "הכנסת אישרה את התקציב",
        "https://news.example.co.il/חדשות/כלכלה",
        "התקציב אושר ברוב של 61 חברי כנסת.",
        ("כלכלה",),
        (),
    ),
    (
        "प्रधानमंत्री ने नई शिक्षा नीति की घोषणा की",
        "https://news.example.in/हिंदी/शिक्षा/नीति",
        "नई नीति में क्षेत्रीय भाषाओं पर ज़ोर दिया गया है।",
        ("शिक्षा",),
        ("हिन्दी",),
    ),
    (
        "क्षत्रिय " * 60,
        "https://news.example.in/a/kshatriya",
        "संयुक्ताक्षर क्ष, त्र, ज्ञ और श्र।",
        ("भाषा",),
        (),
    ),
    (
        "Семья из Казани выиграла в лотерею",
        "https://news.example.ru/новости/казань?ref=main",
        "Победители планируют потратить деньги на образование детей.",
        ("Общество",),
        (),
    ),
    (
        "Η Αθήνα υποδέχεται τους Ολυμπιακούς",
        "https://news.example.gr/αθλητισμός/2026",
        "Οι αγώνες ξεκινούν τον Ιούλιο.",
        ("Αθλητισμός",),
        (),
    ),
    (
        "กรุงเทพฯ เตรียมรับมือน้ำท่วม",
        "https://news.example.co.th/ข่าว/น้ำท่วม",
        "กรมอุตุนิยมวิทยาเตือนฝนตกหนัก",
        ("ข่าว",),
        (),
    ),
    (
        f"Family day {FAMILY} draws thousands " + FAMILY * 120,
        "https://news.example.com/family",
        FAMILY * 200,
        ("Life",),
        ("Family",),
    ),
    ("🇯🇵🇫🇷🇩🇪🇺🇦" * 40, "https://news.example.com/flags?x=1", "🇺🇳" * 300, ("World",), ()),
    (
        "Thumbs up 👍🏽👍🏿 for the new park 🌳",
        "https://news.example.com/park",
        "Residents 👏🏾 the opening.",
        ("Local",),
        (),
    ),
    ("Keycaps 1️⃣2️⃣3️⃣ explained", "https://news.example.com/keycaps", "#️⃣ and *️⃣ too.", ("Tech",), ()),
    (
        "Cafe\u0301 owners in Ume\u030aa protest",
        "https://news.example.se/cafe\u0301",
        "Za\u0308hne und Mu\u0308nzen " * 30,
        ("Business",),
        (),
    ),
    (
        "Zalgo z\u0335\u0321\u0327a\u0334\u0327l\u0338\u0322g\u0336\u0328o\u0337 " * 25,
        "https://news.example.com/zalgo",
        "a\u0301\u0302\u0303\u0304" * 200,
        ("Culture",),
        (),
    ),
    (
        LONG_EN,
        "https://news.example.com/2026/11/20/budget-vote?id=77&utm_source=rss#comments",
        LONG_EN * 3,
        ("Politics",),
        ("Budget", "Pensions"),
    ),
    (LONG_EN.upper(), "https://news.example.com/a/b.", LONG_EN, ("Markets",), ("Markets",)),
    (
        "Read https://example.org/report/東京 first, then decide",
        "https://news.example.com/url-in-title",
        "Source: https://example.org/data?year=2026.",
        ("Media",),
        (),
    ),
    (
        "Two links: https://a.example.com/x_(y) and (https://b.example.net/z).",
        "https://news.example.com/two",
        "Both.",
        ("Media",),
        (),
    ),
    (
        "@mayor says #housing is $5bn away",
        "https://news.example.com/mayor?q=housing&lang=en",
        "The @mayor spoke on #housing and $ costs.",
        ("Housing",),
        ("Mayor",),
    ),
    (
        "#Markets: stocks rally as the Fed pauses",
        "https://news.example.com/markets?utm_source=x&utm_medium=social",
        "#Markets closed higher.",
        ("Markets",),
        ("Fed", "Stocks"),
    ),
    (
        "C++ 26 is out: what changes for C# developers?",
        "https://news.example.com/tech/cpp",
        "The committee met in Sofia.",
        ("C++",),
        ("C#", "F#", ".NET"),
    ),
    (
        "U.S. election: the final count",
        "https://news.example.com/us-election?state=ga#live",
        "Counting continues in Georgia.",
        ("U.S.",),
        ("U.S. election", "AT&T"),
    ),
    (
        "$AAPL and $MSFT lead gains",
        "https://news.example.com/stocks/$aapl",
        "Cashtags $AAPL.",
        ("Markets & Finance",),
        ("50% off", "$5 deals"),
    ),
    (
        "Under_scores and *stars* (and brackets) [here] {too} <angle> ~tilde~ |pipe| \\slash",
        "https://news.example.com/oauth_1?a=b_c&d=(e)",
        "Little text: _ * ( ) [ ] { } < > ~ | \\ @ #",
        ("_under_",),
        ("snake_case",),
    ),
    ("Fragment only", "https://news.example.com/page#section-2", "Fragment.", ("Misc",), ()),
    ("Trailing punctuation", "https://news.example.com/wow!", "Wow.", ("Misc",), ()),
    ("Query ends in a dot", "https://news.example.com/search?q=end.", "Dot.", ("Misc",), ()),
    ("Tilde path", "https://news.example.com/~editor/notes", "Tilde.", ("Misc",), ()),
    ("Unbalanced bracket", "https://news.example.com/a(b", "Bracket.", ("Misc",), ()),
    (
        "Encoded already",
        "https://news.example.com/%E6%9D%B1%E4%BA%AC?q=a%20b",
        "Enc.",
        ("Misc",),
        (),
    ),
    ("Internationalised host", "https://bücher.de/straße?ö=ü", "IDN.", ("Books",), ()),
    ("Spaces in path", "https://news.example.com/a b/c d?x=1 2", "Spaces.", ("Misc",), ()),
    ("Percent sign", "https://news.example.com/100%/growth", "Percent.", ("Economy",), ()),
    (
        "Existing tracking",
        "https://news.example.com/a?utm_source=newsletter&utm_campaign=daily&fbclid=z&id=9",
        "Tracked.",
        ("Misc",),
        (),
    ),
    (
        "Persian: می‌خواهم بروم",
        "https://news.example.ir/فارسی",
        "نیم‌فاصله",
        ("فارسی",),
        ("می‌خواهم",),
    ),
    (
        "Mixed 日本 and English headline with 😷 and “quotes” — dashes",
        "https://news.example.com/mixed",
        "Mixed.",
        ("World news",),
        ("Japan", "World news", "COVID-19", "2024", "1st place"),
    ),
    ("Ellipsis already…", "https://news.example.com/ellipsis", "…and more…", ("Misc",), ()),
    (
        "Tabs\tand\nnewlines in a title",
        "https://news.example.com/ws",
        "Line one.\nLine two.",
        ("Misc",),
        (),
    ),
    ("A" * 400, "https://news.example.com/aaaa", "B" * 4000, ("Misc",), ()),
    (
        "Short",
        "https://news.example.com/s?" + "&".join(f"p{i}={i}" for i in range(60)),
        "Long query.",
        ("Misc",),
        (),
    ),
    (
        "Six tags on a headline that has to stay readable on every network",
        "https://news.example.com/tags",
        "Tags.",
        ("Economy", "Politics", "World"),
        ("Inflation", "Jobs", "Trade", "Europe", "Asia"),
    ),
    (
        "Ünïcödé Ñews in Español y Français: ¿qué pasa?",
        "https://news.example.es/noticias/¿qué-pasa?",
        "¡Hola!",
        ("Español",),
        ("Français",),
    ),
]


def corpus() -> list[Article]:
    """The corpus as articles, each with its own id, dates and an image."""
    articles = []
    for n, (title, url, summary, categories, tags) in enumerate(_ROWS):
        when = WHEN + timedelta(minutes=n)
        articles.append(
            Article(
                id=f"corpus-{n:02d}",
                title=title,
                url=url,
                content_html=f"<p>{summary}</p>",
                summary=summary,
                author="Desk",
                published=when,
                updated=when,
                categories=tuple(Term(slugify(c) or c, c) for c in categories),
                tags=tuple(Term(slugify(t) or t, t) for t in tags),
                image=Image(
                    f"https://news.example.com/img/{n}.jpg", "image/jpeg", 90_000, 1200, 630
                ),
                guid=f"urn:syndicate:corpus:{n}",
            )
        )
    return articles


def without_images() -> list[Article]:
    return [replace(a, image=None) for a in corpus()]
