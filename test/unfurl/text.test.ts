import { describe, expect, it } from "vitest";
import { capLength, cleanText, nameKey, splitTitleSuffix, stripSiteSuffix } from "../../src/unfurl/text.ts";

describe("cleanText", () => {
  it("returns null for nothing, trims and collapses whitespace, keeps a lone ideographic space", () => {
    expect(cleanText(null)).toBeNull();
    expect(cleanText(" \n\t ")).toBeNull();
    expect(cleanText("欲張りなイヌ\u3000＜福娘童話集＞")).toBe("欲張りなイヌ\u3000＜福娘童話集＞");
    expect(cleanText("a \u3000 b")).toBe("a b");
  });

  it("decodes a second level of entities only when a complete entity remains", () => {
    expect(cleanText("Fish &amp; Chips")).toBe("Fish & Chips");
    expect(cleanText("AT&T & R&D")).toBe("AT&T & R&D");
    expect(cleanText("It&#8217;s")).toBe("It’s");
  });

  it("removes lone surrogates and control characters", () => {
    expect(cleanText("a\ud800b\udc00c\u0000d")).toBe("abcd");
    expect(cleanText("ok 😀")).toBe("ok 😀");
  });
});

describe("capLength", () => {
  it("leaves short text alone and cuts long text at a word boundary with an ellipsis", () => {
    expect(capLength("short", 10)).toBe("short");
    expect(capLength("the quick brown fox jumps over", 20)).toBe("the quick brown fox…");
  });

  it("stays within the cap and well-formed for clusters longer than the look-around window", () => {
    for (const text of ["x".repeat(250) + "a" + "\u0301".repeat(500), "x".repeat(235) + "😀" + "\u0301".repeat(300), "🙂".repeat(400), "x".repeat(298) + "😀😀"]) {
      const out = capLength(text, 300);
      expect(out.length).toBeLessThanOrEqual(300);
      expect(out.isWellFormed()).toBe(true);
      expect(out.endsWith("…")).toBe(true);
    }
  });
});

describe("site-name suffixes", () => {
  it("splits at the last separator", () => {
    expect(splitTitleSuffix("A - B | Site")).toEqual({ head: "A - B", tail: "Site", separator: " | " });
    expect(splitTitleSuffix("No separator here")).toBeNull();
    expect(splitTitleSuffix("Well-known hyphen")).toBeNull();
  });

  it("compares names loosely", () => {
    expect(nameKey("BostonGlobe.com")).toBe(nameKey("The Boston Globe"));
    expect(nameKey("NPR.org")).toBe("npr");
  });

  it("strips only a suffix naming the site, and only when a real title remains", () => {
    expect(stripSiteSuffix("Story of the year | The Boston Globe", ["BostonGlobe.com"])).toBe("Story of the year");
    expect(stripSiteSuffix("Story of the year · Example News", ["ExampleNews.com"])).toBe("Story of the year");
    expect(stripSiteSuffix("Story of the year | Someone Else", ["Example"])).toBe("Story of the year | Someone Else");
    expect(stripSiteSuffix("Home | Example", ["Example"])).toBe("Home | Example");
  });
});
