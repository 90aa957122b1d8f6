import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("applies defaults for a bare environment", () => {
    const cfg = loadConfig({ PGUSER: "alice" });
    expect(cfg.DATABASE_URL).toBe("postgres://alice@127.0.0.1:5432/botkit");
    expect(cfg).toMatchObject({ BOTKIT_SCHEMA: "botkit", BOTKIT_WORKER_SCHEMA: "graphile_worker", WORKER_CONCURRENCY: 4, EMBEDDING_PROVIDER: "local", LOG_LEVEL: "info" });
  });

  it("parses numbers, lists and booleans", () => {
    const cfg = loadConfig({ WORKER_CONCURRENCY: "12", HTTP_ALLOW_HOSTS: "127.0.0.1:8080, localhost", EMBEDDING_SEND_DIMENSIONS: "false", BOTKIT_STORAGE_ROOTS: "/a:/b" });
    expect(cfg.WORKER_CONCURRENCY).toBe(12);
    expect(cfg.HTTP_ALLOW_HOSTS).toEqual(["127.0.0.1:8080", "localhost"]);
    expect(cfg.EMBEDDING_SEND_DIMENSIONS).toBe(false);
    expect(cfg.BOTKIT_STORAGE_ROOTS).toEqual(["/a", "/b"]);
  });

  it("lists every bad variable in one readable error", () => {
    let err: unknown;
    try {
      loadConfig({ WORKER_CONCURRENCY: "0", LOG_LEVEL: "loud", DATABASE_URL: "mysql://x", EMBEDDING_DIMENSIONS: "1.5" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^Invalid configuration:/);
    expect(msg).toMatch(/WORKER_CONCURRENCY: must be at least 1 \(got "0"\)/);
    expect(msg).toMatch(/LOG_LEVEL: .*\(got "loud"\)/);
    expect(msg).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(msg).toMatch(/EMBEDDING_DIMENSIONS: must be an integer/);
  });

  it("requires an API key or base URL for the openai provider", () => {
    expect(() => loadConfig({ EMBEDDING_PROVIDER: "openai" })).toThrow(/OPENAI_API_KEY: required/);
    expect(loadConfig({ EMBEDDING_PROVIDER: "openai", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" }).OPENAI_BASE_URL).toBe("http://127.0.0.1:11434/v1");
  });
});
