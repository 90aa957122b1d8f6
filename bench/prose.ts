// Deterministic prose for the benchmark corpora: a seeded PRNG (mulberry32) drives
// sentences, headings, paragraphs and lists drawn from an English vocabulary, so every
// run (and every machine) generates byte-identical documents.

import { rng } from "../test/support/random.ts";

// Function words are frequent (as in real text); content words come from a few
// domains (outdoor retail, software, education, support), ~700 words in all.
const FUNCTION_WORDS = (
  "the the the the of of of and and and to to to a a a in in is is that for it as was with be by on not this are or " +
  "from at which but have an they you were their has would when if more no out so what up its about into than them can only " +
  "other some could these may then do any such like our over even most after also many before must through where much your " +
  "should because each just those how very while might us both between under since without during against within"
).split(" ");

const CONTENT_WORDS = (
  "backpack trail hiking tent sleeping bag jacket waterproof zipper strap buckle frame pocket lid cover bottle stove " +
  "fuel lantern compass map route summit valley river bridge forest meadow ridge camp shelter weather rain wind snow " +
  "temperature layer fleece wool boot sole lace ankle blister sock glove hat sunscreen insect repellent first aid kit " +
  "warranty repair return refund order shipping delivery tracking invoice payment discount coupon account password " +
  "customer support ticket agent answer question request response message email phone chat hours weekend holiday " +
  "store location address parking entrance staff manager team schedule appointment booking reservation calendar " +
  "product catalog category price size color weight volume capacity material fabric nylon polyester cotton leather " +
  "aluminium steel plastic rubber foam mesh seam stitching coating membrane breathable durable lightweight compact " +
  "course lesson module chapter quiz exam certificate student teacher learner progress assignment deadline grade " +
  "enrollment curriculum topic exercise example explanation practice review feedback discussion forum group session " +
  "server database query index table column row record field value type schema migration backup restore replica " +
  "worker job queue task retry failure error warning log metric latency throughput memory processor thread process " +
  "request header payload token limit window budget quota rate burst policy configuration setting variable option " +
  "document chunk paragraph heading section page file folder upload download import export format version release " +
  "embedding vector model similarity search retrieval ranking relevance score threshold context prompt answer summary " +
  "install update upgrade configure enable disable connect disconnect verify validate measure monitor inspect adjust " +
  "clean wash dry store pack carry lift tighten loosen attach detach fold unfold open close fill empty replace check " +
  "quickly carefully gently firmly usually always never often sometimes rarely already still again later soon " +
  "important useful simple complex reliable secure private public local remote automatic manual optional required " +
  "available visible hidden current previous next first last early late large small long short heavy light warm cold " +
  "dry wet soft hard bright dark clear strong weak fast slow new old easy difficult common rare standard custom " +
  "season spring summer autumn winter morning evening night day week month year minute hour second moment period " +
  "distance height length width depth angle edge corner surface layer level step stage phase part piece unit set " +
  "family friend visitor guest member owner user administrator editor author reader viewer subscriber partner vendor " +
  "policy guideline instruction procedure checklist manual guide handbook overview introduction reference appendix " +
  "benefit feature advantage limitation requirement condition exception case scenario situation problem solution " +
  "decision choice preference habit routine experience knowledge skill ability effort attention detail quality " +
  "company organisation department office branch warehouse factory supplier carrier courier package parcel box label " +
  "battery charger cable adapter screen button switch sensor light signal display keyboard device phone tablet laptop " +
  "kitchen garden garage bedroom bathroom window door roof wall floor ceiling stair shelf drawer cabinet basket"
).split(/\s+/);

const CONNECTORS = ["however", "for example", "in practice", "as a rule", "in most cases", "on the other hand", "in short", "by default", "if needed", "at the same time"];

export class Prose {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = rng(seed);
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  word(): string {
    return this.random() < 0.45 ? this.pick(FUNCTION_WORDS) : this.pick(CONTENT_WORDS);
  }

  sentence(): string {
    const n = this.int(7, 26);
    const words: string[] = [];
    if (this.random() < 0.12) words.push(`${this.pick(CONNECTORS)},`);
    for (let i = 0; i < n; i++) {
      let w = this.word();
      if (i > 2 && i < n - 2 && this.random() < 0.06) w += ",";
      else if (this.random() < 0.015) w = String(this.int(2, 2030));
      words.push(w);
    }
    const s = words.join(" ");
    const end = this.random() < 0.08 ? "?" : this.random() < 0.03 ? "!" : ".";
    return s.charAt(0).toUpperCase() + s.slice(1) + end;
  }

