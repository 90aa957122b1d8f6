-- 0002: ingestion. Document sources and status details, chunk hashes, the embedding
-- cache, the embedding model registry, the enqueue trigger and retrieval.

-- Where a document's text comes from: inline `content` (text, markdown, html, WordPress
-- rendered content), `file_path` inside a storage root (pdf, file, html), or `source_url`.
alter table documents
  add column content       text,
  add column source_url    varchar(2048),
  add column metadata      jsonb not null default '{}',
  add column error_reason  varchar(50),
  add column error_message text,
  add column ingested_at   timestamptz;

-- A chunk's hash is over the exact text sent to the embedder (title context included),
-- so equal hashes mean equal embeddings.
alter table chunks
  add column content_hash bytea,
  add column token_count  integer;
update chunks set content_hash = sha256(convert_to(content, 'UTF8')) where content_hash is null;
alter table chunks alter column content_hash set not null;
create index idx_chunks_document_hash on chunks (document_id, content_hash);

-- Embeddings already computed, by (text hash, model, dimensions): identical text in any
-- document, or after re-chunking, is embedded once.
create table embedding_cache (
  content_hash bytea not null,
  model        varchar(200) not null,
  dimensions   integer not null check (dimensions between 1 and 16000),
  embedding    vector not null,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  primary key (content_hash, model, dimensions),
  constraint embedding_cache_vector_dims_check check (vector_dims(embedding) = dimensions)
);
create index idx_embedding_cache_last_used on embedding_cache (last_used_at);

