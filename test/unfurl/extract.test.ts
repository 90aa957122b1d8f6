import { describe, expect, it } from "vitest";
import { extractPreview } from "../../src/unfurl/extract.ts";

const PAGE = "https://example.com/news/story.html";

function ex(html: string | Uint8Array, url = PAGE, contentType?: string) {
  return extractPreview(contentType === undefined ? { html, url } : { html, url, contentType });
}

/** Concatenates ASCII text and raw byte runs into one byte array. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const head = (inner: string, body = "<p>body</p>") => `<!doctype html><html><head>${inner}</head><body>${body}</body></html>`;

describe("extractPreview: precedence per field", () => {
  const all = [
    '<meta property="og:title" content="OG title">',
    '<meta name="twitter:title" content="Twitter title">',
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"LD headline","description":"LD description","image":"/ld.jpg","publisher":{"@type":"Organization","name":"LD Publisher"}}</script>',
    "<title>Tag title</title>",
    '<meta property="og:description" content="OG description">',
    '<meta name="twitter:description" content="Twitter description">',
    '<meta name="description" content="Meta description">',
    '<meta property="og:image" content="/og.jpg">',
    '<meta name="twitter:image" content="/tw.jpg">',
    '<link rel="image_src" href="/src.jpg">',
    '<meta property="og:site_name" content="OG Site">',
    '<meta name="application-name" content="App Name">',
    '<meta property="og:url" content="https://example.com/og-url">',
    '<link rel="canonical" href="/canonical">',
  ];
  const without = (...drop: string[]) => head(all.filter((t) => !drop.some((d) => t.includes(d))).join("\n"));

  it("title: og:title > twitter:title > JSON-LD headline > <title>", () => {
    expect(ex(without()).title).toBe("OG title");
    expect(ex(without("og:title")).title).toBe("Twitter title");
    expect(ex(without("og:title", "twitter:title")).title).toBe("LD headline");
    expect(ex(without("og:title", "twitter:title", "ld+json")).title).toBe("Tag title");
  });

  it("description: og > JSON-LD > meta description > twitter (twitter ranks last, see extract.ts)", () => {
    expect(ex(without()).description).toBe("OG description");
    expect(ex(without("og:description")).description).toBe("LD description");
    expect(ex(without("og:description", "ld+json")).description).toBe("Meta description");
    expect(ex(without("og:description", "ld+json", '"description"')).description).toBe("Twitter description");
  });

  it("image: og:image > twitter:image > JSON-LD image > link rel=image_src, resolved", () => {
    expect(ex(without()).image).toBe("https://example.com/og.jpg");
    expect(ex(without("og:image")).image).toBe("https://example.com/tw.jpg");
    expect(ex(without("og:image", "twitter:image")).image).toBe("https://example.com/ld.jpg");
    expect(ex(without("og:image", "twitter:image", "ld+json")).image).toBe("https://example.com/src.jpg");
    expect(ex(without("og:image", "twitter:image", "ld+json", "image_src")).image).toBeNull();
  });

  it("image: og:image:secure_url replaces a plain-http og:image; og:image:url is a fallback", () => {
    expect(ex(head('<meta property="og:image" content="http://cdn.example/a.jpg"><meta property="og:image:secure_url" content="https://cdn.example/a.jpg">')).image).toBe("https://cdn.example/a.jpg");
    expect(ex(head('<meta property="og:image:url" content="https://cdn.example/u.jpg">')).image).toBe("https://cdn.example/u.jpg");
  });

  it("site_name: JSON-LD publisher > og:site_name > application-name > derived from <title>", () => {
    expect(ex(without()).site_name).toBe("LD Publisher");
    expect(ex(without("ld+json")).site_name).toBe("OG Site");
    expect(ex(without("ld+json", "og:site_name")).site_name).toBe("App Name");
    // <title> = og:title + " - " + site: the suffix names the site.
    const derived = head('<meta property="og:title" content="Big news today"><title>Big news today - The Daily Example</title>');
    expect(ex(derived).site_name).toBe("The Daily Example");
    expect(ex(head("<title>Big news today - The Daily Example</title>")).site_name).toBeNull();
  });

  it("site_name: a <title> segment naming the domain, as a last resort (the title itself is left alone)", () => {
    expect(ex(head("<title>Bob Dylan - Wikipedia</title>"), "https://en.wikipedia.org/wiki/Bob_Dylan")).toMatchObject({ site_name: "Wikipedia", title: "Bob Dylan - Wikipedia" });
    expect(ex(head("<title>LeanData | The Winds of Change</title>"), "http://www.leandatainc.com/x").site_name).toBe("LeanData");
    expect(ex(head("<title>Thoughts - awk driven IoT</title>"), "https://anisse.astier.eu/awk.html").site_name).toBeNull();
    expect(ex(head("<title>Rates - BBC News</title>"), "https://www.bbc.co.uk/news/1").site_name).toBe("BBC News");
  });

  it("url: og:url > link rel=canonical > final URL", () => {
    expect(ex(without()).url).toBe("https://example.com/og-url");
    expect(ex(without("og:url")).url).toBe("https://example.com/canonical");
    expect(ex(without("og:url", "canonical")).url).toBe(PAGE);
  });

  it("an empty or blank higher-precedence value falls through", () => {
    const html = head('<meta property="og:title" content="   "><meta name="twitter:title" content=""><title>Real</title><meta property="og:description" content=" \n ">');
    const p = ex(html);
    expect(p.title).toBe("Real");
    expect(p.description).toBeNull();
  });

  it("meta keys are case-insensitive and name= works for og:*, property= for twitter:*", () => {
    const p = ex(head('<META NAME="og:title" CONTENT="Named OG"><meta property="Twitter:Description" content="Prop twitter">'));
    expect(p.title).toBe("Named OG");
    expect(p.description).toBe("Prop twitter");
  });
});

describe("extractPreview: URLs", () => {
  it("resolves relative image/icon/canonical URLs against <base href>, itself resolved against the final URL", () => {
    const p = ex(head('<base href="/static/v2/"><meta property="og:image" content="img/a.png"><link rel="icon" href="fav.png" sizes="32x32"><link rel="canonical" href="../../page">'));
    expect(p.image).toBe("https://example.com/static/v2/img/a.png");
    expect(p.favicon).toBe("https://example.com/static/v2/fav.png");
    expect(p.url).toBe("https://example.com/page");
  });

  it("without <base>, relative URLs resolve against the final URL; protocol-relative keep its scheme", () => {
    const p = ex(head('<meta property="og:image" content="../img/b.jpg"><meta name="twitter:image" content="//cdn.example/c.jpg">'), "https://example.com/a/b/c.html");
    expect(p.image).toBe("https://example.com/a/img/b.jpg");
    const q = ex(head('<meta name="twitter:image" content="//cdn.example/c.jpg">'), "http://example.com/");
    expect(q.image).toBe("http://cdn.example/c.jpg");
  });

  it("a non-http <base href> is ignored", () => {
    const p = ex(head('<base href="javascript:alert(1)"><meta property="og:image" content="x.png">'));
    expect(p.image).toBe("https://example.com/news/x.png");
  });

  it("keeps only http(s): javascript:, data:, mailto: and garbage are dropped and fall through", () => {
    const p = ex(
      head(
        '<meta property="og:image" content="javascript:alert(1)"><meta name="twitter:image" content="data:image/gif;base64,R0lGODlhAQABAAAAACw="><link rel="image_src" href="https://ok.example/i.png">' +
          '<meta property="og:url" content="mailto:x@example.com"><link rel="icon" href="data:image/png;base64,AAAA">',
      ),
    );
    expect(p.image).toBe("https://ok.example/i.png");
    expect(p.url).toBe(PAGE);
    expect(p.favicon).toBe("https://example.com/favicon.ico");
  });

  it("strips tabs/newlines inside URLs like browsers do", () => {
    const p = ex(head('<meta property="og:image" content="  https://cdn.example/a\n/b.jpg  ">'));
    expect(p.image).toBe("https://cdn.example/a/b.jpg");
  });

  it("throws on a final URL that is not absolute http(s)", () => {
    expect(() => ex("<title>x</title>", "/relative")).toThrow(TypeError);
    expect(() => ex("<title>x</title>", "ftp://example.com/")).toThrow(TypeError);
  });
});

describe("extractPreview: favicon", () => {
  it("falls back to /favicon.ico at the final URL's origin (not the <base> origin)", () => {
    expect(ex(head("<title>x</title>"), "https://sub.example.org:8443/deep/path?q=1").favicon).toBe("https://sub.example.org:8443/favicon.ico");
    expect(ex(head('<base href="https://cdn.example/"><title>x</title>')).favicon).toBe("https://example.com/favicon.ico");
  });

  it("prefers a reasonably large square PNG/SVG over ICO, small sizes and mask-icon", () => {
    const icons = [
      '<link rel="shortcut icon" href="/favicon.ico">',
      '<link rel="icon" type="image/png" sizes="16x16" href="/f16.png">',
      '<link rel="icon" type="image/png" sizes="32x32" href="/f32.png">',
      '<link rel="mask-icon" href="/mask.svg" color="#000">',
    ];
    expect(ex(head(icons.join(""))).favicon).toBe("https://example.com/f32.png");
    expect(ex(head(icons.concat('<link rel="apple-touch-icon" href="/apple.png">').join(""))).favicon).toBe("https://example.com/apple.png");
    expect(ex(head(icons.concat('<link rel="icon" sizes="192x192" href="/android-192.png">', '<link rel="icon" sizes="1024x1024" href="/huge.png">').join(""))).favicon).toBe(
      "https://example.com/android-192.png",
    );
    expect(ex(head(icons.concat('<link rel="icon" type="image/svg+xml" href="/icon.svg">').join(""))).favicon).toBe("https://example.com/icon.svg");
    expect(ex(head('<link rel="shortcut icon" href="/only.ico">')).favicon).toBe("https://example.com/only.ico");
  });

  it("reads the size from the file name when sizes= is missing; non-square loses", () => {
    const p = ex(head('<link rel="apple-touch-icon" href="/apple-touch-icon-60x60.png"><link rel="apple-touch-icon" href="/apple-touch-icon-152x152.png"><link rel="icon" sizes="300x100" href="/wide.png">'));
    expect(p.favicon).toBe("https://example.com/apple-touch-icon-152x152.png");
  });
});

describe("extractPreview: text clean-up", () => {
  it("decodes entities in attributes, <title> and JSON-LD, including double-escaped ones", () => {
    const p = ex(
      head(
        '<title>Tom &amp; Jerry&#8217;s &quot;day&quot; &lt;3</title><meta property="og:description" content="It&amp;#8217;s &amp;amp; more &eacute;t&eacute;">' +
          '<script type="application/ld+json">{"@type":"WebSite","name":"Caf&eacute; &amp; Co"}</script>',
      ),
    );
    expect(p.title).toBe("Tom & Jerry’s \"day\" <3");
    expect(p.description).toBe("It’s & more été");
    expect(p.site_name).toBe("Café & Co");
  });

  it("normalises whitespace (newlines, tabs, NBSP, zero-width) and drops control characters", () => {
    const p = ex(head('<title>\n  Hello\t\tworld \u00a0 again\u200b!\u0007  </title><meta name="description" content="  a\r\n\r\n b  ">'));
    expect(p.title).toBe("Hello world again !");
    expect(p.description).toBe("a b");
  });

  it("caps title at 300 and description at 1000 characters, at a grapheme boundary, with an ellipsis", () => {
    const long = "word ".repeat(400);
    const p = ex(head(`<title>${long}</title><meta name="description" content="${long.repeat(2)}">`));
    expect(p.title?.length).toBeLessThanOrEqual(300);
    expect(p.title?.endsWith("word…")).toBe(true);
    expect(p.description?.length).toBeLessThanOrEqual(1000);
    expect(p.description?.endsWith("…")).toBe(true);
  });

  it("never splits a surrogate pair or an emoji ZWJ sequence when cutting", () => {
    const family = "👨‍👩‍👧‍👦"; // 11 UTF-16 units, one grapheme
    for (let pad = 280; pad < 300; pad++) {
      const title = "x".repeat(pad) + family.repeat(5);
      const out = ex(head(`<title>${title}</title>`)).title ?? "";
      expect(out.length).toBeLessThanOrEqual(300);
      expect(out.endsWith("…")).toBe(true);
      const body = out.slice(0, -1);
      expect(body.replace(/x+/, "").length % family.length).toBe(0);
      expect(/[\ud800-\udbff]$/.test(body)).toBe(false);
    }
    const astral = "𝒜".repeat(200); // 400 units, no spaces
    const out = ex(head(`<title>${astral}</title>`)).title ?? "";
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out.isWellFormed()).toBe(true);
  });

  it("keeps titles under the cap untouched", () => {
    const t = "A".repeat(300);
    expect(ex(head(`<title>${t}</title>`)).title).toBe(t);
  });
});

describe("extractPreview: <title> site-name suffix", () => {
  it("strips ' | Site' from the <title> fallback when it names the site", () => {
    expect(ex(head('<title>Cucumber salad | Smitten Kitchen</title><meta name="application-name" content="smitten kitchen">')).title).toBe("Cucumber salad");
    expect(ex(head('<title>Story headline — Example Times</title><meta property="og:site_name" content="ExampleTimes.com">')).title).toBe("Story headline");
  });

  it("keeps the suffix when it is not the site name, when nothing would remain, and in og:title", () => {
    expect(ex(head('<title>Story headline | Jane Doe</title><meta property="og:site_name" content="Example Times">')).title).toBe("Story headline | Jane Doe");
    expect(ex(head('<title>Home | Example Times</title><meta property="og:site_name" content="Example Times">')).title).toBe("Home | Example Times");
    expect(ex(head('<meta property="og:title" content="Story | Example Times"><meta property="og:site_name" content="Example Times">')).title).toBe("Story | Example Times");
  });
});

describe("extractPreview: JSON-LD", () => {
  it("handles @graph with @id references (Yoast style)", () => {
    const graph = {
      "@context": "https://schema.org",
      "@graph": [
        { "@type": "Organization", "@id": "https://example.com/#org", name: "Example Org", logo: { "@id": "https://example.com/#logo" } },
        { "@type": "WebSite", "@id": "https://example.com/#website", name: "Example Website", publisher: { "@id": "https://example.com/#org" } },
        { "@type": "ImageObject", "@id": "https://example.com/#primaryimage", url: "https://example.com/hero.jpg" },
        { "@type": "WebPage", "@id": "https://example.com/story#webpage", name: "Story page", primaryImageOfPage: { "@id": "https://example.com/#primaryimage" } },
        {
          "@type": ["Article", "NewsArticle"],
          "@id": "https://example.com/story#article",
          headline: "Graph headline",
          description: "Graph description",
          image: { "@id": "https://example.com/#primaryimage" },
          author: [{ "@type": "Person", name: "Ada" }, { "@type": "Person", name: "Grace" }],
          publisher: { "@id": "https://example.com/#org" },
          datePublished: "2024-05-01T10:00:00Z",
        },
      ],
    };
    const p = ex(head(`<script type="application/ld+json">${JSON.stringify(graph)}</script>`));
    expect(p.title).toBe("Graph headline");
    expect(p.description).toBe("Graph description");
    expect(p.image).toBe("https://example.com/hero.jpg");
    expect(p.site_name).toBe("Example Org");
    expect(p.author).toBe("Ada, Grace");
    expect(p.published_time).toBe("2024-05-01T10:00:00Z");
    expect(p.type).toBe("Article");
  });

  it("reads Product JSON-LD (name, description, image array, top-level array of blocks)", () => {
    const product = [
      { "@context": "https://schema.org", "@type": "BreadcrumbList", itemListElement: [] },
      { "@context": "https://schema.org/", "@type": "Product", name: "Trail Shoe 2", description: "Light trail runner.", image: ["/p/1.jpg", "/p/2.jpg"], brand: { "@type": "Brand", name: "Acme" } },
    ];
    const p = ex(head(`<title>Shop</title><script type="application/ld+json">${JSON.stringify(product)}</script>`));
    expect(p.title).toBe("Trail Shoe 2");
    expect(p.description).toBe("Light trail runner.");
    expect(p.image).toBe("https://example.com/p/1.jpg");
    expect(p.type).toBe("Product");
  });

  it("prefers an article over a WebPage, and WebSite.name for the site when there is no publisher", () => {
    const blocks = [
      { "@context": "https://schema.org", "@type": "WebSite", name: "The Site", url: "https://example.com/" },
      { "@context": "https://schema.org", "@type": "WebPage", name: "Page name" },
      { "@context": "http://schema.org", "@type": "http://schema.org/BlogPosting", headline: "Post headline" },
    ];
    const html = head(blocks.map((b) => `<script type="application/ld+json">${JSON.stringify(b)}</script>`).join(""));
    const p = ex(html);
    expect(p.title).toBe("Post headline");
    expect(p.site_name).toBe("The Site");
  });

  it("uses name over headline when only name appears in <title> (Wikipedia)", () => {
    const ld = { "@context": "https://schema.org", "@type": "Article", name: "Hermitian matrix", headline: "matrix equal to its conjugate-transpose" };
    expect(ex(head(`<title>Hermitian matrix - Wikipedia</title><script type="application/ld+json">${JSON.stringify(ld)}</script>`)).title).toBe("Hermitian matrix");
  });

  it("survives malformed blocks: comments, CDATA, raw newlines, trailing commas, garbage", () => {
    const blocks = [
      "<!-- {not json -->",
      "this is not json",
      '/*<![CDATA[*/{"@type":"NewsArticle","headline":"Line one\nline two","description":"ok",}/*]]>*/',
    ];
    const p = ex(head(blocks.map((b) => `<script type="application/ld+json">${b}</script>`).join("")));
    expect(p.title).toBe("Line one line two");
    expect(p.description).toBe("ok");
  });

  it("finds JSON-LD placed at the end of the body", () => {
    const filler = "<p>lorem ipsum dolor sit amet</p>".repeat(5000);
    const p = ex(`<html><head><title>T</title></head><body>${filler}<script type="application/ld+json">{"@type":"NewsArticle","headline":"H","publisher":{"@type":"Organization","name":"Late Publisher"}}</script></body></html>`);
    expect(p.site_name).toBe("Late Publisher");
  });
});