  heading(): string {
    const n = this.int(2, 6);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.pick(CONTENT_WORDS));
    return words.map((w, i) => (i === 0 || this.random() < 0.5 ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join(" ");
  }

  paragraph(): string {
    const sentences = this.int(2, this.random() < 0.1 ? 14 : 7);
    return Array.from({ length: sentences }, () => this.sentence()).join(" ");
  }

  listItems(): string[] {
    return Array.from({ length: this.int(3, 7) }, () => {
      const s = this.sentence();
      return this.random() < 0.5 ? s : s.split(" ").slice(0, this.int(3, 8)).join(" ");
    });
  }
}

/** A structured article: title, sections with optional sub-sections, paragraphs and lists. */
export interface Article {
  title: string;
  sections: { heading: string; level: 2 | 3; blocks: ({ kind: "p"; text: string } | { kind: "ul"; items: string[] })[] }[];
}

/** Generates an article of about `targetChars` characters of visible text. */
export function article(prose: Prose, targetChars: number): Article {
  const art: Article = { title: prose.heading(), sections: [] };
  let chars = art.title.length;
  while (chars < targetChars) {
    const level: 2 | 3 = art.sections.length > 0 && prose.random() < 0.3 ? 3 : 2;
    const section: Article["sections"][number] = { heading: prose.heading(), level, blocks: [] };
    chars += section.heading.length + 2;
    const blocks = prose.int(1, 6);
    for (let b = 0; b < blocks && chars < targetChars; b++) {
      if (prose.random() < 0.12) {
        const items = prose.listItems();
        section.blocks.push({ kind: "ul", items });
        chars += items.reduce((n, i) => n + i.length + 3, 0);
      } else {
        const text = prose.paragraph();
        section.blocks.push({ kind: "p", text });
        chars += text.length + 2;
      }
    }
    art.sections.push(section);
  }
  return art;
}

/** Plain text rendering: title and headings on their own lines, blank lines between blocks. */
export function articleText(art: Article): string {
  const out: string[] = [art.title, ""];
  for (const s of art.sections) {
    out.push(s.heading, "");
    for (const b of s.blocks) {
      if (b.kind === "p") out.push(b.text, "");
      else out.push(...b.items.map((i) => `- ${i}`), "");
    }
  }
  return out.join("\n");
}

export function articleMarkdown(art: Article): string {
  const out: string[] = [`# ${art.title}`, ""];
  for (const s of art.sections) {
    out.push(`${"#".repeat(s.level)} ${s.heading}`, "");
    for (const b of s.blocks) {
      if (b.kind === "p") out.push(b.text, "");
      else out.push(...b.items.map((i) => `- ${i}`), "");
    }
  }
  return out.join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A web page: head, nav, header, cookie banner, sidebar and footer boilerplate around an <article>. */
export function articleHtml(art: Article, prose: Prose, site: string): string {
  const navLinks = Array.from({ length: prose.int(8, 20) }, () => `<li><a href="/${prose.pick(CONTENT_WORDS)}/${prose.int(1, 999)}">${esc(prose.heading())}</a></li>`);
  const related = Array.from({ length: prose.int(4, 10) }, () => `<li><a href="/post/${prose.int(1, 99999)}">${esc(prose.heading())}</a></li>`);
  const footerCols = Array.from({ length: 4 }, () =>
    `<div class="col"><h4>${esc(prose.heading())}</h4><ul>${Array.from({ length: prose.int(3, 6) }, () => `<li><a href="/p/${prose.int(1, 999)}">${esc(prose.heading())}</a></li>`).join("")}</ul></div>`,
  );
  const body: string[] = [`<h1>${esc(art.title)}</h1>`, `<p class="byline">By ${esc(prose.heading())} · ${prose.int(1, 28)} ${prose.pick(["March", "June", "October"])} 2025</p>`];
  for (const s of art.sections) {
    body.push(`<h${s.level}>${esc(s.heading)}</h${s.level}>`);
    for (const b of s.blocks) {
      if (b.kind === "p") body.push(`<p>${esc(b.text)}</p>`);
      else body.push(`<ul>${b.items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`);
    }
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(art.title)} | ${esc(site)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="${esc(art.title)}">
<link rel="stylesheet" href="/assets/site.css">
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag("js",new Date());</script>
</head>
<body class="post-template">
<header class="site-header"><a class="logo" href="/">${esc(site)}</a>
<nav class="main-nav"><ul>${navLinks.join("")}</ul></nav>
<form class="search" action="/search"><input name="q" placeholder="Search"><button>Go</button></form></header>
<div class="cookie-banner" role="dialog">We use cookies to improve your experience and to measure traffic. <a href="/privacy">Learn more</a> <button>Accept</button> <button>Decline</button></div>
<nav class="breadcrumbs"><a href="/">Home</a> › <a href="/blog">Blog</a> › <span>${esc(art.title)}</span></nav>
<main id="content">
<article class="post">
${body.join("\n")}
</article>
<section class="share">Share this: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a></section>
</main>
<aside class="sidebar"><h3>Related posts</h3><ul>${related.join("")}</ul>
<div class="newsletter"><h3>Newsletter</h3><p>Get the latest posts in your inbox every week.</p><input type="email"><button>Subscribe</button></div></aside>
<footer class="site-footer">${footerCols.join("")}<p>© 2025 ${esc(site)} · <a href="/imprint">Imprint</a> · <a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p></footer>
<script src="/assets/site.js" defer></script>
</body>
</html>
`;
}
