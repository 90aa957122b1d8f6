import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDb } from "../support/db.ts";

let t: TestDb;
const q = (text: string, values: unknown[] = []) => t.pg.query(text, values);
const one = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await q(text, values)).rows[0] as T;

beforeAll(async () => {
  t = await freshDatabase("schema");
});
afterAll(async () => {
  await t.close();
});

async function chatbot(name = "bot"): Promise<number> {
  return Number((await one<{ id: string }>("insert into chatbots (name) values ($1) returning id", [name])).id);
}
async function conversation(chatbotId: number, userId = 7): Promise<number> {
  return Number((await one<{ id: string }>(
    "insert into conversations (chatbot_id, user_id, session_id, guest_ip) values ($1, $2, 'sess', '203.0.113.9') returning id",
    [chatbotId, userId])).id);
}
async function message(conversationId: number, content: string, role = "user"): Promise<number> {
  return Number((await one<{ id: string }>(
    "insert into messages (conversation_id, role, content) values ($1, $2, $3) returning id", [conversationId, role, content])).id);
}
async function media(fields: { message_id?: number | null; conversation_id?: number | null }): Promise<number> {
  return Number((await one<{ id: string }>(
    `insert into media (message_id, conversation_id, user_id, media_type, file_name, file_path, file_url, mime_type, file_size)
     values ($1, $2, 7, 'image', 'a.png', '/uploads/a.png', 'https://example.test/a.png', 'image/png', 10) returning id`,
    [fields.message_id ?? null, fields.conversation_id ?? null])).id);
}

describe("column types", () => {
  it("uses identity keys, jsonb, boolean, inet and timestamptz", async () => {
    const cols = await q(
      `select table_name, column_name, data_type, is_identity, identity_generation from information_schema.columns
        where table_schema = $1 and (column_name in ('id', 'guest_ip', 'created_at', 'is_archived', 'metadata') )`,
      [t.cfg.BOTKIT_SCHEMA]);
    const rows = cols.rows as { table_name: string; column_name: string; data_type: string; is_identity: string; identity_generation: string | null }[];
    for (const r of rows.filter((r) => r.column_name === "id" && r.table_name !== "schema_migrations")) {
      expect(r, r.table_name).toMatchObject({ data_type: "bigint", is_identity: "YES", identity_generation: "ALWAYS" });
    }
    expect(rows.filter((r) => r.column_name === "created_at").every((r) => r.data_type === "timestamp with time zone")).toBe(true);
    expect(rows.filter((r) => r.column_name === "metadata").every((r) => r.data_type === "jsonb")).toBe(true);
    expect(rows.find((r) => r.column_name === "guest_ip")?.data_type).toBe("inet");
    expect(rows.find((r) => r.column_name === "is_archived")?.data_type).toBe("boolean");
  });

  it("has the seed's DESC indexes", async () => {
    const idx = await q("select indexname, indexdef from pg_indexes where schemaname = $1", [t.cfg.BOTKIT_SCHEMA]);
    const defs = new Map((idx.rows as { indexname: string; indexdef: string }[]).map((r) => [r.indexname, r.indexdef]));
    expect(defs.get("idx_user_interactions_user_time")).toMatch(/\(user_id, created_at DESC\)/);
    expect(defs.get("idx_user_interactions_item_type")).toMatch(/\(item_type, item_id, created_at DESC\)/);
    expect(defs.get("idx_user_interactions_type_time")).toMatch(/\(interaction_type, created_at DESC\)/);
    expect(defs.get("idx_messages_convo_created")).toMatch(/\(conversation_id, created_at DESC\)/);
    expect(defs.get("idx_conversations_user_updated")).toMatch(/\(user_id, updated_at DESC\)/);
    expect(defs.get("idx_conversations_user_archived")).toMatch(/\(user_id, is_archived, updated_at DESC\)/);
    expect(defs.get("ft_messages_content")).toMatch(/USING gin \(content_tsv\)/);
    expect(defs.get("idx_media_orphan")).toMatch(/\(status, created_at\)/);
  });
});

describe("updated_at trigger", () => {
  it("bumps updated_at on update unless the statement sets it", async () => {
    const id = await chatbot("ts");
    const before = await one<{ updated_at: Date; created_at: Date }>("select created_at, updated_at from chatbots where id = $1", [id]);
    await new Promise((r) => setTimeout(r, 20));
    const after = await one<{ updated_at: Date }>("update chatbots set name = 'ts2' where id = $1 returning updated_at", [id]);
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    const explicit = await one<{ updated_at: Date }>(
      "update chatbots set name = 'ts3', updated_at = '2020-01-01T00:00:00Z' where id = $1 returning updated_at", [id]);
    expect(explicit.updated_at.toISOString()).toBe("2020-01-01T00:00:00.000Z");
  });
});