describe("extractPreview: awkward markup", () => {
  it("handles a page with only <title>", () => {
    const p = ex("<title>Just a title</title>");
    expect(p).toMatchObject({ title: "Just a title", description: null, image: null, site_name: null, url: PAGE, favicon: "https://example.com/favicon.ico" });
  });

  it("handles an empty document and plain text", () => {
    expect(ex("")).toMatchObject({ title: null, description: null, url: PAGE });
    expect(ex("just some text, no markup").title).toBeNull();
  });

  it("handles broken HTML: junk before <html>, unclosed tags, unquoted attributes, unterminated comment at the end", () => {
    const html =
      'garbage </div> <? php ?> <html><head><meta property=og:title content=Unquoted><meta property="og:description" content="Desc"<meta name=twitter:image content=/i.png>' +
      "<title>Unclosed <b>bold</title><div><p>unclosed<span></head><body><table><tr><td>x<!-- never closed <meta property=og:site_name content=Hidden>";
    const p = ex(html);
    expect(p.title).toBe("Unquoted");
    expect(p.description).toBe("Desc");
    expect(p.site_name).toBeNull();
  });

  it("ignores meta/title inside comments, scripts, styles, templates and svg", () => {
    const html = head(
      '<!-- <meta property="og:title" content="Commented"> -->' +
        '<script>document.write(\'<meta property="og:title" content="Scripted"><title>Scripted</title>\')</script>' +
        '<style>/* <meta property="og:description" content="Styled"> */</style>' +
        '<template><meta property="og:description" content="Templated"></template>' +
        '<meta name="description" content="Real description">',
      '<svg><title>Icon title</title></svg><h1>Heading</h1><title>Body title</title>',
    );
    const p = ex(html);
    expect(p.title).toBe("Body title");
    expect(p.description).toBe("Real description");
  });

  it("takes Open Graph tags placed in the body", () => {
    const p = ex(`<html><head><title>Head title</title></head><body><div><meta property="og:title" content="Body OG"><meta property="og:image" content="/b.jpg"></div></body></html>`);
    expect(p.title).toBe("Body OG");
    expect(p.image).toBe("https://example.com/b.jpg");
  });

  it("falls back to the first <h1> for the title and the first real paragraph for the description", () => {
    const p = ex('<html><head><title></title></head><body><nav><p>Menu</p></nav><main><h1>The <em>real</em> heading</h1><p>short</p><p>This paragraph is long enough to describe the page &amp; it should be taken as the description.</p></main></body></html>');
    expect(p.title).toBe("The real heading");
    expect(p.description).toBe("This paragraph is long enough to describe the page & it should be taken as the description.");
  });

  it("falls back to the first content image of the body, skipping logos, icons, tiny, hidden and non-photo files", () => {
    const body =
      '<header><img src="/logo.png" alt="Site"><img src="/menu.svg"></header><main>' +
      '<img src="/pixel.jpg" width="1" height="1"><img src="/spacer.gif"><img src="/badge-88x31.png"><img src="/deco.jpg" aria-hidden="true">' +
      '<img src="/clip.mp4"><img src="https://ads.doubleclick.net/x.jpg"><img src="data:image/gif;base64,R0lGOD" data-src="/photos/lazy&amp;big.jpg" width="800"></main>';
    expect(ex(head("<title>x</title>", body)).image).toBe("https://example.com/photos/lazy&big.jpg");
    expect(ex(head("<title>x</title>", '<img src="/logo.png">')).image).toBeNull();
    // Metadata always wins over the body.
    expect(ex(head('<meta property="og:image" content="/og.jpg">', body)).image).toBe("https://example.com/og.jpg");
  });

  it("stays linear on pathological markup (unclosed tags, quotes, comments; no regex backtracking)", () => {
    const inputs = [
      "<meta content=x " + "a".repeat(30) + " b".repeat(20), // exponential for a naive tag-end regex
      "<meta " + "a b ".repeat(50_000),
      '<meta content="' + "x".repeat(1_000_000),
      "<".repeat(200_000),
      "<meta ".repeat(100_000),
      "<!--".repeat(100_000),
      "<script>".repeat(100_000),
      "<title>".repeat(100_000),
      "<body>" + "<p>".repeat(200_000),
      "<body>" + "<h1>".repeat(200_000),
      "<body>" + "<img src=a.svg>".repeat(100_000),
      '<meta a="' + "'\"".repeat(100_000),
    ];
    const started = performance.now();
    for (const html of inputs) expect(() => ex(html)).not.toThrow();
    expect(performance.now() - started).toBeLessThan(5000); // ~0.2 s on an idle machine
  });

  it("gives the same result for a string and for its UTF-8 bytes", () => {
    const html = head('<meta property="og:title" content="Ünïcödé ✓"><meta name="description" content="日本語">');
    expect(ex(bytes(html))).toEqual(ex(html));
  });
});

