// The project's task list: one module per task, registered here.
import type { TaskList } from "graphile-worker";
import { toGraphileTask, type TaskContext, type TaskDefinition } from "./define.ts";
import { ingestDocumentTask } from "./ingest_document.ts";
import { purgeEmbeddingCacheTask } from "./purge_embedding_cache.ts";
import { purgeExpiredCaches } from "./purge_expired_caches.ts";
import { unfurlLinkTask } from "./unfurl_link.ts";

export const taskDefinitions: TaskDefinition[] = [ingestDocumentTask, unfurlLinkTask, purgeExpiredCaches, purgeEmbeddingCacheTask];

export function buildTaskList(ctx: TaskContext, definitions: TaskDefinition[] = taskDefinitions): TaskList {
  return Object.fromEntries(definitions.map((def) => [def.name, toGraphileTask(def, ctx)]));
}
