// JSON-LD (schema.org) blocks → the few facts a preview uses.
//
// Handles: several blocks per page, top-level arrays, "@graph", arrays of types, types
// given as IRIs ("http://schema.org/NewsArticle"), "@id" references between nodes,
// WebPage.mainEntity, and the usual malformations (HTML comment / CDATA wrappers, raw
// newlines inside strings, trailing commas, a trailing ";").

type JsonObject = Record<string, unknown>;

export interface JsonLdVideo {
  embedUrl: string | null;
  contentUrl: string | null;
  thumbnailUrl: string | null;
  duration: string | null;
}

export interface JsonLdFacts {
  /** schema.org type of the entity that supplied title/description ("NewsArticle", "Product"...). */
  type: string | null;
  /** headline ?? name of the main entity. */
  title: string | null;
  /** headline and name separately: they differ on some sites (Wikipedia: name = page title, headline = tagline). */
  headline: string | null;
  name: string | null;
  description: string | null;
  /** Raw (possibly relative) image URL. */
  image: string | null;
  author: string | null;
  publishedTime: string | null;
  /** publisher.name of the main entity (or of the WebPage that contains it). */
  publisher: string | null;
  /** name of a WebSite node. */
  website: string | null;
  video: JsonLdVideo | null;
}

const ARTICLE_TYPES = new Set([
  "Article",
  "NewsArticle",
  "BlogPosting",
  "LiveBlogPosting",
  "Report",
  "SocialMediaPosting",
  "DiscussionForumPosting",
  "TechArticle",
  "ScholarlyArticle",
  "AnalysisNewsArticle",
  "OpinionNewsArticle",
  "ReportageNewsArticle",
  "ReviewNewsArticle",
  "BackgroundNewsArticle",
  "AskPublicNewsArticle",
  "SatiricalArticle",
  "AdvertiserContentArticle",
  "MedicalScholarlyArticle",
]);
const OTHER_WORK_TYPES = new Set([
  "Recipe",
  "Event",
  "Book",
  "Movie",
  "TVSeries",
  "TVEpisode",
  "Episode",
  "PodcastEpisode",
  "PodcastSeries",
  "MusicRecording",
  "MusicAlbum",
  "MusicPlaylist",
  "Course",
  "JobPosting",
  "SoftwareApplication",
  "MobileApplication",
  "WebApplication",
  "VideoGame",
  "Review",
  "HowTo",
  "Dataset",
  "Photograph",
  "ImageObject",
  "AudioObject",
  "CreativeWork",
  "Question",
]);

/** Lower number = better source for the page's title/description. */
function tier(types: readonly string[]): number {
  let best = 99;
  for (const type of types) {
    let rank = 99;
    if (ARTICLE_TYPES.has(type) || type.endsWith("Article")) rank = 1;
    else if (type === "VideoObject") rank = 2;
    else if (type === "Product" || type === "ProductGroup" || type === "IndividualProduct") rank = 3;
    else if (OTHER_WORK_TYPES.has(type)) rank = 4;
    else if (type === "WebPage" || type.endsWith("Page")) rank = 5;
    if (rank < best) best = rank;
  }
  return best;
}