describe("CHECK constraints on the seed's enums", () => {
  const cases: [string, string, RegExp][] = [
    ["templates category", "insert into templates (name, category) values ('x', 'sports')", /templates_category_check/],
    ["media type", "insert into media (user_id, media_type, file_name, file_path, file_url, mime_type) values (1, 'audio', 'a', 'b', 'c', 'd')", /media_type_check/],
    ["media status", "insert into media (user_id, media_type, file_name, file_path, file_url, mime_type, status) values (1, 'image', 'a', 'b', 'c', 'd', 'gone')", /media_status_check/],
    ["interaction type", "insert into user_interactions (user_id, interaction_type, item_type, item_id) values (1, 'like', 'product', 1)", /user_interactions_type_check/],
    ["item type", "insert into user_interactions (user_id, interaction_type, item_type, item_id) values (1, 'page_view', 'video', 1)", /user_interactions_item_type_check/],
    ["document status", "insert into documents (title, source_type, status) values ('d', 'text', 'done')", /documents_status_check/],
    ["wp_content action", "insert into wp_content (post_id, post_type, action) values (1, 'post', 'upsert')", /wp_content_action_check/],
    ["email status", "insert into email_queue (email_type, recipient_email, subject, body, status) values ('x', 'a@b.c', 's', 'b', 'lost')", /email_queue_status_check/],
  ];
  it.each(cases)("rejects a bad %s with a clear error", async (_label, sql, constraint) => {
    const err = await q(sql).then(() => null, (e: Error & { code?: string; constraint?: string }) => e);
    expect(err).not.toBeNull();
    expect(err!.code).toBe("23514");
    expect(err!.message).toMatch(/violates check constraint/);
    expect(err!.message).toMatch(constraint);
  });

  it("rejects a bad message role", async () => {
    const c = await conversation(await chatbot());
    await expect(message(c, "hi", "robot")).rejects.toThrow(/messages_role_check/);
  });
});

describe("relationships", () => {
  it("cascades chunks and embeddings from their document and removes its chatbot links", async () => {
    const doc = await one<{ id: string }>("insert into documents (title, source_type) values ('doc', 'text') returning id");
    const bot = await chatbot();
    await q("insert into content_relationships (source_type, source_id, target_type, target_id) values ('chatbot', $1, 'document', $2)", [bot, doc.id]);
    await q("insert into document_metadata (document_id, meta_key, meta_value) values ($1, 'lang', '\"en\"')", [doc.id]);
    const chunk = await one<{ id: string }>("insert into chunks (document_id, content, chunk_index, content_hash) values ($1, 'hello', 0, sha256('hello')) returning id", [doc.id]);
    await q("insert into embeddings (chunk_id, model, dimensions, embedding) values ($1, 'm', 3, '[1,0,0]')", [chunk.id]);
    await q("delete from documents where id = $1", [doc.id]);
    for (const table of ["chunks", "embeddings", "document_metadata"]) {
      expect((await one<{ n: number }>(`select count(*)::int as n from ${table}`)).n, table).toBe(0);
    }
    expect((await one<{ n: number }>("select count(*)::int as n from content_relationships where target_id = $1", [doc.id])).n).toBe(0);
  });

  it("keeps one embedding per (chunk, model) and checks the dimension count", async () => {
    const doc = await one<{ id: string }>("insert into documents (title, source_type) values ('doc', 'text') returning id");
    const chunk = await one<{ id: string }>("insert into chunks (document_id, content, chunk_index, content_hash) values ($1, 'x', 0, sha256('x')) returning id", [doc.id]);
    await q("insert into embeddings (chunk_id, model, dimensions, embedding) values ($1, 'a', 3, '[1,0,0]')", [chunk.id]);
    await q("insert into embeddings (chunk_id, model, dimensions, embedding) values ($1, 'b', 2, '[1,0]')", [chunk.id]);
    await expect(q("insert into embeddings (chunk_id, model, dimensions, embedding) values ($1, 'a', 3, '[0,1,0]')", [chunk.id]))
      .rejects.toThrow(/embeddings_chunk_model_key/);
    await expect(q("insert into embeddings (chunk_id, model, dimensions, embedding) values ($1, 'c', 4, '[0,1,0]')", [chunk.id]))
      .rejects.toThrow(/embeddings_vector_dims_check/);
  });

  it("sets chatbots.template_id to null when its template is deleted", async () => {
    const tpl = await one<{ id: string }>("insert into templates (name, category) values ('mine', 'sales') returning id");
    const bot = await one<{ id: string }>("insert into chatbots (name, template_id, model_config) values ('b', $1, '{\"model\":\"x\"}') returning id", [tpl.id]);
    await q("delete from templates where id = $1", [tpl.id]);
    const row = await one<{ template_id: string | null; model_config: unknown }>("select template_id, model_config from chatbots where id = $1", [bot.id]);
    expect(row).toEqual({ template_id: null, model_config: { model: "x" } });
  });
});