describe("extractPreview: charsets", () => {
  const sjis = [0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]; // 日本語
  const eucjp = [0xc6, 0xfc, 0xcb, 0xdc, 0xb8, 0xec]; // 日本語
  const gb2312 = [0xd6, 0xd0, 0xce, 0xc4]; // 中文
  const cp1251 = [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]; // Привет
  const cases: [string, number[], string, string][] = [
    ["Shift_JIS", sjis, "日本語", "shift_jis"],
    ["EUC-JP", eucjp, "日本語", "euc-jp"],
    ["GB2312", gb2312, "中文", "gb2312"],
    ["windows-1251", cp1251, "Привет", "windows-1251"],
  ];

  for (const [name, raw, text, label] of cases) {
    it(`${name}: charset from the Content-Type header`, () => {
      const page = bytes("<html><head><title>", raw, '</title><meta property="og:description" content="', raw, '"></head><body></body></html>');
      const p = ex(page, PAGE, `text/html; charset=${label}`);
      expect(p.title).toBe(text);
      expect(p.description).toBe(text);
    });

    it(`${name}: charset from <meta> only`, () => {
      const metaTag = name === "windows-1251" ? `<meta http-equiv="Content-Type" content="text/html; charset=${label}">` : `<meta charset="${label}">`;
      const page = bytes(`<html><head>${metaTag}<title>`, raw, "</title></head><body></body></html>");
      expect(ex(page, PAGE, "text/html").title).toBe(text);
      expect(ex(page, PAGE).title).toBe(text);
    });
  }

  it("a page whose meta says windows-1252 but whose bytes are UTF-8 decodes as UTF-8", () => {
    const page = bytes('<html><head><meta charset="windows-1252"><title>Café – déjà vu ✓</title></head></html>');
    expect(ex(page, PAGE, "text/html").title).toBe("Café – déjà vu ✓");
  });

  it("a windows-1252 page without any declaration decodes as windows-1252", () => {
    const page = bytes("<title>Caf", [0xe9], " ", [0x93], "quoted", [0x94], "</title>");
    expect(ex(page).title).toBe("Café “quoted”");
  });

  it("a truncated UTF-8 body cut inside a character still decodes as UTF-8", () => {
    const full = bytes("<title>Łódź – ", [0xe2, 0x9c, 0x93], "</title><p>", "é".repeat(10));
    const cut = full.subarray(0, full.length - 1); // ends in the middle of "é"
    expect(extractPreview({ html: cut, url: PAGE, truncated: true }).title).toBe("Łódź – ✓");
    expect(extractPreview({ html: cut, url: PAGE }).title).not.toBe("Łódź – ✓"); // without the flag: windows-1252
  });

  it("the header charset wins over a conflicting meta", () => {
    const page = bytes('<meta charset="utf-8"><title>', cp1251, "</title>");
    expect(ex(page, PAGE, "text/html; charset=windows-1251").title).toBe("Привет");
  });
});

