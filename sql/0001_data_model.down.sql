-- Down path of 0001: drops everything 0001 created (the vector extension stays: it is shared).
drop table if exists job_failures, settings, ai_response_cache, email_queue, user_interactions,
  wp_content, analytics, media, messages, conversations, content_relationships, embeddings,
  chunks, document_metadata, documents, chatbots, templates cascade;
drop function if exists search_messages(bigint, text, timestamptz, timestamptz, integer, integer);
drop function if exists mark_media_deleted();
drop function if exists delete_relationships_of_deleted();
drop function if exists protect_system_templates_truncate();
drop function if exists protect_system_templates();
drop function if exists set_updated_at();