describe("media lifecycle (seed §7.2)", () => {
  it("marks a deleted message's media deleted and unlinks it instead of losing the file", async () => {
    const c = await conversation(await chatbot());
    const m = await message(c, "look at this");
    const other = await message(c, "keep me");
    const gone = await media({ message_id: m, conversation_id: c });
    const kept = await media({ message_id: other, conversation_id: c });
    await q("delete from messages where id = $1", [m]);
    const row = await one<{ status: string; message_id: string | null; conversation_id: string; metadata: Record<string, unknown> }>(
      "select status, message_id, conversation_id, metadata from media where id = $1", [gone]);
    expect(row.status).toBe("deleted");
    expect(row.message_id).toBeNull();
    expect(Number(row.conversation_id)).toBe(c);
    expect(row.metadata.deleted_message_id).toBe(m);
    expect((await one<{ status: string }>("select status from media where id = $1", [kept])).status).toBe("active");
  });

  it("marks all media of a deleted conversation deleted (messages cascade)", async () => {
    const c = await conversation(await chatbot());
    const m = await message(c, "hello");
    const a = await media({ message_id: m, conversation_id: c });
    const b = await media({ conversation_id: c });
    await q("delete from conversations where id = $1", [c]);
    const rows = await q("select status, message_id, conversation_id from media where id = any($1) order by id", [[a, b]]);
    expect(rows.rows).toEqual([
      { status: "deleted", message_id: null, conversation_id: null },
      { status: "deleted", message_id: null, conversation_id: null },
    ]);
    expect((await one<{ n: number }>("select count(*)::int as n from messages where conversation_id = $1", [c])).n).toBe(0);
  });
});

describe("system templates", () => {
  it("installs the five categories' pre-built templates", async () => {
    const rows = await q("select name, category from templates where is_system order by category, name");
    expect(rows.rows).toEqual([
      { name: "Course Advisor", category: "education" },
      { name: "Default", category: "general" },
      { name: "Lead Capture", category: "marketing" },
      { name: "Product Advisor", category: "sales" },
      { name: "Customer Support", category: "support" },
      { name: "FAQ Bot", category: "support" },
    ]);
  });

  it("refuses delete, update and truncate but counts usage", async () => {
    const tpl = await one<{ id: string }>("select id from templates where name = 'FAQ Bot'");
    await expect(q("delete from templates where id = $1", [tpl.id])).rejects.toThrow(/system template \d+ \("FAQ Bot"\) cannot be deleted/);
    await expect(q("update templates set name = 'Mine' where id = $1", [tpl.id])).rejects.toThrow(/cannot be modified/);
    await expect(q("update templates set is_system = false where id = $1", [tpl.id])).rejects.toThrow(/cannot be modified/);
    await expect(q("update templates set model_config = '{}' where id = $1", [tpl.id])).rejects.toThrow(/cannot be modified/);
    await expect(q("truncate templates cascade")).rejects.toThrow(/cannot be truncated/);
    const counted = await one<{ usage_count: number }>("update templates set usage_count = usage_count + 1 where id = $1 returning usage_count", [tpl.id]);
    expect(counted.usage_count).toBe(1);
    const mine = await one<{ id: string }>("insert into templates (name) values ('custom') returning id");
    await expect(q("update templates set is_system = true where id = $1", [mine.id])).rejects.toThrow(/cannot be promoted/);
    await q("update templates set name = 'custom2' where id = $1", [mine.id]);
    await q("delete from templates where id = $1", [mine.id]);
  });
});

