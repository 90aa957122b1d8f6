-- 0001: the AI BotKit data model (seed 000, Phase 1 + Phase 2) in idiomatic PostgreSQL,
-- plus the worker-relevant tables of the sibling seeds (email queue, AI response cache).
--
-- The runner applies this inside one transaction with
--   search_path = <botkit schema>, <graphile-worker schema>, public
-- so names are unqualified here and functions capture that path (SET search_path FROM CURRENT).

create extension if not exists vector with schema public;

-- ---------------------------------------------------------------------------
-- Shared trigger functions
-- ---------------------------------------------------------------------------

-- MySQL's ON UPDATE CURRENT_TIMESTAMP: bump updated_at unless the statement set it itself.
create function set_updated_at() returns trigger
language plpgsql set search_path from current as $$
begin
  if new.updated_at is not distinct from old.updated_at then
    new.updated_at := now();
  end if;
  return new;
end $$;

-- ---------------------------------------------------------------------------
-- Templates (seed §3.1)
-- ---------------------------------------------------------------------------
create table templates (
  id                    bigint generated always as identity primary key,
  name                  varchar(255) not null check (length(btrim(name)) > 0),
  description           text,
  category              varchar(50) not null default 'general'
                        constraint templates_category_check
                        check (category in ('support', 'sales', 'marketing', 'education', 'general')),
  style                 jsonb,
  messages_template     jsonb,
  model_config          jsonb,
  conversation_starters jsonb check (conversation_starters is null or jsonb_typeof(conversation_starters) = 'array'),
  thumbnail             varchar(255),
  is_system             boolean not null default false,
  is_active             boolean not null default true,
  usage_count           integer not null default 0 check (usage_count >= 0),
  created_by            bigint,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now()
);
create index idx_templates_category on templates (category);
create index idx_templates_is_system on templates (is_system);
create index idx_templates_is_active on templates (is_active);
create index idx_templates_created_by on templates (created_by);
create trigger templates_updated_at before update on templates
  for each row execute function set_updated_at();

-- System templates cannot be deleted or modified (§7.1). Applying one to a chatbot
-- still counts its use, so usage_count (and the updated_at it bumps) may change.
create function protect_system_templates() returns trigger
language plpgsql set search_path from current as $$
begin
  if tg_op = 'DELETE' then
    if old.is_system then
      raise exception 'system template % ("%") cannot be deleted', old.id, old.name
        using errcode = 'integrity_constraint_violation',
              hint = 'Copy it into a new template to change it.';
    end if;
    return old;
  end if;
  if old.is_system and (
       (to_jsonb(new) - 'usage_count' - 'updated_at') is distinct from (to_jsonb(old) - 'usage_count' - 'updated_at')
     ) then
    raise exception 'system template % ("%") cannot be modified (only usage_count may change)', old.id, old.name
      using errcode = 'integrity_constraint_violation';
  end if;
  if not old.is_system and new.is_system then
    raise exception 'templates cannot be promoted to system templates'
      using errcode = 'integrity_constraint_violation';
  end if;
  return new;
end $$;
create trigger templates_protect_system before update or delete on templates
  for each row execute function protect_system_templates();

create function protect_system_templates_truncate() returns trigger
language plpgsql set search_path from current as $$
begin
  if exists (select 1 from templates where is_system) then
    raise exception 'templates holds system templates and cannot be truncated'
      using errcode = 'integrity_constraint_violation';
  end if;
  return null;
end $$;
create trigger templates_protect_truncate before truncate on templates
  for each statement execute function protect_system_templates_truncate();

-- ---------------------------------------------------------------------------
-- Chatbots (Phase 1 + §4.3 template_id)
-- ---------------------------------------------------------------------------
create table chatbots (
  id                bigint generated always as identity primary key,
  name              varchar(255) not null,
  active            boolean not null default true,
  avatar            varchar(500),
  feedback          boolean not null default false,
  style             jsonb,
  messages_template jsonb,
  model_config      jsonb,
  -- Soft link (§6.3): deleting a template keeps the chatbot and its copied config.
  template_id       bigint references templates (id) on delete set null,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);
create index idx_chatbots_template on chatbots (template_id);
create index idx_chatbots_active on chatbots (active);
create trigger chatbots_updated_at before update on chatbots
  for each row execute function set_updated_at();