-- Models whose embeddings the chunks carry. `is_default` is the model retrieval uses
-- unless a chatbot's model_config names another ("embedding_model").
create table embedding_models (
  model       varchar(200) primary key,
  provider    varchar(50) not null,
  dimensions  integer not null check (dimensions between 1 and 16000),
  is_default  boolean not null default false,
  index_name  varchar(63),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create unique index embedding_models_one_default on embedding_models (is_default) where is_default;
create trigger embedding_models_updated_at before update on embedding_models
  for each row execute function set_updated_at();

insert into settings (key, value, description) values
  ('chunk_size_tokens', '512', 'Target chunk size in tokens (a chatbot''s model_config.chunk_size_tokens may lower it)'),
  ('chunk_overlap_tokens', '77', 'Tokens shared by consecutive chunks (about 15%)'),
  ('chunk_prepend_title', 'true', 'Prepend the document title (and heading path) to each chunk''s embedded text'),
  ('ingest_debounce_seconds', '2', 'Edits to one document within this window coalesce into one ingest job'),
  ('max_document_bytes', '52428800', 'Largest source file or download ingested (bytes)'),
  ('pdf_timeout_seconds', '120', 'Per-document PDF extraction time limit'),
  ('embedding_cache_retention_days', '90', 'Embedding cache entries unused this long are purged');

-- ---------------------------------------------------------------------------
-- Enqueue ingestion: one add_jobs call per statement (transition tables), job key
-- per document so a burst of edits coalesces into one job (run_at is pushed back by
-- each edit: a debounce).
-- ---------------------------------------------------------------------------
create function enqueue_ingest_documents() returns trigger
language plpgsql set search_path from current as $$
declare
  debounce interval := make_interval(secs => coalesce((select (value #>> '{}')::numeric from settings where key = 'ingest_debounce_seconds'), 0));
  specs job_spec[];
begin
  if tg_op = 'INSERT' then
    select array_agg(row('ingest_document', json_build_object('document_id', n.id), null, now() + debounce,
                         5, 'ingest_document:' || n.id, 0, null)::job_spec)
      into specs
      from new_rows n
     where n.status = 'pending';
  else
    select array_agg(row('ingest_document', json_build_object('document_id', n.id), null, now() + debounce,
                         5, 'ingest_document:' || n.id, 0, null)::job_spec)
      into specs
      from new_rows n
      join old_rows o on o.id = n.id
     where (n.title, n.source_type, n.source_id, n.file_path, n.mime_type, n.content, n.source_url)
             is distinct from (o.title, o.source_type, o.source_id, o.file_path, o.mime_type, o.content, o.source_url)
        or (n.status = 'pending' and o.status is distinct from 'pending');
  end if;
  if specs is not null then
    perform add_jobs(specs);
  end if;
  return null;
end $$;

create trigger documents_enqueue_ingest_insert after insert on documents
  referencing new table as new_rows
  for each statement execute function enqueue_ingest_documents();
create trigger documents_enqueue_ingest_update after update on documents
  referencing old table as old_rows new table as new_rows
  for each statement execute function enqueue_ingest_documents();

-- Source edits make a document pending again, so readers and operators see that a
-- new version is on its way (the trigger above then enqueues it).
create function documents_mark_pending() returns trigger
language plpgsql set search_path from current as $$
begin
  if (new.title, new.source_type, new.source_id, new.file_path, new.mime_type, new.content, new.source_url)
       is distinct from (old.title, old.source_type, old.source_id, old.file_path, old.mime_type, old.content, old.source_url)
     and new.status is not distinct from old.status then
    new.status := 'pending';
  end if;
  return new;
end $$;
create trigger documents_mark_pending before update on documents
  for each row execute function documents_mark_pending();

-- ---------------------------------------------------------------------------
-- Retrieval
-- ---------------------------------------------------------------------------

-- Per-model HNSW indexes are partial expression indexes over embedding::<this type>
-- (pgvector needs a fixed dimension; halfvec above 2,000 dimensions), e.g.
--   create index on embeddings using hnsw ((embedding::vector(384)) vector_cosine_ops) where model = 'm';
-- The worker creates them (see src/ingest/model-index.ts); retrieval casts the same way.
create function embedding_cast(p_dimensions integer) returns text
language sql immutable as $$
  select case when p_dimensions > 2000 then format('halfvec(%s)', p_dimensions)
              else format('vector(%s)', p_dimensions) end
$$;

-- Top-k chunks for a chatbot: only documents linked to it through content_relationships
-- (chatbot -> document), using the model's HNSW index with iterative scans so the
-- filter still yields k rows. The query embedding must come from the chatbot's model.
create function match_chunks(
  p_chatbot_id bigint,
  p_query_embedding vector,
  p_k integer default 5,
  p_min_relevance double precision default 0
) returns table (
  chunk_id bigint, document_id bigint, title varchar, content text, metadata jsonb, similarity double precision
)
language plpgsql set search_path from current as $$
declare
  v_model text;
  v_dims integer;
  v_expr text;
  v_cast text;
begin
  select coalesce(cb.model_config ->> 'embedding_model', (select m.model from embedding_models m where m.is_default))
    into v_model
    from chatbots cb where cb.id = p_chatbot_id;
  if not found then
    raise exception 'chatbot % does not exist', p_chatbot_id using errcode = 'no_data_found';
  end if;
  if v_model is null then
    raise exception 'no embedding model: set chatbots.model_config.embedding_model or ingest a document first'
      using errcode = 'no_data_found';
  end if;
  select m.dimensions into v_dims from embedding_models m where m.model = v_model;
  if v_dims is null then
    raise exception 'embedding model "%" is not registered', v_model using errcode = 'no_data_found';
  end if;
  if vector_dims(p_query_embedding) <> v_dims then
    raise exception 'query embedding has % dimensions; model "%" has %', vector_dims(p_query_embedding), v_model, v_dims
      using errcode = 'data_exception';
  end if;
  v_cast := embedding_cast(v_dims);
  v_expr := format('(e.embedding::%s)', v_cast);
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', greatest(40, least(1000, p_k * 4))::text, true);
  return query execute format($q$
    select r.chunk_id, r.document_id, r.title, r.content, r.metadata, r.similarity
      from (
        select c.id as chunk_id, c.document_id,
               coalesce(nullif(d.title, ''), d.metadata #>> '{last_ingest,extracted_title}', '')::varchar as title,
               c.content, c.metadata,
               1 - (%1$s <=> $1::%2$s)::double precision as similarity,
               %1$s <=> $1::%2$s as distance
          from embeddings e
          join chunks c on c.id = e.chunk_id
          join documents d on d.id = c.document_id
         where e.model = %3$L
           and exists (select 1 from content_relationships cr
                        where cr.source_type = 'chatbot' and cr.source_id = $2
                          and cr.target_type = 'document' and cr.target_id = c.document_id)
         order by %1$s <=> $1::%2$s
         limit $3
      ) r
     where r.similarity >= $4
     order by r.distance
  $q$, v_expr, v_cast, v_model)
  using p_query_embedding, p_chatbot_id, p_k, p_min_relevance;
end $$;
