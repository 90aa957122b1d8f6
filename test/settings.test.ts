import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings, SettingsError } from "../src/settings.ts";
import { freshDatabase, type TestDb } from "./support/db.ts";

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase("settings");
});
afterAll(async () => {
  await t.close();
});

describe("settings", () => {
  it("reads the seed defaults from the settings table", async () => {
    const s = await loadSettings(t.pg, {});
    expect(s).toMatchObject({ media_cleanup_days: 30, interaction_retention_days: 90, max_media_size: 10485760, recommendation_enabled: true });
  });

  it("follows table updates and lets the environment override", async () => {
    await t.pg.query("update settings set value = '45' where key = 'media_cleanup_days'");
    expect((await loadSettings(t.pg, {})).media_cleanup_days).toBe(45);
    const s = await loadSettings(t.pg, { BOTKIT_SETTING_MEDIA_CLEANUP_DAYS: "7", BOTKIT_SETTING_PDF_PAPER_SIZE: "a4" });
    expect(s.media_cleanup_days).toBe(7);
    expect(s.pdf_paper_size).toBe("a4");
  });

  it("names the source of an invalid value", async () => {
    await expect(loadSettings(t.pg, { BOTKIT_SETTING_INTERACTION_RETENTION_DAYS: "soon" })).rejects.toThrow(SettingsError);
    await expect(loadSettings(t.pg, { BOTKIT_SETTING_INTERACTION_RETENTION_DAYS: "soon" })).rejects.toThrow(
      /interaction_retention_days \(env BOTKIT_SETTING_INTERACTION_RETENTION_DAYS\)/);
    await t.pg.query(`update settings set value = '"many"' where key = 'history_per_page'`);
    await expect(loadSettings(t.pg, {})).rejects.toThrow(/history_per_page \(settings table\)/);
  });
});
