drop trigger if exists media_enqueue_unfurl on media;
drop function if exists enqueue_unfurl_links();
delete from settings where key in ('unfurl_cache_ttl_hours', 'unfurl_failure_ttl_minutes', 'unfurl_max_bytes', 'unfurl_timeout_seconds');
drop table if exists link_previews;