describe("extractPreview: other fields", () => {
  it("records the oEmbed discovery URL (JSON preferred over XML) without fetching it", () => {
    const html = head(
      '<link rel="alternate" type="text/xml+oembed" href="/oembed.xml?url=x"><link rel="alternate" type="application/json+oembed" href="/oembed.json?url=x&amp;format=json" title="x">',
    );
    expect(ex(html).oembed_url).toBe("https://example.com/oembed.json?url=x&format=json");
    expect(ex(head('<link rel="alternate" type="text/xml+oembed" href="https://o.example/x.xml">')).oembed_url).toBe("https://o.example/x.xml");
    expect(ex(head("<title>x</title>")).oembed_url).toBeNull();
  });

  it("reads type, lang, author and published time", () => {
    const html = `<html lang="fr-CA"><head><meta property="og:type" content="article"><meta name="author" content="By Jane Doe"><meta property="article:author" content="https://facebook.com/jane"><meta property="article:published_time" content="2024-02-03T04:05:06Z"></head></html>`;
    expect(ex(html)).toMatchObject({ type: "article", lang: "fr-CA", author: "Jane Doe", published_time: "2024-02-03T04:05:06Z" });
    expect(ex(head('<meta property="og:locale" content="en_GB"><meta property="article:author" content="www.facebook.com/x">'))).toMatchObject({ lang: "en-GB", author: null });
  });
});

