// Fails fast, with the fix spelled out, when the test database is not ready.
import pg from "pg";
import { testDatabaseUrl } from "./db.ts";

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("create extension if not exists vector with schema public");
  } catch (err) {
    throw new Error(
      `test database ${testDatabaseUrl} is not ready (${err instanceof Error ? err.message : String(err)}). ` +
        "Run `npm test` (it runs scripts/setup.ts --test first) or set TEST_DATABASE_URL.",
      { cause: err },
    );
  } finally {
    await client.end().catch(() => {});
  }
}
