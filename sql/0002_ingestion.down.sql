drop function if exists match_chunks(bigint, vector, integer, double precision);
drop function if exists embedding_cast(integer);
drop trigger if exists documents_mark_pending on documents;
drop function if exists documents_mark_pending();
drop trigger if exists documents_enqueue_ingest_insert on documents;
drop trigger if exists documents_enqueue_ingest_update on documents;
drop function if exists enqueue_ingest_documents();
delete from settings where key in ('chunk_size_tokens', 'chunk_overlap_tokens', 'chunk_prepend_title',
  'ingest_debounce_seconds', 'max_document_bytes', 'pdf_timeout_seconds', 'embedding_cache_retention_days');
drop table if exists embedding_models;
drop table if exists embedding_cache;
drop index if exists idx_chunks_document_hash;
alter table chunks drop column if exists content_hash, drop column if exists token_count;
alter table documents drop column if exists content, drop column if exists source_url, drop column if exists metadata,
  drop column if exists error_reason, drop column if exists error_message, drop column if exists ingested_at;
