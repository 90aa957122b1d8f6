-- 0003: link unfurling. Previews are cached by normalised URL; inserting a `link` media
-- row without a preview enqueues unfurl_link (one add_jobs call per statement).

create table link_previews (
  url_key    varchar(2048) primary key,
  preview    jsonb not null,
  status     varchar(20) not null constraint link_previews_status_check check (status in ('ok', 'failed')),
  reason     varchar(100),
  fetched_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index idx_link_previews_expires on link_previews (expires_at);

insert into settings (key, value, description) values
  ('unfurl_cache_ttl_hours', '24', 'How long a link preview is reused before the page is fetched again'),
  ('unfurl_failure_ttl_minutes', '60', 'How long a failed unfurl is remembered before trying the URL again'),
  ('unfurl_max_bytes', '2097152', 'Bytes of a page read for its preview (the head is what matters)'),
  ('unfurl_timeout_seconds', '10', 'Time limit for fetching one page, redirects included');

create function enqueue_unfurl_links() returns trigger
language plpgsql set search_path from current as $$
declare
  specs job_spec[];
begin
  select array_agg(row('unfurl_link', json_build_object('media_id', n.id), null, now(),
                       3, 'unfurl_link:' || n.id, 0, null)::job_spec)
    into specs
    from new_rows n
   where n.media_type = 'link'
     and n.status = 'active'
     and (n.metadata is null or not (n.metadata ? 'unfurl'));
  if specs is not null then
    perform add_jobs(specs);
  end if;
  return null;
end $$;

create trigger media_enqueue_unfurl after insert on media
  referencing new table as new_rows
  for each statement execute function enqueue_unfurl_links();