/** Parses the raw text of one <script type="application/ld+json">; null when unusable. */
export function parseJsonLd(raw: string): unknown {
  let text = raw.trim();
  if (text === "") return null;
  // <!-- ... -->, /*<![CDATA[*/ ... /*]]>*/ wrappers.
  text = text.replace(/^(?:<!--|\/\*\s*<!\[CDATA\[\s*\*\/|<!\[CDATA\[)/, "").replace(/(?:-->|\/\*\s*\]\]>\s*\*\/|\]\]>)$/, "").trim();
  if (text.endsWith(";")) text = text.slice(0, -1);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Hand-written and template mistakes: raw control characters (newlines, tabs) inside
    // strings (outside strings a space is harmless), trailing commas, and empty values
    // left by a template ("width": , "height": }).
    const repaired = text
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u001f]+/g, " ")
      .replace(/:\s*(?=[,}\]])/g, ": null")
      .replace(/,\s*([}\]])/g, "$1");
    try {
      return JSON.parse(repaired) as unknown;
    } catch {
      return null;
    }
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typesOf(node: JsonObject): string[] {
  const raw = node["@type"];
  const list = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const t of list) {
    if (typeof t !== "string") continue;
    // "http://schema.org/NewsArticle", "schema:NewsArticle"
    const short = t.replace(/^.*[/#:]/, "").trim();
    if (short !== "") out.push(short);
  }
  return out;
}

/** All typed nodes, in document order: top level, @graph members, WebPage.mainEntity. */
function collectNodes(value: unknown, out: JsonObject[], depth = 0): void {
  if (depth > 4) return;
  if (Array.isArray(value)) {
    for (const item of value) collectNodes(item, out, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  if (value["@type"] !== undefined) out.push(value);
  if (value["@graph"] !== undefined) collectNodes(value["@graph"], out, depth + 1);
  for (const key of ["mainEntity", "mainEntityOfPage"]) {
    const child = value[key];
    if (isObject(child) && child["@type"] !== undefined && typesOf(child).some((t) => tier([t]) < 5)) collectNodes(child, out, depth + 1);
  }
}

/** node[key], also accepting a capitalised key ("Headline", "Description": seen in the wild). */
function prop(node: JsonObject, key: string): unknown {
  return node[key] ?? node[key.charAt(0).toUpperCase() + key.slice(1)];
}

function firstString(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = firstString(item);
      if (s !== null) return s;
    }
  }
  return null;
}

export function extractJsonLd(blocks: readonly string[]): JsonLdFacts | null {
  const nodes: JsonObject[] = [];
  for (const block of blocks) collectNodes(parseJsonLd(block), nodes);
  if (nodes.length === 0) return null;

  const byId = new Map<string, JsonObject>();
  for (const node of nodes) {
    const id = node["@id"];
    if (typeof id === "string" && !byId.has(id)) byId.set(id, node);
  }
  const deref = (value: unknown): unknown => {
    if (isObject(value) && typeof value["@id"] === "string" && Object.keys(value).length <= 2 && value.name === undefined) {
      return byId.get(value["@id"]) ?? value;
    }
    return value;
  };
  const nameOf = (value: unknown): string | null => {
    const v = deref(Array.isArray(value) ? value[0] : value);
    if (typeof v === "string") return v.trim() === "" ? null : v;
    if (isObject(v)) return firstString(v.name) ?? firstString(v.legalName) ?? firstString(v.alternateName);
    return null;
  };
  const urlOf = (value: unknown, depth = 0): string | null => {
    if (depth > 3) return null;
    if (typeof value === "string") return value.trim() === "" ? null : value.trim();
    if (Array.isArray(value)) {
      for (const item of value) {
        const u = urlOf(item, depth + 1);
        if (u !== null) return u;
      }
      return null;
    }
    const v = deref(value);
    if (!isObject(v)) return null;
    return urlOf(v.url, depth + 1) ?? urlOf(v.contentUrl, depth + 1) ?? (typeof v["@id"] === "string" && /^https?:/.test(v["@id"]) && v !== value ? v["@id"] : null);
  };

  let primary: JsonObject | null = null;
  let primaryTier = 99;
  let primaryType: string | null = null;
  let website: string | null = null;
  let video: JsonObject | null = null;
  for (const node of nodes) {
    const types = typesOf(node);
    const t = tier(types);
    const hasText = firstString(prop(node, "headline")) !== null || firstString(prop(node, "name")) !== null;
    if (t < primaryTier && hasText) {
      primary = node;
      primaryTier = t;
      primaryType = types.find((type) => tier([type]) === t) ?? null;
    }
    if (website === null && types.includes("WebSite")) website = nameOf(node);
    if (video === null && types.includes("VideoObject")) video = node;
  }

  let publisher: string | null = null;
  const publisherSources = [primary, ...nodes.filter((n) => tier(typesOf(n)) === 5)];
  for (const source of publisherSources) {
    if (source === null) continue;
    const pub = prop(source, "publisher") ?? prop(source, "sourceOrganization");
    if (pub === undefined) continue;
    publisher = nameOf(pub);
    if (publisher !== null) break;
  }

  const facts: JsonLdFacts = {
    type: primaryType,
    title: null,
    headline: null,
    name: null,
    description: null,
    image: null,
    author: null,
    publishedTime: null,
    publisher,
    website,
    video: null,
  };
  if (primary !== null) {
    facts.headline = firstString(prop(primary, "headline"));
    facts.name = firstString(prop(primary, "name"));
    facts.title = facts.headline ?? facts.name;
    facts.description = firstString(prop(primary, "description"));
    facts.image = urlOf(prop(primary, "image")) ?? urlOf(prop(primary, "thumbnailUrl")) ?? urlOf(prop(primary, "primaryImageOfPage"));
    facts.publishedTime = firstString(prop(primary, "datePublished")) ?? firstString(prop(primary, "uploadDate")) ?? firstString(prop(primary, "startDate"));
    const author = prop(primary, "author");
    const authors: unknown[] = Array.isArray(author) ? author : author === undefined ? [] : [author];
    const names = authors.map(nameOf).filter((n): n is string => n !== null);
    facts.author = names.length === 0 ? null : [...new Set(names)].slice(0, 3).join(", ");
  }
  if (video !== null) {
    facts.video = {
      embedUrl: urlOf(video.embedUrl),
      contentUrl: urlOf(video.contentUrl),
      thumbnailUrl: urlOf(video.thumbnailUrl) ?? urlOf(video.thumbnail),
      duration: firstString(video.duration),
    };
    if (facts.image === null && primary === video) facts.image = facts.video.thumbnailUrl;
  }
  return facts;
}