describe("message search (seed §10.2)", () => {
  it("finds messages by words with the seed's filters, best match first", async () => {
    const bot = await chatbot("Support bot");
    const mine = await conversation(bot, 42);
    const theirs = await conversation(bot, 43);
    await message(mine, "How do I reset my password?");
    await message(mine, "Password reset emails arrive within five minutes; check the spam folder for the reset password email.", "assistant");
    await message(mine, "Thanks, what about shipping costs?");
    await message(theirs, "password reset please");
    const res = await q("select id, content, relevance, chatbot_name from search_messages($1, $2, now() - interval '1 hour', now() + interval '1 hour', 20, 0)",
      [42, "reset password"]);
    const rows = res.rows as { content: string; relevance: number; chatbot_name: string }[];
    expect(rows.map((r) => r.content)).toEqual([
      "Password reset emails arrive within five minutes; check the spam folder for the reset password email.",
      "How do I reset my password?",
    ]);
    expect(rows[0]!.relevance).toBeGreaterThan(rows[1]!.relevance);
    expect(rows[0]!.chatbot_name).toBe("Support bot");
    // Natural-language mode matches any word.
    const any = await q("select content from search_messages(42, 'shipping unicorns', now() - interval '1 hour', now() + interval '1 hour')");
    expect(any.rows.map((r) => r.content)).toEqual(["Thanks, what about shipping costs?"]);
    const none = await q("select content from search_messages(42, 'the', now() - interval '1 day', now() - interval '1 hour')");
    expect(none.rows).toEqual([]);
    const plan = await q("explain select * from messages where content_tsv @@ to_tsquery('simple', 'password')");
    expect(plan.rows.length).toBeGreaterThan(0);
  });
});

describe("pgvector", () => {
  it("answers a cosine top-k query through a per-model HNSW partial index", async () => {
    const doc = await one<{ id: string }>("insert into documents (title, source_type) values ('vectors', 'text') returning id");
    // 5,000 chunks with 3-dim vectors for model m3, and as many 2-dim vectors for another model.
    await q(`insert into chunks (document_id, content, chunk_index, content_hash)
             select $1, 'chunk ' || g, g, sha256(convert_to('chunk ' || g, 'UTF8')) from generate_series(0, 4999) g`, [doc.id]);
    await q(`insert into embeddings (chunk_id, model, dimensions, embedding)
             select c.id, 'm3', 3, format('[%s,%s,%s]', cos(c.chunk_index), sin(c.chunk_index), (c.chunk_index % 7) / 7.0)::vector
               from chunks c where c.document_id = $1`, [doc.id]);
    await q(`insert into embeddings (chunk_id, model, dimensions, embedding)
             select c.id, 'm2', 2, format('[%s,%s]', c.chunk_index, 1)::vector from chunks c where c.document_id = $1`, [doc.id]);
    await q(`create index embeddings_hnsw_m3 on embeddings using hnsw ((embedding::vector(3)) vector_cosine_ops) where model = 'm3'`);
    await q("analyze embeddings");
    const query = "[1,0,0.5]";
    const topK = `select e.chunk_id, 1 - (e.embedding::vector(3) <=> $1::vector(3)) as similarity
                    from embeddings e where e.model = 'm3'
                   order by e.embedding::vector(3) <=> $1::vector(3) limit 5`;
    const client = await t.pg.connect();
    try {
      await client.query("begin");
      const plan = (await client.query(`explain ${topK}`, [query])).rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toMatch(/Index Scan using embeddings_hnsw_m3/);
      const rows = (await client.query(topK, [query])).rows as { similarity: number }[];
      await client.query("commit");
      expect(rows).toHaveLength(5);
      const exact = await q(`select 1 - (embedding <=> $1::vector) as s from embeddings where model = 'm3' order by s desc limit 5`, [query]);
      expect(rows[0]!.similarity).toBeCloseTo(exact.rows[0].s, 6);
      for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.similarity).toBeGreaterThanOrEqual(rows[i]!.similarity - 1e-9);
    } finally {
      client.release();
    }
  });
});

describe("settings", () => {
  it("holds the seed's option defaults", async () => {
    const rows = await q("select key, value from settings order by key");
    const map = Object.fromEntries((rows.rows as { key: string; value: unknown }[]).map((r) => [r.key, r.value]));
    expect(map).toMatchObject({
      history_per_page: 10, search_per_page: 20, max_media_size: 10485760, media_cleanup_days: 30,
      interaction_retention_days: 90, recommendation_limit: 5, pdf_paper_size: "letter",
      allowed_doc_types: ["application/pdf", "text/plain"],
    });
  });
});