describe("extractPreview: video", () => {
  const youtubeWatch = (id: string) => `<!DOCTYPE html><html lang="en"><head>
    <title>Never Gonna Give You Up - YouTube</title>
    <meta property="og:site_name" content="YouTube">
    <meta property="og:url" content="https://www.youtube.com/watch?v=${id}">
    <meta property="og:title" content="Rick Astley - Never Gonna Give You Up (Official Music Video)">
    <meta property="og:image" content="https://i.ytimg.com/vi/${id}/maxresdefault.jpg">
    <meta property="og:description" content="The official video for “Never Gonna Give You Up”">
    <meta property="og:type" content="video.other">
    <meta property="og:video:url" content="https://www.youtube.com/embed/${id}">
    <meta property="og:video:secure_url" content="https://www.youtube.com/embed/${id}">
    <meta property="og:video:type" content="text/html">
    <meta property="og:video:width" content="1280"><meta property="og:video:height" content="720">
    <link rel="alternate" type="application/json+oembed" href="https://www.youtube.com/oembed?format=json&amp;url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3D${id}">
    </head><body><div id="player"></div>
    <script type="application/ld+json">{"@context":"https://schema.org","@type":"VideoObject","name":"Rick Astley - Never Gonna Give You Up","description":"The official video","duration":"PT3M33S","embedUrl":"https://www.youtube.com/embed/${id}","thumbnailUrl":["https://i.ytimg.com/vi/${id}/hqdefault.jpg"],"uploadDate":"2009-10-24T23:57:33-07:00"}</script>
    </body></html>`;

  it("YouTube watch page: provider from the URL, duration from JSON-LD VideoObject, start time kept", () => {
    const p = ex(youtubeWatch("dQw4w9WgXcQ"), "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s");
    expect(p.title).toBe("Rick Astley - Never Gonna Give You Up (Official Music Video)");
    expect(p.site_name).toBe("YouTube");
    expect(p.type).toBe("video.other");
    expect(p.oembed_url).toBe("https://www.youtube.com/oembed?format=json&url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DdQw4w9WgXcQ");
    expect(p.published_time).toBe("2009-10-24T23:57:33-07:00");
    expect(p.video).toEqual({
      provider: "youtube",
      video_id: "dQw4w9WgXcQ",
      embed_url: "https://www.youtube.com/embed/dQw4w9WgXcQ?start=42",
      thumbnail_url: "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
      duration: 213,
    });
  });

  it("og:video:duration (seconds) wins over JSON-LD duration", () => {
    const html = youtubeWatch("abcdefghijk").replace("</head>", '<meta property="og:video:duration" content="200"></head>');
    expect(ex(html, "https://youtu.be/abcdefghijk").video?.duration).toBe(200);
  });

  it("a VideoObject page on an unknown host gets its embedUrl as the player", () => {
    const ld = { "@context": "https://schema.org", "@type": "VideoObject", name: "Clip", duration: "PT1H2M3S", embedUrl: "/embed/clip-77", thumbnailUrl: "/thumbs/77.jpg" };
    const p = ex(head(`<script type="application/ld+json">${JSON.stringify(ld)}</script>`), "https://videos.example.org/watch/77");
    expect(p.video).toEqual({ provider: "videos.example.org", video_id: "clip-77", embed_url: "https://videos.example.org/embed/clip-77", thumbnail_url: "https://videos.example.org/thumbs/77.jpg", duration: 3723 });
    expect(p.image).toBe("https://videos.example.org/thumbs/77.jpg");
  });

  it("an article that merely embeds a VideoObject is not a video preview", () => {
    const blocks = [
      { "@context": "https://schema.org", "@type": "NewsArticle", headline: "Story" },
      { "@context": "https://schema.org", "@type": "VideoObject", name: "Clip", embedUrl: "https://player.example/1" },
    ];
    const p = ex(head(blocks.map((b) => `<script type="application/ld+json">${JSON.stringify(b)}</script>`).join("")));
    expect(p.video).toBeNull();
  });

  it("a Vimeo page gets the player from its URL and the thumbnail from og:image", () => {
    const html = head('<meta property="og:type" content="video.other"><meta property="og:image" content="https://i.vimeocdn.com/video/1.jpg"><meta property="og:video:duration" content="75">');
    expect(ex(html, "https://vimeo.com/311983548").video).toEqual({
      provider: "vimeo",
      video_id: "311983548",
      embed_url: "https://player.vimeo.com/video/311983548",
      thumbnail_url: "https://i.vimeocdn.com/video/1.jpg",
      duration: 75,
    });
  });

  it("non-video pages have video: null", () => {
    expect(ex(head("<title>x</title>")).video).toBeNull();
  });
});