-- ---------------------------------------------------------------------------
-- Documents, metadata, chunks, embeddings (Phase 1, §6)
-- ---------------------------------------------------------------------------
create table documents (
  id          bigint generated always as identity primary key,
  title       varchar(255) not null default '',
  -- text, html, markdown, pdf, url, file, or a WordPress post type (post, page, product, sfwd-courses, ...)
  source_type varchar(50) not null check (source_type ~ '^[a-z][a-z0-9_-]*$'),
  source_id   bigint,
  file_path   varchar(500),
  mime_type   varchar(100),
  status      varchar(20) not null default 'pending'
              constraint documents_status_check
              check (status in ('pending', 'processing', 'completed', 'failed')),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index idx_documents_source on documents (source_type, source_id);
create index idx_documents_status on documents (status);
create trigger documents_updated_at before update on documents
  for each row execute function set_updated_at();

create table document_metadata (
  id          bigint generated always as identity primary key,
  document_id bigint not null references documents (id) on delete cascade,
  meta_key    varchar(255) not null,
  meta_value  jsonb,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (document_id, meta_key)
);
create index idx_document_metadata_key on document_metadata (meta_key);
create trigger document_metadata_updated_at before update on document_metadata
  for each row execute function set_updated_at();

create table chunks (
  id          bigint generated always as identity primary key,
  document_id bigint not null references documents (id) on delete cascade,
  content     text not null check (length(content) > 0),
  chunk_index integer not null check (chunk_index >= 0),
  metadata    jsonb not null default '{}',
  created_at  timestamptz not null default now(),
  -- Deferred so a re-ingest can renumber surviving chunks inside one transaction.
  constraint chunks_document_index_key unique (document_id, chunk_index) deferrable initially deferred
);

-- One chunk may carry embeddings from several models (§6.2): one row per (chunk, model).
-- `embedding` is an unconstrained pgvector value; `dimensions` pins its size per row and
-- per-model HNSW indexes are partial expression indexes over embedding::vector(N)
-- (halfvec(N) above 2,000 dimensions), created by the worker when a model is first used.
create table embeddings (
  id         bigint generated always as identity primary key,
  chunk_id   bigint not null references chunks (id) on delete cascade,
  model      varchar(200) not null,
  dimensions integer not null check (dimensions between 1 and 16000),
  embedding  vector not null,
  created_at timestamptz not null default now(),
  constraint embeddings_chunk_model_key unique (chunk_id, model),
  constraint embeddings_vector_dims_check check (vector_dims(embedding) = dimensions)
);
create index idx_embeddings_model on embeddings (model);

-- ---------------------------------------------------------------------------
-- Chatbot <-> document links (§6.2) and other polymorphic relationships
-- ---------------------------------------------------------------------------
create table content_relationships (
  id                bigint generated always as identity primary key,
  source_type       varchar(50) not null,
  source_id         bigint not null,
  target_type       varchar(50) not null,
  target_id         bigint not null,
  relationship_type varchar(50) not null default 'knowledge_base',
  metadata          jsonb,
  created_at        timestamptz not null default now(),
  constraint content_relationships_unique unique (source_type, source_id, target_type, target_id, relationship_type)
);
create index idx_content_relationships_target on content_relationships (target_type, target_id);

-- Polymorphic links have no foreign keys; these keep them from dangling.
create function delete_relationships_of_deleted() returns trigger
language plpgsql set search_path from current as $$
begin
  delete from content_relationships r
   using gone g
   where (r.source_type = tg_argv[0] and r.source_id = g.id)
      or (r.target_type = tg_argv[0] and r.target_id = g.id);
  return null;
end $$;
create trigger documents_delete_relationships after delete on documents
  referencing old table as gone
  for each statement execute function delete_relationships_of_deleted('document');
create trigger chatbots_delete_relationships after delete on chatbots
  referencing old table as gone
  for each statement execute function delete_relationships_of_deleted('chatbot');

-- ---------------------------------------------------------------------------
-- Conversations and messages (Phase 1 + §4.1, §4.2)
-- ---------------------------------------------------------------------------
create table conversations (
  id          bigint generated always as identity primary key,
  chatbot_id  bigint not null references chatbots (id) on delete cascade,
  user_id     bigint,
  session_id  varchar(100),
  guest_ip    inet,
  is_archived boolean not null default false,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index idx_conversations_chatbot on conversations (chatbot_id);
create index idx_conversations_session on conversations (session_id);
create index idx_conversations_user_updated on conversations (user_id, updated_at desc);
create index idx_conversations_archived on conversations (is_archived);
create index idx_conversations_user_archived on conversations (user_id, is_archived, updated_at desc);
create trigger conversations_updated_at before update on conversations
  for each row execute function set_updated_at();

create table messages (
  id              bigint generated always as identity primary key,
  conversation_id bigint not null references conversations (id) on delete cascade,
  role            varchar(20) not null
                  constraint messages_role_check
                  check (role in ('user', 'assistant', 'system', 'tool')),
  content         text not null,
  metadata        jsonb,
  created_at      timestamptz not null default now(),
  -- MySQL FULLTEXT ft_content: a generated tsvector. 'simple' = no stemming and no
  -- stop words, like MySQL natural-language mode, and safe for any language.
  content_tsv     tsvector generated always as (to_tsvector('simple', content)) stored
);
create index idx_messages_conversation on messages (conversation_id);
create index idx_messages_convo_created on messages (conversation_id, created_at desc);
create index ft_messages_content on messages using gin (content_tsv);

-- Seed §10.2 (fulltext search with filters). MySQL natural-language mode matches any of
-- the words and ranks by relevance, so the query terms are OR-ed here.
create function search_messages(
  p_user_id bigint, p_query text, p_from timestamptz, p_to timestamptz,
  p_limit integer default 20, p_offset integer default 0
) returns table (
  id bigint, conversation_id bigint, role varchar, content text, created_at timestamptz,
  relevance real, chatbot_id bigint, chatbot_name varchar
)
language sql stable set search_path from current as $$
  with q as (
    select nullif(replace(plainto_tsquery('simple', p_query)::text, ' & ', ' | '), '')::tsquery as tsq
  )
  select m.id, m.conversation_id, m.role, m.content, m.created_at,
         ts_rank_cd(m.content_tsv, q.tsq) as relevance,
         c.chatbot_id, cb.name as chatbot_name
    from q
    join messages m on m.content_tsv @@ q.tsq
    join conversations c on m.conversation_id = c.id
    join chatbots cb on c.chatbot_id = cb.id
   where c.user_id = p_user_id
     and m.created_at between p_from and p_to
   order by relevance desc, m.created_at desc
   limit p_limit offset p_offset
$$;

-- ---------------------------------------------------------------------------
-- Media (§3.2) and its lifecycle (§7.2)
-- ---------------------------------------------------------------------------
create table media (
  id              bigint generated always as identity primary key,
  message_id      bigint references messages (id) on delete set null,
  conversation_id bigint references conversations (id) on delete set null,
  user_id         bigint not null,
  media_type      varchar(20) not null
                  constraint media_type_check
                  check (media_type in ('image', 'video', 'document', 'link')),
  file_name       varchar(255) not null,
  file_path       varchar(500) not null,
  file_url        varchar(500) not null,
  mime_type       varchar(100) not null,
  file_size       bigint not null default 0 check (file_size >= 0),
  metadata        jsonb,
  status          varchar(20) not null default 'active'
                  constraint media_status_check
                  check (status in ('active', 'deleted', 'orphaned')),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create index idx_media_message on media (message_id);
create index idx_media_conversation on media (conversation_id);
create index idx_media_user on media (user_id);
create index idx_media_type on media (media_type);
create index idx_media_status on media (status);
create index idx_media_created on media (created_at);
create index idx_media_orphan on media (status, created_at);
create trigger media_updated_at before update on media
  for each row execute function set_updated_at();

-- Deleting a message or a conversation must not leak files: the media row stays,
-- marked 'deleted' with its links cleared, until the purge job removes file and row.
-- These run before the delete, so the foreign keys' SET NULL finds nothing left to do.
create function mark_media_deleted() returns trigger
language plpgsql set search_path from current as $$
begin
  if tg_table_name = 'messages' then
    update media
       set status = 'deleted', message_id = null,
           metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object('deleted_message_id', old.id)
     where message_id = old.id;
  else
    update media
       set status = 'deleted', message_id = null, conversation_id = null,
           metadata = coalesce(metadata, '{}'::jsonb) || jsonb_build_object('deleted_conversation_id', old.id)
     where conversation_id = old.id;
  end if;
  return old;
end $$;
create trigger messages_mark_media_deleted before delete on messages
  for each row execute function mark_media_deleted();
create trigger conversations_mark_media_deleted before delete on conversations
  for each row execute function mark_media_deleted();

-- ---------------------------------------------------------------------------
-- Analytics, WordPress sync queue, user interactions
-- ---------------------------------------------------------------------------
create table analytics (
  id         bigint generated always as identity primary key,
  chatbot_id bigint references chatbots (id) on delete cascade,
  event_type varchar(50) not null,
  event_data jsonb,
  created_at timestamptz not null default now()
);
create index idx_analytics_chatbot_created on analytics (chatbot_id, created_at desc);
create index idx_analytics_event_created on analytics (event_type, created_at desc);

create table wp_content (
  id         bigint generated always as identity primary key,
  post_id    bigint not null,
  post_type  varchar(50) not null,
  status     varchar(20) not null default 'pending'
             constraint wp_content_status_check
             check (status in ('pending', 'processing', 'completed', 'failed')),
  action     varchar(20) not null
             constraint wp_content_action_check
             check (action in ('create', 'update', 'delete')),
  priority   integer not null default 10,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index idx_wp_content_post on wp_content (post_type, post_id);
create index idx_wp_content_queue on wp_content (status, priority desc, created_at);
create trigger wp_content_updated_at before update on wp_content
  for each row execute function set_updated_at();

create table user_interactions (
  id               bigint generated always as identity primary key,
  user_id          bigint not null,
  session_id       varchar(100),
  interaction_type varchar(50) not null
                   constraint user_interactions_type_check
                   check (interaction_type in ('page_view', 'product_view', 'course_view', 'search', 'add_to_cart',
                                               'purchase', 'enrollment', 'recommendation_click',
                                               'recommendation_dismiss', 'chat_inquiry')),
  item_type        varchar(50) not null
                   constraint user_interactions_item_type_check
                   check (item_type in ('product', 'course', 'lesson', 'post', 'page', 'search_query')),
  item_id          bigint not null check (item_id > 0),
  chatbot_id       bigint references chatbots (id) on delete set null,
  metadata         jsonb,
  created_at       timestamptz not null default now()
);
create index idx_user_interactions_user_time on user_interactions (user_id, created_at desc);
create index idx_user_interactions_item on user_interactions (item_type, item_id);
create index idx_user_interactions_item_type on user_interactions (item_type, item_id, created_at desc);
create index idx_user_interactions_type on user_interactions (interaction_type);
create index idx_user_interactions_type_time on user_interactions (interaction_type, created_at desc);
create index idx_user_interactions_chatbot on user_interactions (chatbot_id);
create index idx_user_interactions_session on user_interactions (session_id);
create index idx_user_interactions_created on user_interactions (created_at);

-- ---------------------------------------------------------------------------
-- Sibling seeds: email queue (001) and AI response cache (003)
-- ---------------------------------------------------------------------------
create table email_queue (
  id              bigint generated always as identity primary key,
  user_id         bigint,
  email_type      varchar(50) not null,
  recipient_email varchar(255) not null,
  subject         varchar(255) not null,
  body            text not null,
  template_data   jsonb not null default '{}',
  status          varchar(20) not null default 'pending'
                  constraint email_queue_status_check
                  check (status in ('pending', 'sending', 'sent', 'failed')),
  sent_at         timestamptz,
  error_message   text,
  retry_count     integer not null default 0 check (retry_count >= 0),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create index idx_email_queue_user on email_queue (user_id);
create index idx_email_queue_status on email_queue (status);
create index idx_email_queue_type on email_queue (email_type);
create index idx_email_queue_created on email_queue (created_at);
create trigger email_queue_updated_at before update on email_queue
  for each row execute function set_updated_at();

create table ai_response_cache (
  id         bigint generated always as identity primary key,
  cache_key  varchar(255) not null unique,
  query      text not null,
  response   text not null,
  model_used varchar(100) not null,
  metadata   jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index idx_ai_response_cache_expires on ai_response_cache (expires_at);
create trigger ai_response_cache_updated_at before update on ai_response_cache
  for each row execute function set_updated_at();

-- ---------------------------------------------------------------------------
-- Settings: the WordPress options of §8 (without the ai_botkit_ prefix)
-- ---------------------------------------------------------------------------
create table settings (
  key         varchar(100) primary key check (key ~ '^[a-z][a-z0-9_]*$'),
  value       jsonb not null,
  description text,
  updated_at  timestamptz not null default now()
);
create trigger settings_updated_at before update on settings
  for each row execute function set_updated_at();

insert into settings (key, value, description) values
  ('history_per_page', '10', 'Default history pagination'),
  ('search_per_page', '20', 'Default search pagination'),
  ('max_media_size', '10485760', 'Max upload size (bytes)'),
  ('allowed_image_types', '["image/jpeg","image/png","image/gif","image/webp"]', 'Allowed image MIME types'),
  ('allowed_video_types', '["video/mp4","video/webm"]', 'Allowed video MIME types'),
  ('allowed_doc_types', '["application/pdf","text/plain"]', 'Allowed document types'),
  ('media_cleanup_days', '30', 'Days before orphan cleanup'),
  ('recommendation_enabled', 'true', 'Enable recommendations'),
  ('recommendation_limit', '5', 'Max recommendations per request'),
  ('interaction_retention_days', '90', 'Interaction data retention'),
  ('pdf_paper_size', '"letter"', 'Default PDF size'),
  ('pdf_include_branding', 'true', 'Include site branding in PDF'),
  ('templates_installed', 'true', 'System templates installed flag (installed by migration 0001)');

-- ---------------------------------------------------------------------------
-- Jobs the worker rejected for good (invalid payloads, permanent failures)
-- ---------------------------------------------------------------------------
create table job_failures (
  id              bigint generated always as identity primary key,
  task_identifier varchar(100) not null,
  job_id          bigint,
  payload         jsonb,
  reason          varchar(50) not null,
  error           text not null,
  issues          jsonb,
  created_at      timestamptz not null default now()
);
create index idx_job_failures_task_created on job_failures (task_identifier, created_at desc);

-- ---------------------------------------------------------------------------
-- System templates (§3.1): the five categories and their pre-built templates
-- ---------------------------------------------------------------------------
insert into templates (name, description, category, style, messages_template, model_config, conversation_starters, is_system)
values
  ('FAQ Bot', 'Answers frequently asked questions from your knowledge base.', 'support',
   '{"primaryColor":"#0066cc","position":"bottom-right"}',
   '{"greeting":"Hi! Ask me anything about our products and policies.","fallback":"I''m sorry, I don''t have information about that. Would you like to speak with a human?"}',
   '{"model":"gpt-4o-mini","temperature":0.3,"max_tokens":600,"context_length":5,"min_chunk_relevance":0.2,"tone":"professional"}',
   '[{"text":"What can you help me with?","icon":"help-circle"},{"text":"What is your return policy?","icon":"rotate-ccw"}]', true),
  ('Customer Support', 'Helps customers solve problems and hands off to a human when needed.', 'support',
   '{"primaryColor":"#0a7c4a","position":"bottom-right"}',
   '{"greeting":"Hello! How can I help you today?","handoff":"Let me connect you with a human agent."}',
   '{"model":"gpt-4o-mini","temperature":0.5,"max_tokens":800,"context_length":8,"min_chunk_relevance":0.2,"tone":"empathetic"}',
   '[{"text":"I need support","icon":"headphones"},{"text":"Track my order","icon":"truck"}]', true),
  ('Product Advisor', 'Guides shoppers to the right WooCommerce products.', 'sales',
   '{"primaryColor":"#b3541e","position":"bottom-right"}',
   '{"greeting":"Looking for something? Tell me what you need and I''ll suggest products."}',
   '{"model":"gpt-4o-mini","temperature":0.7,"max_tokens":800,"context_length":5,"min_chunk_relevance":0.25,"tone":"friendly"}',
   '[{"text":"Tell me about your products","icon":"shopping-bag"},{"text":"What''s on sale?","icon":"tag"}]', true),
  ('Lead Capture', 'Engages visitors and collects contact details for follow-up.', 'marketing',
   '{"primaryColor":"#6b3fa0","position":"bottom-right"}',
   '{"greeting":"Hi there! Can I help you find what you''re looking for?"}',
   '{"model":"gpt-4o-mini","temperature":0.7,"max_tokens":500,"context_length":5,"min_chunk_relevance":0.2,"tone":"enthusiastic"}',
   '[{"text":"Get a quote","icon":"file-text"},{"text":"Book a demo","icon":"calendar"}]', true),
  ('Course Advisor', 'Helps learners find and progress through LearnDash courses.', 'education',
   '{"primaryColor":"#1e6bb8","position":"bottom-right"}',
   '{"greeting":"Welcome! Which topic would you like to learn about?"}',
   '{"model":"gpt-4o-mini","temperature":0.5,"max_tokens":800,"context_length":6,"min_chunk_relevance":0.2,"tone":"encouraging"}',
   '[{"text":"Which course should I start with?","icon":"book-open"},{"text":"Where did I leave off?","icon":"bookmark"}]', true),
  ('Default', 'A general-purpose assistant.', 'general',
   '{"primaryColor":"#0066cc","secondaryColor":"#f0f4f8","position":"bottom-right"}',
   '{"greeting":"Hello! How can I help you today?","fallback":"I''m sorry, I don''t have information about that.","error":"Something went wrong. Please try again."}',
   '{"model":"gpt-4o-mini","temperature":0.7,"max_tokens":1000,"context_length":5,"min_chunk_relevance":0.2,"personality":"You are a helpful and friendly assistant.","tone":"professional"}',
   '[{"text":"What can you help me with?","icon":"help-circle"}]', true);
